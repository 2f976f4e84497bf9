"""Draft changes in storage: one row per touched node, holding the node's proposed state.

A change row keeps the revision its node had in the draft's base version (None for a node
the draft adds) and the proposed state as JSON ({} for a withdrawal). Reading a draft is
its base overlaid with these rows; nothing of the catalog is copied.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from app.catalog.nodes import Level, NodeState
from app.db.models import Draft, DraftChange, Node, NodeRevision
from app.db.store import revision_select, state_of

CHUNK = 5000


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
    """Insert changes given as (node_id, base_revision_id, base, proposed); return how many."""
    batch: list[dict[str, Any]] = []
    written = 0
    for node_id, revision_id, base, proposed in rows:
        batch.append(
            {
                "draft_id": draft_id,
                "node_id": node_id,
                "kind": kind_of(base, proposed),
                "base_revision_id": revision_id,
                "fields": state_to_json(proposed),
            }
        )
        if len(batch) >= CHUNK:
            session.execute(insert(DraftChange), batch)
            written, batch = written + len(batch), []
    if batch:
        session.execute(insert(DraftChange), batch)
        written += len(batch)
    return written


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
