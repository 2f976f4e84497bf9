"""Writing the search index, for both databases (searching it: `search_query`).

SQLite: two contentless FTS5 tables keyed by the entry id, `search_trigram` (trigram
tokenizer over the four searched fields, for terms of 3+ characters) and `search_grams`
(bigram tokens, for terms of 1–2 characters). They are created here, not by a migration:
a virtual table has no model, so the migration-versus-models check would flag it.
PostgreSQL: the same two texts in `search_entries` itself, under a pg_trgm GIN index and a
tsvector GIN index. A version's entries take consecutive ids, in code order.
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, select, text, tuple_
from sqlalchemy.orm import Session

from app.catalog import search_text
from app.catalog.search_text import Keys
from app.db import queries
from app.db.models import Department, Node, NodeRevision, SearchEntry, SearchVersion

_PG_INDEXES = (  # as migration 0007 creates them
    "CREATE INDEX ix_search_entries_search_text ON search_entries USING gin (search_text gin_trgm_ops) "
    "WITH (fastupdate = off)",
    "CREATE INDEX ix_search_entries_grams ON search_entries USING gin (grams) WITH (fastupdate = off)",
)
_INDEXER_LOCK_KEY = int.from_bytes(b"guidecat")  # this app's advisory lock on a shared server
ENTRY_COLUMNS = (
    "id", "version_id", "catalog_id", "node_id", "uid", "level", "code", "name", "description",
    "class_code", "type_code", "type_uid", "type_name", "path", "department_code", "department_name",
    "pinyin", "initials",
)  # fmt: skip
_SQLITE_INSERT = (
    f"INSERT INTO search_entries ({', '.join(ENTRY_COLUMNS)}) VALUES ({', '.join('?' * len(ENTRY_COLUMNS))})"
)


def dialect(session: Session) -> str:
    """Return the name of the session's database dialect."""
    return session.get_bind().dialect.name


@contextmanager
def bulk_load(session: Session) -> Iterator[None]:
    """Around writing the whole index: PostgreSQL builds its GIN indexes once at the end (far
    faster than row by row, and no pending list left to scan); SQLite merges its FTS5 segments."""
    postgres = dialect(session) == "postgresql"
    if postgres:
        session.execute(text("DROP INDEX IF EXISTS ix_search_entries_search_text"))
        session.execute(text("DROP INDEX IF EXISTS ix_search_entries_grams"))
    yield
    if postgres:
        session.execute(text(_PG_INDEXES[0]))
        session.execute(text(_PG_INDEXES[1]))
        return
    for table in ("search_trigram", "search_grams"):
        session.execute(text(f"INSERT INTO {table}({table}) VALUES ('optimize')"))


@contextmanager
def one_indexer(session: Session, *, waiting: Callable[[], None] = lambda: None) -> Iterator[None]:
    """Hold, across processes, the lock that lets one indexer at a time write entries.

    An indexer commits in batches, so a table lock taken in one transaction would not keep
    the ids of a version consecutive: PostgreSQL takes a session advisory lock on a
    connection of its own, SQLite an exclusive flock on a file beside the database. When
    another indexer holds it, `waiting` is called before this one waits its turn.
    """
    bind = session.get_bind()
    url = bind.engine.url
    if url.get_backend_name() == "postgresql":
        with bind.engine.connect() as conn:
            key = {"key": _INDEXER_LOCK_KEY}
            if not conn.execute(text("SELECT pg_try_advisory_lock(:key)"), key).scalar_one():
                waiting()
                conn.execute(text("SELECT pg_advisory_lock(:key)"), key)
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _INDEXER_LOCK_KEY})
                conn.commit()
        return
    database = url.database or ":memory:"
    if database == ":memory:" or database.startswith("file:"):  # no other process can open it
        yield
        return
    with open(f"{database}.search-lock", "a+b") as lock_file:
        try:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            waiting()
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)  # released when the file closes
        yield


