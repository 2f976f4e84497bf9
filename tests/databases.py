"""The suite's own databases: SQLite files, and PostgreSQL databases on TEST_DATABASE_URL."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url

from app.db.models import Base

SERVER_URL = os.environ.get("TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", "postgresql"] if SERVER_URL else ["sqlite"]


def create_database(backend: str, name: str, folder: Path) -> str:
    """Return the URL of a new empty database called `name` (an unreachable server fails loudly)."""
    if backend == "sqlite":
        path = folder / f"{name}.db"
        path.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    server = make_url(SERVER_URL)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


def drop_database(backend: str, url: str) -> None:
    """Drop a database made by `create_database`."""
    if backend == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(make_url(url).database + suffix).unlink(missing_ok=True)  # type: ignore[operator]
        return
    name = make_url(url).database
    admin = create_engine(make_url(SERVER_URL), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def empty_tables(engine: Engine) -> None:
    """Delete every row of every table the models know (the schema stays)."""
    tables = [t.name for t in Base.metadata.sorted_tables]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            return
        # Audit events are append-only by trigger; the suite's own cleanup lifts it for a moment.
        conn.execute(text("DROP TRIGGER IF EXISTS audit_events_no_delete"))
        for name in reversed(tables):
            conn.execute(text(f"DELETE FROM {name}"))
        conn.execute(
            text(
                "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
                "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END"
            )
        )
        if "sqlite_sequence" in inspect(conn).get_table_names():
            conn.execute(text("DELETE FROM sqlite_sequence"))


def checksum(engine: Engine) -> str:
    """Return a digest of every row of every table: equal digests, unchanged database."""
    import hashlib

    from sqlalchemy import select

    digest = hashlib.sha256()
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            digest.update(f"{table.name}:{len(rows)}:{rows!r}".encode())
    return digest.hexdigest()
