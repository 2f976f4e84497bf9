"""Write API for drafts: create, read, change items (workflow in draft_workflow). Signed-in users only.

Every write names the state it was based on (If-Match with the draft's ETag, or lock_version);
a stale one answers 409 with the edits made since.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from app.api.schemas import ErrorOut
from app.catalog.nodes import NodeState
from app.db.models import User
from app.errors import InvalidInput
from app.http.auth import SignedIn
from app.http.deps import SessionDep
from app.services import access
from app.services.drafts import items as draft_items
from app.services.drafts import lifecycle as drafts
from app.services.screening import drafts as screening
from app.workflow.states import DraftState, allowed_actions

# shared with draft_workflow's router: one section of the OpenAPI document
ROUTER_ARGS: dict[str, Any] = {
    "prefix": "/api/v1",
    "tags": ["草稿与审核"],
    "responses": {code: {"model": ErrorOut} for code in (401, 403, 404, 409)},
}
router = APIRouter(**ROUTER_ARGS)
IfMatch = Annotated[str | None, Header(description='草稿的 ETag，如 "draft-5-3"')]


class Based(BaseModel):
    lock_version: int | None = Field(None, description="所依据的草稿版本（或用 If-Match 头）")


class DraftIn(BaseModel):
    catalog: str
    department: str | None = Field(None, description="部门编码；部门经办人只能是本部门")
    title: str = ""
    request_token: str | None = Field(
        None,
        max_length=64,
        description="客户端生成的请求标识：同一标识重复提交时返回已建的草稿，不重复新建",
    )


class ItemIn(Based):
    parent: str = Field(description="二级目录（或三级目录，新增四级时）的 uid")
    name: str
    description: str = ""
    department: str | None = None


class ItemPatch(Based):
    name: str | None = None
    description: str | None = None


class MoveIn(Based):
    parent: str


class OverrideIn(BaseModel):
    rule: str = Field(description="规则编号")
    reason: str = Field(description="不适用该规则的理由（必填）")


def _etag(draft_id: int, lock: int) -> str:
    return f'"draft-{draft_id}-{lock}"'


def lock_of(draft_id: int, if_match: str | None, body: Based | None) -> int | None:
    """Return the draft version a write is based on: `lock_version` in the body, else If-Match."""
    if body is not None and body.lock_version is not None:
        return body.lock_version
    if if_match:
        prefix = f'"draft-{draft_id}-'
        if not (
            if_match.startswith(prefix) and if_match.endswith('"') and if_match[len(prefix) : -1].isdigit()
        ):
            raise InvalidInput("If-Match 不是这份草稿的 ETag")
        return int(if_match[len(prefix) : -1])
    return None


def require_lock(lock: int | None) -> int:
    """Return `lock`, refusing a write that names no version."""
    if lock is None:
        raise InvalidInput("修改草稿须带上所依据的版本：If-Match 头或 lock_version 字段")
    return lock


def _state(s: NodeState | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {
        "uid": s.uid,
        "parent": s.parent,
        "level": int(s.level),
        "code": s.code,
        "name": s.name,
        "description": s.description,
        "department": s.department,
    }


def draft_response(
    session: SessionDep,
    draft_id: int,
    user: User,
    status: int = 200,
    *,
    limit: int | None = None,
    after: int | None = None,
) -> Response:
    """Answer with the draft, its changes and findings as JSON, with its ETag."""
    view = drafts.open_draft(session, draft_id, actor=user, limit=limit, after=after)
    d = view.draft
    counts = view.counts
    body = {
        "id": d.id,
        "catalog_id": d.catalog_id,
        "title": d.title,
        "status": d.status,
        "status_label": DraftState(d.status).label,
        "base_version": view.base.seq,
        "lock_version": d.lock_version,
        "department_id": d.department_id,
        "return_reason": d.return_reason,
        "reverts": d.reverts_draft_id,
        "submitted_at": d.submitted_at.isoformat() if d.submitted_at else None,
        "allowed_actions": [a.value for a in allowed_actions(DraftState(d.status), access.role_of(user))],
        "changes": [
            {"uid": c.uid, "kind": c.kind, "base": _state(c.base), "proposed": _state(c.proposed)}
            for c in view.changes
        ],
        "counts": {
            "add": counts.add,
            "update": counts.update,
            "move": counts.move,
            "delete": counts.delete,
            "total": counts.total,
        },
        "next_after": view.next_after,
        "findings": [_finding(f) for f in screening.draft_findings(session, d.id, actor=user)],
    }
    return JSONResponse(body, status_code=status, headers={"ETag": _etag(d.id, d.lock_version)})


def _finding(f: screening.ItemFinding) -> dict[str, Any]:
    return f.as_json()


@router.post("/drafts", status_code=201, summary="新建草稿（基于最新版本，不复制目录）")
def create(body: DraftIn, session: SessionDep, user: SignedIn) -> Response:
    draft = drafts.create_draft(
        session, body.catalog, actor=user, department=body.department, title=body.title,
        request_token=body.request_token,
    )  # fmt: skip
    return draft_response(session, draft.id, user, status=201)


@router.delete("/drafts/{draft_id}", status_code=204, summary="删除空草稿（没有任何修改和意见的草稿）")
def delete(draft_id: int, session: SessionDep, user: SignedIn) -> Response:
    drafts.delete_empty(session, draft_id, actor=user)
    return Response(status_code=204)


@router.get("/drafts/{draft_id}", summary="草稿及其修改（全部，或带 limit 时一页）")
def read(
    draft_id: int,
    session: SessionDep,
    user: SignedIn,
    limit: Annotated[int | None, Query(ge=1, le=1000, description="每页修改条数；不填时返回全部修改")] = None,
    after: Annotated[int | None, Query(description="上一页的 next_after")] = None,
) -> Response:
    return draft_response(session, draft_id, user, limit=limit, after=after)


@router.post("/drafts/{draft_id}/items", status_code=201, summary="新增条目")
def add(
    draft_id: int, body: ItemIn, session: SessionDep, user: SignedIn, if_match: IfMatch = None
) -> Response:
    lock = require_lock(lock_of(draft_id, if_match, body))
    draft_items.add_item(
        session,
        draft_id,
        parent=body.parent,
        name=body.name,
        description=body.description,
        department=body.department,
        lock=lock,
        actor=user,
    )
    return draft_response(session, draft_id, user, status=201)


@router.patch("/drafts/{draft_id}/items/{uid}", summary="修改条目名称或服务内容")
def edit(
    draft_id: int, uid: str, body: ItemPatch, session: SessionDep, user: SignedIn, if_match: IfMatch = None
) -> Response:
    lock = require_lock(lock_of(draft_id, if_match, body))
    draft_items.edit_item(
        session, draft_id, uid, name=body.name, description=body.description, lock=lock, actor=user
    )
    return draft_response(session, draft_id, user)


@router.post("/drafts/{draft_id}/items/{uid}/move", summary="移到另一个二级目录")
def move(
    draft_id: int, uid: str, body: MoveIn, session: SessionDep, user: SignedIn, if_match: IfMatch = None
) -> Response:
    lock = require_lock(lock_of(draft_id, if_match, body))
    draft_items.move_item(session, draft_id, uid, parent=body.parent, lock=lock, actor=user)
    return draft_response(session, draft_id, user)


@router.post("/drafts/{draft_id}/items/{uid}/withdraw", summary="撤销条目")
def withdraw_item(
    draft_id: int,
    uid: str,
    session: SessionDep,
    user: SignedIn,
    body: Based | None = None,
    if_match: IfMatch = None,
) -> Response:
    draft_items.withdraw_item(
        session, draft_id, uid, lock=require_lock(lock_of(draft_id, if_match, body)), actor=user
    )
    return draft_response(session, draft_id, user)


@router.delete("/drafts/{draft_id}/changes/{uid}", summary="放弃对某条目的修改（恢复原样）")
def discard(
    draft_id: int, uid: str, session: SessionDep, user: SignedIn, if_match: IfMatch = None
) -> Response:
    draft_items.discard_change(
        session, draft_id, uid, lock=require_lock(lock_of(draft_id, if_match, None)), actor=user
    )
    return draft_response(session, draft_id, user)


@router.post(
    "/drafts/{draft_id}/items/{uid}/overrides", summary="财政审核人：记录某条负面清单提示不适用（须说明理由）"
)
def override(draft_id: int, uid: str, body: OverrideIn, session: SessionDep, user: SignedIn) -> Response:
    screening.record_override(session, draft_id, uid, body.rule, reason=body.reason, actor=user)
    return draft_response(session, draft_id, user)