def pause_merging(session: Session) -> None:
    """SQLite: stop FTS5 merging index segments inside the writes (a merge can hold the write
    lock for ~100 ms); `merge_step` does that work afterwards in small steps. Persistent."""
    if dialect(session) == "sqlite" and has_fts(session):
        for table in ("search_trigram", "search_grams"):
            session.execute(text(f"INSERT INTO {table}({table}, rank) VALUES ('automerge', 0)"))


def merge_step(session: Session, pages: int = 64) -> bool:
    """SQLite: merge up to `pages` pages of each FTS5 table's segments; return whether work is left."""
    if dialect(session) != "sqlite" or not has_fts(session):
        return False
    raw = session.connection().connection.driver_connection
    left = False
    for table in ("search_trigram", "search_grams"):
        before = raw.total_changes  # type: ignore[union-attr]
        session.execute(
            text(f"INSERT INTO {table}({table}, rank) VALUES ('merge', :pages)"), {"pages": pages}
        )
        left |= raw.total_changes - before >= 2  # type: ignore[union-attr]  # FTS5's "more to do" signal
    return left


def has_fts(session: Session) -> bool:
    """Return whether SQLite's FTS5 tables exist (nothing was ever indexed otherwise)."""
    found = session.execute(text("SELECT count(*) FROM sqlite_master WHERE name = 'search_grams'")).scalar()
    return bool(found)


@dataclass(frozen=True, slots=True)
class SourceNode:
    """A node of a version as the indexer reads it (no attributes: their JSON is costly to decode)."""

    node_id: int
    uid: str
    parent_id: int | None
    level: int
    code: str
    name: str
    description: str
    department_code: str | None
    department_name: str | None


def version_nodes(session: Session, catalog_id: int, seq: int, *, batch: int = 5000) -> Iterator[SourceNode]:
    """Yield every node of version `seq` in (code, node id) order, read in keyset batches."""
    r = NodeRevision
    stmt = (
        select(
            r.node_id,
            Node.uid,
            r.parent_id,
            r.level,
            r.code,
            r.name,
            r.description,
            Department.code,
            Department.name,
        )
        .join(Node, Node.id == r.node_id)
        .outerjoin(Department, Department.id == r.department_id)
        .where(r.catalog_id == catalog_id, queries.in_version(seq))
        .order_by(r.code, r.node_id)
        .limit(batch)
    )
    after: tuple[str, int] | None = None
    while True:
        page = stmt if after is None else stmt.where(tuple_(r.code, r.node_id) > tuple_(*after))
        rows = [SourceNode(*row) for row in session.execute(page)]
        yield from rows
        if len(rows) < batch:
            return
        after = (rows[-1].code, rows[-1].node_id)


def next_id(session: Session) -> int:
    """Return the first free entry id, holding the lock that keeps a version's ids consecutive."""
    if dialect(session) == "postgresql":
        session.execute(text("LOCK TABLE search_entries IN EXCLUSIVE MODE"))
    return int(session.scalar(select(func.coalesce(func.max(SearchEntry.id), 0))) or 0) + 1


def insert_entries(
    session: Session, rows: Sequence[dict[str, Any]], texts: Sequence[tuple[str, str]]
) -> None:
    """Write entries (dicts of ENTRY_COLUMNS) and their (trigram text, bigram tokens), row for row."""
    if not rows:
        return
    if dialect(session) == "postgresql":
        _copy_postgres(session.connection(), rows, texts)
        return
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.executemany(_SQLITE_INSERT, [tuple(r[c] for c in ENTRY_COLUMNS) for r in rows])
    ids = [r["id"] for r in rows]
    cursor.executemany(
        "INSERT INTO search_trigram(rowid, t) VALUES (?, ?)",
        [(i, t) for i, (t, _) in zip(ids, texts, strict=True)],
    )
    cursor.executemany(
        "INSERT INTO search_grams(rowid, g) VALUES (?, ?)",
        [(i, g) for i, (_, g) in zip(ids, texts, strict=True)],
    )


