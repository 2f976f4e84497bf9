"""The merge page's writes: conflicts resolved per type, and the merge of what the reviewer saw."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.db.models import Draft, User
from app.errors import Conflict, InvalidInput, InvalidTransition
from app.services.merging import conflicts as merge_conflicts
from app.services.merging import merge as merging
from app.services.merging import preview
from app.services.merging.preview import MergePreview, merge_preview
from app.services.review.queue import reviewer_draft
from app.workflow.states import DraftState


def resolve_type(session: Session, draft_id: int, type_uid: str, *, take: str, actor: User) -> list[int]:
    """Take one side for every open, registered conflict under a type; return the ids resolved."""
    if take not in ("ours", "theirs"):
        raise InvalidInput("整类处理只能选择：采用现行版本或采用草稿")
    preview = merge_preview(session, draft_id, actor=actor)
    todo: list[int] = [
        c.id for c in preview.conflicts if c.type_uid == type_uid and c.open and c.id is not None
    ]
    if not todo:
        raise InvalidInput("该类下没有待处理的冲突")
    for conflict_id in todo:
        merge_conflicts.resolve_conflict(session, draft_id, conflict_id, take=take, actor=actor)
    return todo


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
