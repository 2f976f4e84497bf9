"""Issuing (印发) and publishing (公开) versions: the finance administrator's acts."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from app.api.schemas import ErrorOut
from app.db.models import Version
from app.http.auth import SignedIn
from app.http.deps import SessionDep, Today
from app.services.versions import lifecycle

router = APIRouter(
    prefix="/api/v1",
    tags=["版本印发与公开"],
    responses={403: {"model": ErrorOut}, 404: {"model": ErrorOut}, 409: {"model": ErrorOut}},
)


class IssueIn(BaseModel):
    doc_number: str = Field(description="文号，如 示财购〔2025〕12号")
    issued_on: date = Field(description="印发日期：不晚于今天，不早于上一版的印发日期")
    confirm_unusual_date: bool = Field(
        default=False, description="印发日期早于今天 30 天以上时须为 true（确认不是笔误）"
    )


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
def issue(
    slug: str, seq: int, body: IssueIn, session: SessionDep, user: SignedIn, today: Today
) -> dict[str, Any]:
    version = lifecycle.issue(
        session, slug, seq, doc_number=body.doc_number, on=body.issued_on, today=today, actor=user,
        unusual_date_confirmed=body.confirm_unusual_date,
    )  # fmt: skip
    return _out(version)


@router.post("/catalogs/{slug}/versions/{seq}/publish", summary="公开（财政管理员）")
def publish(slug: str, seq: int, session: SessionDep, user: SignedIn) -> dict[str, Any]:
    return _out(lifecycle.publish(session, slug, seq, actor=user))
