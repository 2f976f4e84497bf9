"""The merge page's writes: conflicts resolved per type, and the merge of what the reviewer saw."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.db.models import Draft, MergeConflict, User
from app.errors import Conflict, InvalidInput, InvalidTransition
from app.services.access import Actor
from app.services.merging import conflicts as merge_conflicts
from app.services.merging import merge as merging
from app.services.merging import options, preview
from app.services.merging.preview import MergePreview, merge_preview
from app.services.review.queue import reviewer_draft
from app.versioning.conflicts import ConflictKey, ConflictKind
from app.versioning.resolve import Choice, Edit, Take
from app.workflow.states import DraftState


def resolve_type(session: Session, draft_id: int, type_uid: str, *, take: str, actor: User) -> list[int]:
    """Take one side for every open, registered conflict under a type; return the ids resolved.

    Refused, recording nothing, when the merge would hold any of those choices back.
    """
    if take not in options.TAKES:
        raise InvalidInput("整类处理只能选择：采用现行版本或采用草稿")
    shown = merge_preview(session, draft_id, actor=actor)
    todo = [c for c in shown.conflicts if c.type_uid == type_uid and c.open and c.id is not None]
    if not todo:
        raise InvalidInput("该类下没有待处理的冲突")
    planned = merging.plan(session, session.get_one(Draft, draft_id))
    chosen: dict[ConflictKey, Choice] = {(c.uid, c.field or None): options.TAKES[take] for c in todo}
    held = options.refused(planned, chosen)
    if held:
        side = "现行版本" if take == "ours" else "草稿"
        raise InvalidInput(
            f"本类有 {len(held)} 个冲突不能采用{side}（会破坏目录结构），请逐项处理：{held[0].message_zh}"
        )
    rows = [merge_conflicts.conflict_row(session, draft_id, c.id, actor=actor) for c in todo if c.id]
    for row in rows:
        merge_conflicts.record(session, row, take, None, actor)
    return [row.id for row in rows]


def merge_seen(
    session: Session, draft_id: int, *, seen: str, actor: User
) -> tuple[MergePreview, MergePreview, merging.MergeOutcome]:
    """Merge the draft as the reviewer last saw it (`seen`): the merge is computed once, checked
    against what they saw, then written. Return the page before and after, and the outcome.

    Conflict when the preview has changed since. With conflicts still open nothing is written and they
    are stored for resolution: that is how a reviewer registers the conflicts the preview found.
    """
    reviewer_draft(session, draft_id, actor=actor)
    try:
        draft = merging.claim(session, draft_id, actor=actor)
    except InvalidTransition:
        draft = session.get_one(Draft, draft_id)
        raise _changed(DraftState(draft.status), None) from None
    planned = merging.plan(session, draft)
    before = preview.build(session, planned)
    if before.fingerprint != seen:
        raise _changed(before.state, before)
    outcome = merging.apply(session, planned, actor=actor)
    after = preview.settled(session, draft) if outcome.merged else preview.build(session, planned)
    return before, after, outcome


def _changed(state: DraftState, seen: MergePreview | None) -> Conflict:
    details: dict[str, object] = {"state": state.label}
    if seen is not None:
        details |= {"open": seen.open, "changes": len(seen.summary)}
    return Conflict(
        "自您打开本页以来，合并内容已有变化（现行目录、冲突处理或草稿状态），请重新载入后核对再合并",
        details=details,
    )


# --- decisions the merge will accept ----------------------------------------------------------

WITHDRAW_OTHER = "withdraw_other"  # keep the draft's item and withdraw the sibling it duplicates


def decide(
    session: Session,
    draft_id: int,
    conflict_id: int,
    *,
    take: str,
    actor: Actor,
    text: str | None = None,
    value: Any = None,
) -> MergeConflict:
    """Record a reviewer's decision on one conflict: ours, theirs, edit (`text` typed on the page, or
    `value` in the stored JSON shape) or, for a duplicate name, withdraw_other.

    A choice the merge would hold back again (it breaks the tree) is refused, saying why, and
    nothing is recorded: no decision is ever shown as taken that the merge would not take.
    """
    row = merge_conflicts.conflict_row(session, draft_id, conflict_id, actor=actor)
    draft = session.get_one(Draft, draft_id)
    planned = merging.plan(session, draft)
    key = (row.uid, row.field or None)
    if take == WITHDRAW_OTHER:
        return _withdraw_other(session, planned, row, key, actor)
    stored = merge_conflicts.typed_value(row, take, text) if text is not None else value
    choice = merge_conflicts.choice_of(row, take, stored)
    _refuse_held_back(planned, {key: choice})
    return merge_conflicts.record(session, row, take, stored, actor)


def _withdraw_other(
    session: Session, planned: merging.MergePlan, row: MergeConflict, key: ConflictKey, actor: Actor
) -> MergeConflict:
    clash = next((c for c in options.clashes(planned) if c.key == key), None)
    if clash is None or clash.kind is not ConflictKind.DUPLICATE_NAME or clash.other is None:
        raise InvalidInput("只有同名条目的冲突可以选择撤销另一条")
    other = clash.other
    _refuse_held_back(planned, {key: Take.THEIRS, (other, None): Edit(None)})
    name = options.name_of(planned, other)
    withdrawn = merge_conflicts.withdraw_row(session, row.draft_id, other, name=name)
    merge_conflicts.record(session, withdrawn, "edit", None, actor)
    return merge_conflicts.record(session, row, "theirs", None, actor)


def _refuse_held_back(planned: merging.MergePlan, chosen: dict[ConflictKey, Choice]) -> None:
    refused = options.refused(planned, chosen)
    if refused:
        raise InvalidInput(f"此选择会破坏目录结构，未予采用：{refused[0].message_zh}")
