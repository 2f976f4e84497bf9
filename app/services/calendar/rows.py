"""The calendar's tables as plain data: a year's rows checked against the others, written, read back.

Shared by seeding, loading a year file and building the WorkCalendar (workdays): every way a
year gets into the tables passes the same checks.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import NoReturn

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.calendar.days import RestDay, WorkCalendar, YearData
from app.db.models import CalendarDay, CalendarYear
from app.errors import InvalidInput

MAX_SOURCE, MAX_NAME = 300, 32  # the column widths of calendar_years.source and calendar_days.name
NEW_YEAR = "new"  # the state of a year not loaded yet (see year_state)


@dataclass(frozen=True, slots=True)
class LoadedYear:
    """A year as it is loaded now: its source and how many rest and make-up days are stored under it."""

    source: str
    rest_days: int
    make_up_days: int


def refuse(problems: list[str]) -> NoReturn:
    """Raise InvalidInput listing every problem (`details`); one problem is its own message."""
    if len(problems) == 1:
        raise InvalidInput(problems[0], details=problems)
    raise InvalidInput(f"发现 {len(problems)} 处问题：" + "；".join(problems), details=problems)


def problems(session: Session, data: YearData) -> list[str]:
    """Return every reason the tables cannot take `data`: texts too long for their columns, days
    that another year's data contradicts. Empty when it can be written."""
    return [*_fit_problems(data), *_split(session, data)[1]]


def check_fits(data: YearData) -> YearData:
    """Return `data` if its texts fit their columns; raise InvalidInput listing every one that does not."""
    found = _fit_problems(data)
    if found:
        refuse(found)
    return data


def new_days(session: Session, data: YearData) -> list[dict[str, object]]:
    """Return the calendar_days rows `data` adds; raise InvalidInput naming each day another year contradicts.

    A notice may arrange the last days of December of the year before, which that year's own
    data may already hold: the same arrangement is kept once (under that year), a contradiction
    is refused.
    """
    rows, found = _split(session, data)
    if found:
        refuse(found)
    return rows


def _fit_problems(data: YearData) -> list[str]:
    found = []
    if len(data.source) > MAX_SOURCE:
        found.append(f"{data.year}年节假日安排：来源不能超过{MAX_SOURCE}个字")
    long_names = sorted({rest.name for rest in data.rest_days if len(rest.name) > MAX_NAME})
    return found + [f"{data.year}年节假日安排：节日名称“{name}”超过{MAX_NAME}个字" for name in long_names]


def _split(session: Session, data: YearData) -> tuple[list[dict[str, object]], list[str]]:
    """Return the rows `data` adds, and a problem for each day another year's data contradicts."""
    wanted = {r.day: ("rest", r.name) for r in data.rest_days}
    wanted |= dict.fromkeys(data.make_up_days, ("work", ""))
    others = select(CalendarDay).where(CalendarDay.day.in_(list(wanted)), CalendarDay.year != data.year)
    stored = {row.day: row for row in session.scalars(others)}
    rows: list[dict[str, object]] = []
    found = []
    for day, (kind, name) in sorted(wanted.items()):
        other = stored.get(day)
        if other is not None and other.kind != kind:
            found.append(
                f"{data.year}年节假日安排与{other.year}年的数据矛盾：{day.isoformat()} "
                f"在{other.year}年的数据中是{'放假日' if other.kind == 'rest' else '调休上班日'}"
            )
        elif other is None:
            rows.append({"day": day, "year": data.year, "kind": kind, "name": name})
    return rows, found


def insert_days(session: Session, rows: list[dict[str, object]]) -> None:
    """Add the calendar_days `rows` (from new_days) to the session's transaction."""
    if rows:
        session.execute(insert(CalendarDay), rows)


def build_calendar(session: Session, *, instead: YearData | None = None) -> WorkCalendar:
    """Return the calendar held in the tables; with `instead`, as it would be with that year loaded."""
    rest: defaultdict[int, list[RestDay]] = defaultdict(list)
    work: defaultdict[int, list[date]] = defaultdict(list)
    for row in session.scalars(select(CalendarDay).order_by(CalendarDay.day)):
        if row.kind == "rest":
            rest[row.year].append(RestDay(row.day, row.name))
        else:
            work[row.year].append(row.day)
    years = session.execute(select(CalendarYear.year, CalendarYear.source))
    held = [YearData(year, tuple(rest[year]), tuple(work[year]), source) for year, source in years]
    if instead is not None:
        held = [*(data for data in held if data.year != instead.year), instead]
    return WorkCalendar.from_years(held)


def year_state(session: Session, year: int) -> str:
    """Return a digest of the year as loaded now (NEW_YEAR if it is not): a preview's view of it."""
    row = session.get(CalendarYear, year, populate_existing=True)
    if row is None:
        return NEW_YEAR
    days = session.execute(
        select(CalendarDay.day, CalendarDay.kind, CalendarDay.name)
        .where(CalendarDay.year == year)
        .order_by(CalendarDay.day)
    )
    parts = [row.loaded_at.isoformat(), row.source, *(f"{day}:{kind}:{name}" for day, kind, name in days)]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def loaded_year(session: Session, year: CalendarYear) -> LoadedYear:
    """Return `year` as loaded now, with how many rest and make-up days are stored under it."""
    kinds = list(session.scalars(select(CalendarDay.kind).where(CalendarDay.year == year.year)))
    return LoadedYear(year.source, kinds.count("rest"), kinds.count("work"))
