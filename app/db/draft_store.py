"""Draft changes in storage: one row per touched node, holding the node's proposed state.

A change row keeps the revision its node had in the draft's base version (None for a node
the draft adds) and the proposed state as JSON ({} for a withdrawal). Reading a draft is
its base overlaid with these rows; nothing of the catalog is copied.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii as _ascii
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from app.catalog.nodes import Level, NodeState
from app.db.models import Draft, DraftChange, Node, NodeRevision
from app.db.store import node_ids, revision_select, state_of

CHUNK = 5000
_CACHE_KIB = 64 * 1024


@dataclass(frozen=True, slots=True)
class StoredChange:
    """A draft's change to one node: its state in the base (None: added) and proposed (None: withdrawn)."""

    node_id: int
    uid: str
    base_revision_id: int | None
    base: NodeState | None
    proposed: NodeState | None

    @property
    def kind(self) -> str:
        """Return add, delete, move or update."""
        if self.base is None:
            return "add"
        if self.proposed is None:
            return "delete"
        return "move" if self.base.parent != self.proposed.parent else "update"


def state_to_json(state: NodeState | None) -> dict[str, Any]:
    """Return the JSON stored for a proposed state ({} for a withdrawal)."""
    if state is None:
        return {}
    return {
        "parent": state.parent,
        "level": int(state.level),
        "code": state.code,
        "name": state.name,
        "description": state.description,
        "department": state.department,
        "sort_key": state.sort_key,
        "attrs": state.attrs,
    }


def state_json(state: NodeState | None) -> str:
    """Return `json.dumps(state_to_json(state))`, written out directly (it is made once per change)."""
    if state is None:
        return "{}"
    return (
        f'{{"parent": {_text(state.parent)}, "level": {int(state.level)}, "code": {_text(state.code)}, '
        f'"name": {_text(state.name)}, "description": {_text(state.description)}, '
        f'"department": {_text(state.department)}, "sort_key": {json.dumps(state.sort_key)}, '
        f'"attrs": {"{}" if not state.attrs else json.dumps(state.attrs)}}}'
    )


def _text(value: str | None) -> str:
    return "null" if value is None else _ascii(value)


def state_from_json(uid: str, fields: Mapping[str, Any]) -> NodeState | None:
    """Return the proposed state stored as `fields`, or None for a withdrawal."""
    if not fields:
        return None
    return NodeState(
        uid=uid,
        parent=fields["parent"],
        level=Level(fields["level"]),
        code=fields["code"],
        name=fields["name"],
        description=fields["description"],
        department=fields["department"],
        sort_key=fields["sort_key"],
        attrs=dict(fields.get("attrs") or {}),
    )


def kind_of(base: NodeState | None, proposed: NodeState | None) -> str:
    """Return the stored kind of a change from `base` to `proposed`."""
    return StoredChange(0, "", None, base, proposed).kind


def insert_changes(
    session: Session,
    draft_id: int,
    rows: Iterable[tuple[int, int | None, NodeState | None, NodeState | None]],
) -> int:
    """Insert changes given as (node_id, base_revision_id, base, proposed); return how many.

    Through the driver (executemany on SQLite, COPY on PostgreSQL): an import writes 650,000
    of them. Each state is the JSON text the JSON column would have written (json.dumps, as
    SQLAlchemy and psycopg call it), so the rows are those an ORM insert would write.
    """
    session.flush()  # the draft, and anything else pending, goes first
    conn = session.connection()
    records = (
        (draft_id, node_id, _kind(base, proposed), revision_id, state_json(proposed))
        for node_id, revision_id, base, proposed in rows
    )
    driver: Any = conn.connection.dbapi_connection
    columns = "draft_changes (draft_id, node_id, kind, base_revision_id, fields)"
    if conn.dialect.name != "postgresql":  # the sqlite3 module takes the rows as they are made
        return int(driver.executemany(f"INSERT INTO {columns} VALUES (?, ?, ?, ?, ?)", records).rowcount)
    written = 0
    with driver.cursor() as cursor, cursor.copy(f"COPY {columns} FROM STDIN") as copy:
        for record in records:
            copy.write_row(record)
            written += 1
    return written


def _kind(base: NodeState | None, proposed: NodeState | None) -> str:
    # kind_of, without making a StoredChange per row
    if base is None:
        return "add"
    if proposed is None:
        return "delete"
    return "move" if base.parent != proposed.parent else "update"


# --- the bulk path of a whole file: hundreds of thousands of nodes and changes at once ----------


def ensure_nodes_bulk(session: Session, catalog_id: int, uids: Sequence[str]) -> dict[str, int]:
    """Return the node ids of `uids`, creating the missing nodes; `store.ensure_nodes` for whole files.

    The same nodes and ids as store.ensure_nodes, without a statement per row: where the file
    holds most of the catalog, the catalog's nodes are read once instead of by chunks of uids,
    and new nodes go in through the driver (executemany on SQLite, COPY on PostgreSQL).
    """
    conn = session.connection()
    in_catalog = conn.execute(select(func.count()).where(Node.catalog_id == catalog_id)).scalar_one()
    if in_catalog <= 2 * len(uids):
        wanted = set(uids)
        stmt = select(Node.uid, Node.id).where(Node.catalog_id == catalog_id)
        found = {uid: id_ for uid, id_ in conn.execute(stmt) if uid in wanted}
    else:
        found = node_ids(session, catalog_id, uids)
    missing = [u for u in uids if u not in found]
    if missing:
        session.flush()
        driver: Any = conn.connection.dbapi_connection
        create = _copy_nodes if conn.dialect.name == "postgresql" else _insert_nodes
        found.update(create(driver, catalog_id, missing))
    return found


