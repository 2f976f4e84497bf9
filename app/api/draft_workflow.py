"""Write API for a draft's workflow: submit, return, approve, withdraw, merge, conflicts, comments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from app.api.drafts import ROUTER_ARGS, Based, IfMatch, draft_response, lock_of, require_lock
from app.http.auth import SignedIn
from app.http.deps import SessionDep
from app.services import access
from app.services.merging import conflicts as merge_conflicts
from app.services.merging import merge as merging
from app.services.merging import resolution
from app.services.review import workflow as review

router = APIRouter(**ROUTER_ARGS)


class ReasonIn(Based):
    reason: str = ""


class CommentIn(BaseModel):
    body: str
    item: str | None = Field(None, description="针对某个目录条目时，其 uid")


class ResolveIn(BaseModel):
    take: str = Field(
        description="ours（现行版本）、theirs（草稿）、edit；"
        "同名冲突还可 withdraw_other（保留草稿的条目、撤销另一条）"
    )
    value: Any = None


@router.post("/drafts/{draft_id}/submit", summary="送审（有未处理的负面清单问题时拒绝）")
def submit(
    draft_id: int, session: SessionDep, user: SignedIn, body: Based | None = None, if_match: IfMatch = None
) -> Response:
    review.submit(session, draft_id, actor=user, lock=require_lock(lock_of(draft_id, if_match, body)))
    return draft_response(session, draft_id, user)


@router.post("/drafts/{draft_id}/return", summary="退回修改（须说明理由）")
def return_(
    draft_id: int, body: ReasonIn, session: SessionDep, user: SignedIn, if_match: IfMatch = None
) -> Response:
    review.return_draft(
        session, draft_id, reason=body.reason, actor=user, lock=lock_of(draft_id, if_match, body)
    )
    return draft_response(session, draft_id, user)


@router.post("/drafts/{draft_id}/approve", summary="审核通过（须指明所审阅的草稿版本）")
def approve(
    draft_id: int, session: SessionDep, user: SignedIn, body: Based | None = None, if_match: IfMatch = None
) -> Response:
    review.approve(session, draft_id, actor=user, lock=lock_of(draft_id, if_match, body))
    return draft_response(session, draft_id, user)


@router.post(
    "/drafts/{draft_id}/withdraw",
    summary="撤回整份草稿（财政部门撤回部门的草稿须说明理由；本轮版本印发前可重新打开）",
)
def withdraw(
    draft_id: int, session: SessionDep, user: SignedIn, body: ReasonIn | None = None, if_match: IfMatch = None
) -> Response:
    reason = body.reason if body is not None else ""
    review.withdraw(session, draft_id, actor=user, lock=lock_of(draft_id, if_match, body), reason=reason)
    return draft_response(session, draft_id, user)


@router.post("/drafts/{draft_id}/reopen", summary="重新打开已撤回的草稿（本轮版本印发之前）")
def reopen(
    draft_id: int, session: SessionDep, user: SignedIn, body: Based | None = None, if_match: IfMatch = None
) -> Response:
    review.reopen(session, draft_id, actor=user, lock=lock_of(draft_id, if_match, body))
    return draft_response(session, draft_id, user)


@router.post("/drafts/{draft_id}/merge", summary="合并到下一版本（全部成功或全不写入；有冲突时返回冲突）")
def merge(draft_id: int, session: SessionDep, user: SignedIn) -> Response:
    outcome = merging.merge_draft(session, draft_id, actor=user)
    body = {
        "merged": outcome.merged,
        "version": outcome.version.seq,
        "conflicts": [_conflict(c) for c in outcome.conflicts],
    }
    return JSONResponse(body, status_code=200 if outcome.merged else 409)


@router.post(
    "/drafts/{draft_id}/revert",
    status_code=201,
    summary="撤回一次合并：新建一份草稿，把该草稿改动的条目恢复为合并前的样子（照常审核、合并）",
)
def revert(draft_id: int, session: SessionDep, user: SignedIn) -> Response:
    reverting = merging.revert_draft(session, draft_id, actor=user)
    return draft_response(session, reverting.id, user, 201)


def _conflict(c: Any) -> dict[str, Any]:
    return {
        "id": c.id,
        "uid": c.uid,
        "field": c.field or None,
        "kind": c.kind,
        "message": c.message,
        "base": c.base,
        "ours": c.ours,
        "theirs": c.theirs,
        "resolution": c.resolution,
        "value": c.value,
    }


@router.get("/drafts/{draft_id}/conflicts", summary="合并冲突")
def conflicts(draft_id: int, session: SessionDep, user: SignedIn) -> list[dict[str, Any]]:
    access.visible_draft(session, draft_id, user)
    return [_conflict(c) for c in merge_conflicts.conflicts(session, draft_id)]


@router.post("/drafts/{draft_id}/conflicts/{conflict_id}", summary="处理一个冲突")
def resolve(
    draft_id: int, conflict_id: int, body: ResolveIn, session: SessionDep, user: SignedIn
) -> dict[str, Any]:
    decided = resolution.decide(session, draft_id, conflict_id, take=body.take, value=body.value, actor=user)
    return _conflict(decided)


@router.get("/drafts/{draft_id}/comments", summary="评论")
def list_comments(draft_id: int, session: SessionDep, user: SignedIn) -> list[dict[str, Any]]:
    return [
        {"id": c.id, "author": name, "item": uid, "body": c.body, "at": _iso(c.created_at)}
        for c, name, uid in review.comments(session, draft_id, actor=user)
    ]


@router.post("/drafts/{draft_id}/comments", status_code=201, summary="评论草稿或其中一个条目")
def comment(draft_id: int, body: CommentIn, session: SessionDep, user: SignedIn) -> dict[str, Any]:
    c = review.add_comment(session, draft_id, body=body.body, uid=body.item, actor=user)
    return {"id": c.id, "item": body.item, "body": c.body}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
