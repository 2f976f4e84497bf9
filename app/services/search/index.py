"""The search index of published versions: written after a publication (see `worker`), rebuilt on demand."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.catalog import search_text
from app.catalog.nodes import Level
from app.db import queries, search_store
from app.db.models import SearchVersion, Version
from app.db.search_store import SourceNode
from app.errors import NotFound
from app.workflow.states import PUBLIC_VERSION_STATES, VersionState

_CHUNK = 5000
_BATCH = 250  # entries per commit while the app indexes in the background: ~10 ms of SQLite's write lock


_INDEXING = threading.Lock()  # one indexer at a time in this process (across processes: one_indexer)


def unindexed(session: Session) -> list[Version]:
    """Return the public versions the index lacks, oldest first."""
    stmt = (
        select(Version)
        .where(Version.status.in_(PUBLIC_VERSION_STATES))  # one superseded meanwhile stays public
        .where(~select(SearchVersion.version_id).where(SearchVersion.version_id == Version.id).exists())
        .order_by(Version.id)
    )
    return list(session.scalars(stmt))


def index_unindexed(sessions: sessionmaker[Session], *, waiting: Callable[[], None] = lambda: None) -> int:
    """Index every public version the index lacks, each in its own transactions; return how many items.

    A version missed (a crash between publishing and indexing) is picked up by the next call.
    It writes in short batches, each committed, so that the next person's action waits for
    one batch at most (SQLite has one writer at a time). `waiting` is called if another process's
    indexer holds the lock, before this one waits its turn.
    """
    written = 0
    with _INDEXING, sessions() as session, search_store.one_indexer(session, waiting=waiting):
        missing = unindexed(session)
        if missing:
            search_store.pause_merging(session)
            session.commit()
        for version in missing:
            for attempt in (1, 2):  # a second try after, say, a lost connection
                try:
                    written += index_version(session, version, commit_every=_BATCH)
                    session.commit()
                    break
                except Exception:
                    session.rollback()
                    search_store.forget_partial(session, version.id)  # the batches already committed
                    session.commit()
                    if attempt == 2:
                        logging.getLogger(__name__).exception("indexing version %s failed", version.id)
        while missing and search_store.merge_step(session):  # a few ms of the write lock each
            session.commit()
        session.commit()
    return written


def index_version(session: Session, version: Version, *, commit_every: int | None = None) -> int:
    """Add the items of the public `version` to the index unless they are there; return how many.

    Without `commit_every` the entries are flushed for the caller to commit. With it they are
    committed that many at a time, each batch's texts computed before its write begins, and
    the version counts as indexed from the last commit on: searches read only recorded id
    ranges, so a partial version is never seen.
    """
    if session.get(SearchVersion, version.id) is not None:
        return 0
    first = search_store.next_id(session)
    written = 0
    for chunk in _batches(_entry_rows(session, version), commit_every or _CHUNK):
        keys = [search_text.keys(r["name"], r["description"]) for r in chunk]
        texts = [(k.trigram_text(), k.gram_tokens()) for k in keys]
        for row, k in zip(chunk, keys, strict=True):
            row["id"], row["pinyin"], row["initials"] = first + written, k.pinyin, k.initials
            written += 1
        search_store.insert_entries(session, chunk, texts)
        if commit_every:
            session.commit()
    search_store.record_version(
        session, version_id=version.id, catalog_id=version.catalog_id, first_id=first, items=written
    )
    return written


def _batches(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    while batch := list(islice(rows, size)):
        yield batch


def _entry_rows(session: Session, version: Version) -> Iterator[dict[str, Any]]:
    # code order is tree order: a class, its types, each type's items, each item's sub-items
    classes: dict[int, SourceNode] = {}
    types: dict[int, SourceNode] = {}
    items: dict[int, SourceNode] = {}  # the current type's items, parents of the sub-items
    for node in search_store.version_nodes(session, version.catalog_id, version.seq):
        if node.level == Level.CLASS:
            classes[node.node_id] = node
        elif node.level == Level.TYPE:
            types[node.node_id], items = node, {}
        else:
            parent = items.get(node.parent_id or 0) if node.level == Level.SUBITEM else None
            type_row = types.get((parent or node).parent_id or 0)
            if type_row is None:
                continue
            items[node.node_id] = node
            class_row = classes.get(type_row.parent_id or 0)
            yield _entry(node, version, class_row, type_row, parent)


def _entry(
    node: SourceNode,
    version: Version,
    cls: SourceNode | None,
    typ: SourceNode,
    parent: SourceNode | None,
) -> dict[str, Any]:
    path = [n.name for n in (cls, typ, parent) if n is not None]
    return {
        "version_id": version.id,
        "catalog_id": version.catalog_id,
        "node_id": node.node_id,
        "uid": node.uid,
        "level": node.level,
        "code": node.code,
        "name": node.name,
        "description": node.description or "",
        "class_code": cls.code if cls else "",
        "type_code": typ.code,
        "type_uid": typ.uid,
        "type_name": typ.name,
        "path": " › ".join(path)[:400],
        "department_code": node.department_code or "",
        "department_name": node.department_name or "",
    }


def reindex(session: Session, *, catalog: str | None = None) -> int:
    """Rebuild the index of every public version (or of catalog `catalog`'s), commit, return the items.

    Newest versions go first so that the entries searched by default sit in one id range.
    """
    with search_store.one_indexer(session):
        return _reindex(session, catalog)


def _reindex(session: Session, catalog: str | None) -> int:
    stmt = select(Version).where(Version.status.in_(PUBLIC_VERSION_STATES))
    if catalog is not None:
        found = queries.catalog_by_slug(session, catalog)
        if found is None:
            raise NotFound(f"没有找到目录“{catalog}”")
        stmt = stmt.where(Version.catalog_id == found.id)
        for v in session.scalars(stmt):
            search_store.forget_version(session, v.id)
    else:
        search_store.forget_all(session.connection())
    versions = sorted(
        session.scalars(stmt), key=lambda v: (v.status != VersionState.PUBLISHED, v.catalog_id, v.seq)
    )
    if catalog is not None:
        total = sum(index_version(session, v) for v in versions)
    else:
        with search_store.bulk_load(session):
            total = sum(index_version(session, v) for v in versions)
    session.commit()
    return total
