"""Fresh copies of a benchmark database, so that every run which writes starts from the same state.

SQLite files are copied with the backup API (consistent even if someone reads the source);
PostgreSQL databases with CREATE DATABASE … TEMPLATE, a file-level copy on the server. Either
way the copy is migrated to head: the source may predate the newest migration. A PostgreSQL
copy is then ANALYZEd: autovacuum is off on this server, and one_catalog.py does not analyze,
so without it the planner guesses row counts for a 650,000-row table and plans accordingly.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import benchdb
import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

from app.db.migrate import upgrade


def copy_url(source: str, purpose: str) -> str:
    """Return the URL of the copy of `source` for `purpose`: a file beside it, or a database on its server."""
    path = benchdb.sqlite_path(source)
    if path is not None:
        return f"sqlite:///{path.with_name(f'{path.stem}-{purpose}.db')}"
    parsed = make_url(source)
    return parsed.set(database=f"{parsed.database}_{purpose}").render_as_string(hide_password=False)


def make_copy(source: str, target: str) -> None:
    """Make `target` a fresh copy of `source`, dropping whatever `target` held, and migrate it."""
    drop_copy(target)
    source_path, target_path = benchdb.sqlite_path(source), benchdb.sqlite_path(target)
    if source_path is not None and target_path is not None:
        _sqlite_copy(source_path, target_path)
    else:
        # a template must have no other session: the caller disposes its engines on `source` first
        _admin(target, "CREATE DATABASE {} TEMPLATE {}", make_url(target), make_url(source))
    upgrade(target)
    if target_path is None:
        analyze(target)


def analyze(url: str) -> None:
    """Refresh the PostgreSQL planner's statistics of the database at `url`."""
    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute("ANALYZE")


def drop_copy(target: str) -> None:
    """Remove the copy `target` if it exists."""
    path = benchdb.sqlite_path(target)
    if path is not None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    _admin(target, "DROP DATABASE IF EXISTS {} WITH (FORCE)", make_url(target))


def _sqlite_copy(source: Path, target: Path) -> None:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def _admin(url: str, statement: str, *databases: URL) -> None:
    # CREATE/DROP DATABASE cannot run inside a transaction: a separate autocommit connection
    admin = make_url(url).set(drivername="postgresql", database="postgres")
    names = [sql.Identifier(str(d.database)) for d in databases]
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(sql.SQL(statement).format(*names))
