"""The benchmark's own databases: where they live, creating and wiping them, the dataset record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

from app.config import PROJECT_ROOT

SQLITE_URL = "sqlite:///var/bench.db"
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/guidecat_bench"
DATASET_FILE = PROJECT_ROOT / "var" / "bench-dataset.json"


def display(url: str) -> str:
    """Return `url` fit to print and to key records by (no password)."""
    return make_url(url).render_as_string(hide_password=True)


def sqlite_path(url: str) -> Path | None:
    """Return the file of a SQLite URL, resolved as app.db.engine resolves it; None for a server."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    path = Path(parsed.database)
    return path if path.is_absolute() else PROJECT_ROOT / path


def prepare(url: str, *, force: bool) -> None:
    """Make sure the database can be created or opened; with `force`, start it empty."""
    path = sqlite_path(url)
    if path is not None:
        if force:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise SystemExit(f"unsupported database: {display(url)}")
    _ensure_postgres_database(parsed, force=force)


def _ensure_postgres_database(parsed: URL, *, force: bool) -> None:
    # CREATE/DROP DATABASE cannot run inside a transaction, hence a separate autocommit connection
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    name = sql.Identifier(str(parsed.database))
    with psycopg.connect(admin, autocommit=True) as conn:
        if force:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)).fetchone()
        if exists is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def read_dataset(url: str) -> dict[str, Any] | None:
    """Return what generate.py recorded about the dataset in `url`, or None."""
    if not DATASET_FILE.is_file():
        return None
    records: dict[str, Any] = json.loads(DATASET_FILE.read_text(encoding="utf-8"))
    found: dict[str, Any] | None = records.get(display(url))
    return found


def write_dataset(url: str, record: dict[str, Any]) -> None:
    """Record what generate.py wrote to `url`, beside the records of the other databases."""
    records: dict[str, Any] = {}
    if DATASET_FILE.is_file():
        records = json.loads(DATASET_FILE.read_text(encoding="utf-8"))
    records[display(url)] = record
    DATASET_FILE.parent.mkdir(parents=True, exist_ok=True)
    DATASET_FILE.write_text(json.dumps(records, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def forget_dataset(url: str) -> None:
    """Drop the record of `url` (its database is being rebuilt)."""
    if DATASET_FILE.is_file():
        records = json.loads(DATASET_FILE.read_text(encoding="utf-8"))
        if records.pop(display(url), None) is not None:
            DATASET_FILE.write_text(
                json.dumps(records, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
            )
