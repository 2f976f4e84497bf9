"""Publication on time (finance): the deadline board, and scheduling an issued version's publication."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from app.api.schemas import ErrorOut
from app.db.models import Version
from app.http import downloads
from app.http.auth import FinanceUser, SignedIn
from app.http.deps import SessionDep, Today
from app.http.downloads import download
from app.services.versions import board as publication_board
from app.services.versions import lifecycle
from app.services.versions.board import BoardRow, BoardSort, BoardState

router = APIRouter(
    prefix="/api/v1",
    tags=["按期公开"],
    responses={code: {"model": ErrorOut} for code in (401, 403, 404, 409, 422)},
)

NO_STORE = {"Cache-Control": "no-store"}  # a signed-in user's view, and it changes by the day


class ScheduleIn(BaseModel):
    publish_on: date = Field(description="公开日期（北京时间），从今天到公开期限之间")


class ScheduledOut(BaseModel):
    catalog: str
    seq: int
    label: str
    status: str
    doc_number: str | None
    issued_on: date | None
    publication_deadline: date | None
    publish_on: date | None = Field(description="安排的公开日期；该日零时起自动公开")
    published_at: datetime | None


class BoardRowOut(BaseModel):
    catalog: str
    catalog_name: str
    seq: int
    label: str
    status: str
    doc_number: str | None
    issued_on: date | None
    publication_deadline: date | None
    working_days_left: int | None = Field(description="距公开期限的工作日数；负数为已逾期的工作日数")
    publish_on: date | None
    published_at: datetime | None
    state: BoardState
    state_label: str
    late_working_days: int | None = Field(description="逾期公开时，晚于期限的工作日数")


class BoardOut(BaseModel):
    today: date
    sort: BoardSort
    overdue: int = Field(description="已逾期（未公开）的版本数")
    due_soon: int = Field(description="3个工作日内到期的版本数")
    counts: dict[BoardState, int]
    rows: list[BoardRowOut]


@router.get(
    "/publication/board",
    response_model=BoardOut,
    summary="公开期限一览（财政）",
    description="辖区内每个已印发版本的文号、印发日期、公开期限、剩余工作日与状态。"
    "`sort=state|deadline|issued`；`format=xlsx` 下载 Excel 表格。",
    responses={200: {"content": {downloads.XLSX: {}}}},
)
def board(
    session: SessionDep,
    user: FinanceUser,
    day: Today,
    sort: Annotated[BoardSort, Query()] = BoardSort.STATE,
    format: Annotated[Literal["json", "xlsx"], Query()] = "json",
) -> Response:
    jurisdiction_id, department_id = publication_board.scope_of(user)
    rows = publication_board.board(
        session, jurisdiction_id=jurisdiction_id, department_id=department_id, today=day, sort=sort
    )
    if format == "xlsx":
        return _xlsx(rows, day)
    body = _board_out(rows, day, sort).model_dump_json()
    return Response(body, media_type="application/json", headers=NO_STORE)


@router.put(
    "/catalogs/{slug}/versions/{seq}/schedule",
    response_model=ScheduledOut,
    summary="安排公开日期（财政管理员）",
)
def schedule(
    slug: str, seq: int, body: ScheduleIn, session: SessionDep, user: SignedIn, day: Today
) -> ScheduledOut:
    version = lifecycle.schedule(session, slug, seq, on=body.publish_on, today=day, actor=user)
    return _scheduled(slug, version)


@router.delete(
    "/catalogs/{slug}/versions/{seq}/schedule",
    response_model=ScheduledOut,
    summary="取消已安排的公开日期（财政管理员）",
)
def cancel_schedule(slug: str, seq: int, session: SessionDep, user: SignedIn) -> ScheduledOut:
    return _scheduled(slug, lifecycle.unschedule(session, slug, seq, actor=user))


def _scheduled(slug: str, v: Version) -> ScheduledOut:
    return ScheduledOut(
        catalog=slug,
        seq=v.seq,
        label=v.label,
        status=v.status,
        doc_number=v.doc_number,
        issued_on=v.issued_on,
        publication_deadline=v.publication_deadline,
        publish_on=v.publish_on,
        published_at=v.published_at,
    )


def _board_out(rows: list[BoardRow], day: date, sort: BoardSort) -> BoardOut:
    counts = publication_board.counts(rows)
    return BoardOut(
        today=day,
        sort=sort,
        overdue=counts[BoardState.OVERDUE],
        due_soon=counts[BoardState.DUE_SOON],
        counts=counts,
        rows=[_row_out(r) for r in rows],
    )


def _row_out(r: BoardRow) -> BoardRowOut:
    return BoardRowOut(
        catalog=r.catalog_slug,
        catalog_name=r.catalog_name,
        seq=r.seq,
        label=r.label,
        status=r.status,
        doc_number=r.doc_number,
        issued_on=r.issued_on,
        publication_deadline=r.deadline,
        working_days_left=r.standing.days_left,
        publish_on=r.publish_on,
        published_at=r.published_at,
        state=r.standing.state,
        state_label=r.state_label,
        late_working_days=r.standing.late_days,
    )


def _xlsx(rows: list[BoardRow], day: date) -> Response:
    out = io.BytesIO()
    publication_board.write_board_xlsx(rows, out, today=day)
    return download(
        out.getvalue(),
        f"publication-board-{day.isoformat()}.xlsx",
        media_type=downloads.XLSX,
        headers=NO_STORE,
    )
