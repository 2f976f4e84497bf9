"""Merge conflicts stored as rows: encoding their values, recording attempts, and reviewers' decisions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalog.nodes import Level, NodeState
from app.catalog.text import normalise
from app.db import draft_store
from app.db.models import MergeConflict
from app.errors import Conflict, InvalidInput
from app.services import access, audit
from app.services.access import Actor, user_id
from app.versioning.conflicts import PLACEMENT, ConflictKey, ConflictKind
from app.versioning.conflicts import Conflict as Clash
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


def store_conflicts(session: Session, draft_id: int, conflicts: tuple[Clash, ...]) -> list[MergeConflict]:
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


def choices(
    stored: Mapping[tuple[str, str], MergeConflict], open_keys: set[ConflictKey]
) -> dict[ConflictKey, Choice]:
    """Return the recorded decisions (`stored`, by uid and field) that apply to a merge whose open
    conflicts are `open_keys`: the decisions on those, and every edit."""
    choices: dict[ConflictKey, Choice] = {}
    for row in stored.values():
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


EDITABLE = ("name", "description", "department", "sort_key", PLACEMENT)


def recodable(fld: str, kind: str) -> bool:
    """Return whether the conflict is a whole new item whose code clashes: an edit gives it a new code."""
    return fld == "" and kind == ConflictKind.DUPLICATE_CODE


def renamable(fld: str, kind: str) -> bool:
    """Return whether the conflict is a whole item whose name its sibling has: an edit renames it."""
    return fld == "" and kind == ConflictKind.DUPLICATE_NAME


def conflict_row(session: Session, draft_id: int, conflict_id: int, *, actor: Actor) -> MergeConflict:
    """Return the stored conflict a page names, if a finance role who may see the draft asks; a
    Conflict when a later merge attempt has settled or dropped it."""
    _guard(session, draft_id, actor)
    row = session.get(MergeConflict, conflict_id)
    if row is None or row.draft_id != draft_id:
        raise Conflict("这个冲突已重新登记或已不存在，请重新载入页面后再处理")
    return row


def choice_of(row: MergeConflict, take: str, value: Any) -> Choice:
    """Return the versioning choice that deciding `take` (with `value` for an edit) on `row` makes."""
    if take == "ours":
        return Take.OURS
    if take == "theirs":
        return Take.THEIRS
    if take == "edit":
        try:
            return Edit(decode(row.field or None, row.uid, value))
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput("编辑后的取值格式不正确") from exc
    raise InvalidInput("处理方式只能是：采用现行版本、采用草稿、或编辑")


def _guard(session: Session, draft_id: int, actor: Actor) -> None:
    access.visible_draft(session, draft_id, actor)
    access.require_finance(actor)


def _parsed(row: MergeConflict, text: str) -> object:
    text = text.strip()
    recode = recodable(row.field, row.kind) and isinstance(row.theirs, dict)
    rename = renamable(row.field, row.kind) and isinstance(row.theirs, dict)
    if row.field not in EDITABLE and not recode and not rename:
        raise InvalidInput("这类冲突只能在现行版本与草稿之间二选一")
    if (recode or rename or row.field in ("name", PLACEMENT)) and not text:
        raise InvalidInput("编辑后的取值不能为空")
    if rename:
        return {**row.theirs, "name": normalise(text)}
    if row.field == "sort_key":
        if not text.lstrip("-").isdigit():
            raise InvalidInput("排序须为整数")
        return int(text)
    if row.field == "department":
        return text or None
    if recode or row.field == PLACEMENT:
        return {**(row.theirs or row.ours or {}), "code": text}
    return normalise(text) if row.field == "name" else text


def typed_value(row: MergeConflict, take: str, text: str) -> Any:
    """Return the stored JSON value of a decision typed on the merge page (None unless an edit)."""
    return _parsed(row, text) if take == "edit" else None


def withdraw_row(session: Session, draft_id: int, uid: str, *, name: str) -> MergeConflict:
    """Return the row that records withdrawing node `uid` (a sibling the draft's item duplicates)
    as a decision of this merge, creating it if need be (the caller records the decision)."""
    row = session.scalars(
        select(MergeConflict).where(
            MergeConflict.draft_id == draft_id, MergeConflict.uid == uid, MergeConflict.field == ""
        )
    ).first()
    if row is None:
        row = MergeConflict(draft_id=draft_id, uid=uid, field="", kind=str(ConflictKind.DUPLICATE_NAME))
        row.message = f"为保留草稿中的同名条目，撤销现行版本中的「{name}」"
        session.add(row)
        session.flush()
    return row


def record(session: Session, row: MergeConflict, take: str, value: Any, actor: Actor) -> MergeConflict:
    """Record `take` (with `value` for an edit) as the decision on `row`, audit, commit."""
    if take not in ("ours", "theirs", "edit"):
        raise InvalidInput("处理方式只能是：采用现行版本、采用草稿、或编辑")
    if take == "edit":
        try:
            decode(row.field or None, row.uid, value)
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput("编辑后的取值格式不正确") from exc
    row.resolution, row.value = take, value if take == "edit" else None
    row.resolved_by_id, row.resolved_at = user_id(actor), datetime.now(UTC)
    audit.record(
        session,
        actor=actor,
        action="conflict.resolve",
        object_type="draft",
        object_id=row.draft_id,
        summary={"uid": row.uid, "field": row.field, "take": take},
    )
    session.commit()
    return row
