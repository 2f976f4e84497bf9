"""Running the Alembic migrations from code (the CLI, the tests and `make run`)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

from app.config import PROJECT_ROOT


def alembic_config(database_url: str, connection: Connection | None = None) -> Config:
    """Return the Alembic configuration for `database_url` (or an open `connection`)."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the database at `database_url` up to `revision`."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    """Migrate the database at `database_url` down to `revision`."""
    command.downgrade(alembic_config(database_url), revision)
