"""Engines and sessions: SQLite (WAL, foreign keys on) by default, PostgreSQL through psycopg 3."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from app.config import PROJECT_ROOT
from app.db.on_commit import BACKGROUND_WORK


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Return an engine for `url`; a SQLite file's folder is created, relative paths start at the project."""
    parsed = make_url(url)
    # More connections than the threadpool runs requests at once (40), so a request never
    # waits for a connection that another request in the same process is holding.
    kwargs = {"pool_size": 10, "max_overflow": 40, **kwargs}
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True, **kwargs)
    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database)
        if not path.is_absolute():
            path = PROJECT_ROOT / path
        path.parent.mkdir(parents=True, exist_ok=True)
        parsed = parsed.set(database=str(path))
    engine = create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_sessionmaker(engine: Engine, *, background_work: bool = False) -> sessionmaker[Session]:
    """Return the session factory the app and the CLI use; objects stay usable after commit.

    With `background_work` (the app's), work registered to follow a commit runs out of the
    request's way (see app.db.on_commit).
    """
    return sessionmaker(engine, expire_on_commit=False, info={BACKGROUND_WORK: background_work})
