"""What the `guidecat` command modules share: a command's type, a session per command, the import cap."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator

from sqlalchemy.orm import Session

from app.config import Settings

Command = Callable[[argparse.Namespace, Settings], int]
CLI_MAX_IMPORT_BYTES = 2 * 1024**3  # the command line runs on the server; a province file is ~130 MB


def session_for(settings: Settings) -> Iterator[Session]:
    """Yield one session on the settings' database (a generator: `for session in session_for(…)`)."""
    from app.db.engine import make_engine, make_sessionmaker

    engine = make_engine(settings.database_url)
    try:
        with make_sessionmaker(engine)() as session:
            yield session
    finally:
        engine.dispose()


def safe_url(url: str) -> str:
    """Return `url` with its password hidden, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