def _insert_nodes(driver: Any, catalog_id: int, uids: Sequence[str]) -> dict[str, int]:
    # In the session's transaction, which already holds SQLite's write lock (the draft is
    # written first): the nodes after the highest id are these.
    (before,) = driver.execute("SELECT coalesce(max(id), 0) FROM nodes").fetchone()
    with _page_cache(driver, len(uids)):
        rows = ((catalog_id, u) for u in uids)
        driver.executemany("INSERT INTO nodes (catalog_id, uid) VALUES (?, ?)", rows)
    rows = driver.execute("SELECT uid, id FROM nodes WHERE catalog_id = ? AND id > ?", (catalog_id, before))
    made = dict(rows.fetchall())
    return {u: made[u] for u in uids}


@contextmanager
def _page_cache(driver: Any, rows: int) -> Iterator[None]:
    """Give SQLite a page cache that holds the (catalog_id, uid) index while `rows` nodes go in.

    Random uids land on random index pages; with the default 2 MB cache most of them are read
    back from the WAL again and again (650,000 nodes: 22 s, and 10 s with 64 MB).
    """
    (before,) = driver.execute("PRAGMA cache_size").fetchone()
    wanted = -min(_CACHE_KIB, max(2000, rows // 10))  # negative: KiB
    driver.execute(f"PRAGMA cache_size = {min(before, wanted)}")
    try:
        yield
    finally:
        driver.execute(f"PRAGMA cache_size = {before}")


def _copy_nodes(driver: Any, catalog_id: int, uids: Sequence[str]) -> dict[str, int]:
    with driver.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('nodes', 'id')) FROM generate_series(1, %s)", (len(uids),)
        )
        ids = dict(zip(uids, (row[0] for row in cursor.fetchall()), strict=True))
        with cursor.copy("COPY nodes (id, catalog_id, uid) FROM STDIN") as copy:
            for uid, id_ in ids.items():
                copy.write_row((id_, catalog_id, uid))
    return ids


def delete_changes(session: Session, draft_id: int, node_ids: Sequence[int] | None = None) -> None:
    """Delete the draft's changes to `node_ids` (all of its changes when None)."""
    stmt = delete(DraftChange).where(DraftChange.draft_id == draft_id)
    if node_ids is not None:
        stmt = stmt.where(DraftChange.node_id.in_(node_ids))
    session.execute(stmt)


def load_changes(
    session: Session, draft_id: int, *, node_ids: Sequence[int] | None = None
) -> list[StoredChange]:
    """Return the draft's changes (or those to `node_ids`) with the base states they started from."""
    stmt = (
        select(DraftChange.node_id, Node.uid, DraftChange.base_revision_id, DraftChange.fields)
        .join(Node, Node.id == DraftChange.node_id)
        .where(DraftChange.draft_id == draft_id)
        .order_by(DraftChange.id)
    )
    if node_ids is not None:
        stmt = stmt.where(DraftChange.node_id.in_(node_ids))
    raw = session.execute(stmt).all()
    bases = revision_states(session, [r for _, _, r, _ in raw if r is not None])
    return [
        StoredChange(
            node_id, uid, rev, bases.get(rev) if rev is not None else None, state_from_json(uid, fields)
        )
        for node_id, uid, rev, fields in raw
    ]


def revision_states(session: Session, revision_ids: Sequence[int]) -> dict[int, NodeState]:
    """Return the node states of the given revisions, keyed by revision id."""
    out: dict[int, NodeState] = {}
    for start in range(0, len(revision_ids), CHUNK):
        stmt = revision_select().where(NodeRevision.id.in_(revision_ids[start : start + CHUNK]))
        out.update({row[0]: state_of(row) for row in session.execute(stmt)})
    return out


def rows_with_uids(session: Session, draft_id: int) -> list[tuple[DraftChange, str]]:
    """Return the draft's change rows (for updating in place) with their nodes' uids."""
    stmt = (
        select(DraftChange, Node.uid)
        .join(Node, Node.id == DraftChange.node_id)
        .where(DraftChange.draft_id == draft_id)
        .order_by(DraftChange.id)
    )
    return [(row, uid) for row, uid in session.execute(stmt)]


def bump_lock(session: Session, draft_id: int, expected: int | None) -> bool:
    """Advance the draft's lock version if it is still `expected` (any, when None); return whether it was.

    One UPDATE compares and increments atomically on every database, so two writers who
    both saw version N cannot both succeed (SQLite ignores SELECT ... FOR UPDATE).
    """
    stmt = update(Draft).where(Draft.id == draft_id).values(lock_version=Draft.lock_version + 1)
    if expected is not None:
        stmt = stmt.where(Draft.lock_version == expected)
    result = session.execute(stmt.execution_options(synchronize_session=False))
    return bool(result.rowcount)  # type: ignore[attr-defined]
