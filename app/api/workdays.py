"""Working days (public): the date N working days after another, and one year's holiday arrangement."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from app.api.schemas import ErrorOut
from app.http.deps import SessionDep
from app.services.calendar import workdays

router = APIRouter(prefix="/api/v1", tags=["工作日"], responses={422: {"model": ErrorOut}})


class WorkdayOut(BaseModel):
    date: dt.date = Field(description="第 N 个工作日（起算日不计入）")


class RestDayOut(BaseModel):
    date: dt.date
    name: str = Field(description="节日名称，如 春节")


class MakeUpDayOut(BaseModel):
    date: dt.date


class YearOut(BaseModel):
    year: int
    source: str = Field(description="数据来源：国务院办公厅通知或 chinesecalendar 软件包")
    rest_days: list[RestDayOut] = Field(description="法定放假日（不含普通周末）")
    make_up_days: list[MakeUpDayOut] = Field(description="调休上班的周六、周日")


@router.get(
    "/workdays/add",
    response_model=WorkdayOut,
    summary="某日之后第 N 个工作日",
    description="起算日不计入，第1天为其后的第一个工作日；工作日历缺少所需年份的数据时返回 422。",
)
def add(
    session: SessionDep,
    date: Annotated[dt.date, Query(description="起算日 YYYY-MM-DD")],
    days: Annotated[int, Query(ge=0, description="工作日数 N")],
) -> WorkdayOut:
    return WorkdayOut(date=workdays.add_days(session, date, days))


@router.get(
    "/workdays",
    response_model=YearOut,
    summary="某年的放假日与调休上班日",
    description="工作日历缺少该年数据时返回 422。",
)
def year(session: SessionDep, year: Annotated[int, Query(ge=1000, le=9999)]) -> YearOut:
    view = workdays.year_view(session, year)
    return YearOut(
        year=view.year,
        source=view.source,
        rest_days=[RestDayOut(date=r.day, name=r.name) for r in view.rest_days],
        make_up_days=[MakeUpDayOut(date=d) for d in view.make_up_days],
    )
