"""Issuing (印发) and publishing (公开) versions: the finance administrator's acts."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from pydantic import BaseModel, Field

from app.api.schemas import ErrorOut
from app.db.models import Version
from app.errors import Forbidden
from app.http.auth import SignedIn
from app.http.deps import SessionDep
from app.services import access
from app.services.catalogs import browse
from app.services.search import index as search_index
from app.services.versions import publication as versions
from app.workflow.states import VERSION_ROLES, VersionAction, VersionState, advance_version

router = APIRouter(
    prefix="/api/v1",
    tags=["版本印发与公开"],
    responses={403: {"model": ErrorOut}, 404: {"model": ErrorOut}, 409: {"model": ErrorOut}},
)


class IssueIn(BaseModel):
    doc_number: str = Field(description="文号，如 示财购〔2025〕12号")
    issued_on: date


def _out(v: Version) -> dict[str, Any]:
    return {
        "seq": v.seq,
        "label": v.label,
        "status": v.status,
        "doc_number": v.doc_number,
        "issued_on": v.issued_on.isoformat() if v.issued_on else None,
        "publication_deadline": v.publication_deadline.isoformat() if v.publication_deadline else None,
        "published_at": v.published_at.isoformat() if v.published_at else None,
    }


def _check(session: SessionDep, user: SignedIn, slug: str, seq: int, action: VersionAction) -> None:
    access.require_same_jurisdiction(user, browse.catalog(session, slug))
    role = access.role_of(user)
    if role not in VERSION_ROLES[action]:
        raise Forbidden(f"{role.label}不能执行此操作，只有财政管理员可以")
    advance_version(VersionState(versions.get_version(session, slug, seq).status), action, role)


@router.post(
    "/catalogs/{slug}/versions/{seq}/issue", summary="印发（财政管理员）：记录文号与日期，版本从此不可更改"
)
def issue(slug: str, seq: int, body: IssueIn, session: SessionDep, user: SignedIn) -> dict[str, Any]:
    _check(session, user, slug, seq, VersionAction.ISSUE)
    return _out(versions.issue(session, slug, seq, doc_number=body.doc_number, on=body.issued_on, actor=user))


@router.post("/catalogs/{slug}/versions/{seq}/publish", summary="公开（财政管理员）")
def publish(
    request: Request, slug: str, seq: int, session: SessionDep, user: SignedIn, later: BackgroundTasks
) -> dict[str, Any]:
    _check(session, user, slug, seq, VersionAction.PUBLISH)
    published = _out(versions.publish(session, slug, seq, actor=user, index=False))
    later.add_task(
        search_index.index_in_worker, request.app.state.settings, request.app.state.sessions
    )  # after the answer
    return published