def _copy_postgres(
    conn: Connection, rows: Sequence[dict[str, Any]], texts: Sequence[tuple[str, str]]
) -> None:
    columns = ", ".join((*ENTRY_COLUMNS, "search_text", "grams"))
    raw = conn.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f"COPY search_entries ({columns}) FROM STDIN") as copy:  # type: ignore[union-attr]
        for row, (trigram_text, grams) in zip(rows, texts, strict=True):
            copy.write_row([*(row[c] for c in ENTRY_COLUMNS), trigram_text, grams])


def record_version(session: Session, *, version_id: int, catalog_id: int, first_id: int, items: int) -> None:
    """Remember that the version's `items` entries occupy the ids from `first_id` on."""
    session.add(
        SearchVersion(
            version_id=version_id,
            catalog_id=catalog_id,
            first_id=first_id,
            last_id=first_id + items - 1,
            items=items,
        )
    )
    session.flush()


@dataclass(frozen=True, slots=True)
class IndexedVersion:
    version_id: int
    first_id: int
    last_id: int
    items: int


def indexed_versions(session: Session) -> list[IndexedVersion]:
    """Return every indexed version with its id range, in id order."""
    v = SearchVersion
    stmt = select(v.version_id, v.first_id, v.last_id, v.items).order_by(v.first_id)
    return [IndexedVersion(*row) for row in session.execute(stmt)]


def forget_version(session: Session, version_id: int) -> None:
    """Remove one version's entries and their index texts."""
    if dialect(session) == "sqlite" and has_fts(session):
        # a contentless FTS5 row is deleted by repeating its text: rebuilt from the stored keys,
        # so it is exactly what was inserted (pinyin is not worked out again)
        e = SearchEntry
        stmt = select(e.id, e.name, e.description, e.pinyin, e.initials).where(e.version_id == version_id)
        texts = [
            (entry_id, Keys(search_text.lower(name), search_text.lower(description), pinyin, initials))
            for entry_id, name, description, pinyin, initials in session.execute(stmt)
        ]
        cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.executemany(
            "INSERT INTO search_trigram(search_trigram, rowid, t) VALUES ('delete', ?, ?)",
            [(entry_id, k.trigram_text()) for entry_id, k in texts],
        )
        cursor.executemany(
            "INSERT INTO search_grams(search_grams, rowid, g) VALUES ('delete', ?, ?)",
            [(entry_id, k.gram_tokens()) for entry_id, k in texts],
        )
    session.execute(delete(SearchEntry).where(SearchEntry.version_id == version_id))
    session.execute(delete(SearchVersion).where(SearchVersion.version_id == version_id))


def forget_partial(session: Session, version_id: int) -> None:
    """Remove the entries of an indexing of `version_id` that stopped before it was recorded."""
    recorded = session.get(SearchVersion, version_id) is not None
    started = session.scalar(select(SearchEntry.id).where(SearchEntry.version_id == version_id).limit(1))
    if started is not None and not recorded:
        forget_version(session, version_id)


def forget_all(conn: Connection) -> None:
    """Empty the whole index (entries, ranges and SQLite's FTS5 tables)."""
    if conn.dialect.name == "sqlite":
        for table in ("search_trigram", "search_grams"):
            exists = conn.execute(text("SELECT count(*) FROM sqlite_master WHERE name = :n"), {"n": table})
            if exists.scalar():
                conn.execute(text(f"INSERT INTO {table}({table}) VALUES ('delete-all')"))
    if conn.dialect.name == "postgresql":  # no row-by-row GIN maintenance for a whole rebuild
        conn.execute(text("TRUNCATE search_entries, search_versions"))
        return
    conn.execute(delete(SearchEntry))
    conn.execute(delete(SearchVersion))
