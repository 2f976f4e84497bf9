"""A reviewer's writes on the merge page: resolving conflicts singly or per type, and the guarded merge."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.db.models import MergeConflict, User
from app.errors import Conflict, InvalidInput
from app.services.merging import conflicts as merge_conflicts
from app.services.merging import merge as merging
from app.services.merging.preview import EDITABLE, MergePreview, merge_preview, recodable
from app.services.review import workflow as review
from app.services.review.queue import reviewer_draft
from app.versioning.conflicts import PLACEMENT
from app.workflow.states import DraftState


def resolve_one(
    session: Session, draft_id: int, conflict_id: int, *, take: str, value: str, actor: User
) -> MergeConflict:
    """Record a reviewer's decision on one stored conflict; an edit's text is parsed by its field."""
    reviewer_draft(session, draft_id, actor=actor)
    row = next((r for r in merge_conflicts.conflicts(session, draft_id) if r.id == conflict_id), None)
    if row is None:  # a later merge attempt stores the open conflicts again, under new ids
        raise Conflict("这个冲突已重新登记或已不存在，请重新载入页面后再处理")
    parsed = _edited(row, value) if take == "edit" else None
    return merge_conflicts.resolve_conflict(
        session, draft_id, conflict_id, take=take, value=parsed, actor=actor
    )


def _edited(row: MergeConflict, text: str) -> object:
    text = text.strip()
    recode = recodable(row.field, row.kind) and isinstance(row.theirs, dict)
    if row.field not in EDITABLE and not recode:
        raise InvalidInput("这类冲突只能在现行版本与草稿之间二选一")
    if (recode or row.field in ("name", PLACEMENT)) and not text:
        raise InvalidInput("编辑后的取值不能为空")
    if row.field == "sort_key":
        if not text.lstrip("-").isdigit():
            raise InvalidInput("排序须为整数")
        return int(text)
    if row.field == "department":
        return text or None
    if recode or row.field == PLACEMENT:
        return {**(row.theirs or row.ours or {}), "code": text}
    return text


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
) -> tuple[MergePreview, merging.MergeOutcome]:
    """Merge the draft as the reviewer last saw it (`seen`), returning what they saw and the outcome.

    Conflict when the preview has changed since. With conflicts still open nothing is written and they
    are stored for resolution: that is how a reviewer registers the conflicts the preview found.
    """
    preview = merge_preview(session, draft_id, actor=actor)
    if preview.state is not DraftState.APPROVED or preview.fingerprint != seen:
        raise Conflict(
            "自您打开本页以来，合并内容已有变化（现行目录、冲突处理或草稿状态），请重新载入后核对再合并",
            details={"open": preview.open, "changes": len(preview.summary), "state": preview.state.label},
        )
    return preview, review.merge(session, draft_id, actor=actor)
