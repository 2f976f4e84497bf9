"""The search index of published versions: written after a publication, by a worker process."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from itertools import islice
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from app.catalog import search_text
from app.catalog.nodes import Level
from app.config import PROJECT_ROOT, Settings
from app.db import queries, search_store
from app.db.models import SearchVersion, Version
from app.db.search_store import SourceNode
from app.errors import NotFound

_CHUNK = 5000
_BATCH = 250  # entries per commit while the app indexes in the background: ~10 ms of SQLite's write lock


_INDEXING = threading.Lock()
_WORKER_QUEUE = threading.Lock()
_worker_waiting = False  # a worker is queued behind the running one: later publications need no other


def index_in_worker(settings: Settings, sessions: sessionmaker[Session]) -> None:
    """Index every published version the index lacks in a process of its own, and wait for it.

    Publishing from a page or the API answers first and calls this after the response.
    Indexing is Python work on the CPU: in a thread of the serving process it would hold the
    interpreter lock against every request, so `guidecat search update` does it in a worker
    process at low priority while this thread only waits. A private in-memory database
    (`sessions`') cannot be opened by another process, so that one is indexed here.
    """
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and (url.database or ":memory:") == ":memory:":
        index_unindexed(sessions)
        return
    global _worker_waiting
    with _WORKER_QUEUE:
        if _worker_waiting:  # it starts after the running one, so it will see this version too
            return
        _worker_waiting = True
    env = {**os.environ, "DATABASE_URL": settings.database_url, "GUIDECAT_SECRET_KEY": settings.secret_key}
    command = [sys.executable, "-m", "app.cli", "search", "update", "--background"]
    with _INDEXING:  # one worker at a time from this process
        with _WORKER_QUEUE:
            _worker_waiting = False
        done = subprocess.run(command, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        logging.getLogger(__name__).error(
            "search indexing worker failed (%s): %s", done.returncode, done.stderr
        )


def unindexed(session: Session) -> list[Version]:
    """Return the public versions the index lacks, oldest first."""
    stmt = (
        select(Version)
        .where(Version.status.in_(queries.PUBLIC_STATUSES))  # one superseded meanwhile stays public
        .where(~select(SearchVersion.version_id).where(SearchVersion.version_id == Version.id).exists())
        .order_by(Version.id)
    )
    return list(session.scalars(stmt))


def index_unindexed(sessions: sessionmaker[Session]) -> int:
    """Index every public version the index lacks, each in its own transactions; return how many items.

    A version missed (a crash between publishing and indexing) is picked up by the next call.
    It writes in short batches, each committed, so that the next person's action waits for
    one batch at most (SQLite has one writer at a time).
    """
    written = 0
    with _INDEXING, sessions() as session, search_store.one_indexer(session):
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
    stmt = select(Version).where(Version.status.in_(queries.PUBLIC_STATUSES))
    if catalog is not None:
        found = queries.catalog_by_slug(session, catalog)
        if found is None:
            raise NotFound(f"没有找到目录“{catalog}”")
        stmt = stmt.where(Version.catalog_id == found.id)
        for v in session.scalars(stmt):
            search_store.forget_version(session, v.id)
    else:
        search_store.forget_all(session.connection())
    versions = sorted(session.scalars(stmt), key=lambda v: (v.status != "published", v.catalog_id, v.seq))
    if catalog is not None:
        total = sum(index_version(session, v) for v in versions)
    else:
        with search_store.bulk_load(session):
            total = sum(index_version(session, v) for v in versions)
    session.commit()
    return total
