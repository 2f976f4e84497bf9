"""Issuing (印发) and publishing (公开) versions: the finance administrator's acts."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from app.api.schemas import ErrorOut
from app.db.models import Version
from app.http.auth import SignedIn
from app.http.deps import SessionDep
from app.services.versions import lifecycle

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


@router.post(
    "/catalogs/{slug}/versions/{seq}/issue", summary="印发（财政管理员）：记录文号与日期，版本从此不可更改"
)
def issue(slug: str, seq: int, body: IssueIn, session: SessionDep, user: SignedIn) -> dict[str, Any]:
    return _out(
        lifecycle.issue(session, slug, seq, doc_number=body.doc_number, on=body.issued_on, actor=user)
    )


@router.post("/catalogs/{slug}/versions/{seq}/publish", summary="公开（财政管理员）")
def publish(slug: str, seq: int, session: SessionDep, user: SignedIn) -> dict[str, Any]:
    return _out(lifecycle.publish(session, slug, seq, actor=user))
