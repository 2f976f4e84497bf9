"""Merge conflicts stored as rows: encoding their values, recording attempts, and reviewers' decisions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalog.nodes import Level, NodeState
from app.db import draft_store
from app.db.models import MergeConflict, User
from app.errors import InvalidInput, NotFound
from app.services import audit
from app.versioning.conflicts import PLACEMENT, Conflict, ConflictKey
from app.versioning.merge import MergeResult
from app.versioning.resolve import Choice, Edit, Take
from app.versioning.snapshot import Placement


def encode(field: str | None, value: object) -> Any:
    """Return a conflict value as JSON: a field's value, a placement, or a whole node state."""
    if field == PLACEMENT and isinstance(value, Placement):
        return {"parent": value.parent, "level": int(value.level), "code": value.code}
    if field is None:
        return draft_store.state_to_json(value) if isinstance(value, NodeState) else None
    return value


def decode(field: str | None, uid: str, value: Any) -> object:
    """Return the conflict value stored as JSON `value` in the shape the versioning domain uses."""
    if field == PLACEMENT:
        return Placement(value["parent"], Level(value["level"]), value["code"])
    if field is None:
        return draft_store.state_from_json(uid, value or {})
    return value


def store_conflicts(session: Session, draft_id: int, conflicts: tuple[Conflict, ...]) -> list[MergeConflict]:
    """Store the conflicts an attempt found, each in the row it had before (ids stay, so a page
    open on them stays good); forget open ones that are gone, keep resolutions that settled theirs."""
    stored = {
        (r.uid, r.field): r
        for r in session.scalars(select(MergeConflict).where(MergeConflict.draft_id == draft_id))
    }
    rows = []
    for c in conflicts:
        row = stored.pop((c.uid, c.field or ""), None)
        if row is None:
            row = MergeConflict(draft_id=draft_id, uid=c.uid, field=c.field or "")
            session.add(row)
        elif row.resolution is not None:  # a resolution that no longer settles it: ask again
            row.resolution = row.value = row.resolved_by_id = row.resolved_at = None
        row.kind, row.message = str(c.kind), c.message_zh
        row.base, row.ours, row.theirs = (encode(c.field, v) for v in (c.base, c.ours, c.theirs))
        rows.append(row)
    for row in stored.values():
        if row.resolution is None:
            session.delete(row)
    session.flush()
    return rows


def choices(session: Session, draft_id: int, result: MergeResult) -> dict[ConflictKey, Choice]:
    """Return the recorded decisions that apply to `result`: on its open conflicts, and every edit."""
    open_keys = {c.key for c in result.conflicts}
    choices: dict[ConflictKey, Choice] = {}
    for row in session.scalars(select(MergeConflict).where(MergeConflict.draft_id == draft_id)):
        key = (row.uid, row.field or None)
        if row.resolution is None or (key not in open_keys and row.resolution != "edit"):
            continue
        if row.resolution == "edit":
            choices[key] = Edit(decode(row.field or None, row.uid, row.value))
        else:
            choices[key] = Take.OURS if row.resolution == "ours" else Take.THEIRS
    return choices


def conflicts(session: Session, draft_id: int) -> list[MergeConflict]:
    """Return the draft's stored conflicts, unresolved first."""
    stmt = (
        select(MergeConflict)
        .where(MergeConflict.draft_id == draft_id)
        .order_by(MergeConflict.resolution.is_not(None), MergeConflict.id)
    )
    return list(session.scalars(stmt))


def resolve_conflict(
    session: Session, draft_id: int, conflict_id: int, *, take: str, value: Any = None, actor: User | None
) -> MergeConflict:
    """Record a reviewer's decision on a conflict: ours (the head), theirs (the draft) or edit (`value`)."""
    row = session.get(MergeConflict, conflict_id)
    if row is None or row.draft_id != draft_id:
        raise NotFound("没有这个冲突")
    if take not in ("ours", "theirs", "edit"):
        raise InvalidInput("处理方式只能是：采用现行版本、采用草稿、或编辑")
    if take == "edit":
        try:
            decode(row.field or None, row.uid, value)
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput("编辑后的取值格式不正确") from exc
    row.resolution, row.value = take, value if take == "edit" else None
    row.resolved_by_id, row.resolved_at = (None if actor is None else actor.id), datetime.now(UTC)
    audit.record(
        session,
        actor=actor,
        action="conflict.resolve",
        object_type="draft",
        object_id=draft_id,
        summary={"uid": row.uid, "field": row.field, "take": take},
    )
    session.commit()
    return row
