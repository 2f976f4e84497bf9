"""The calendar page, read: the years the calendar holds, one year as month grids, the years it lacks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.models import AuditEvent, CalendarDay, CalendarYear, User
from app.services.access import CLI, SEED, require_admin
from app.services.calendar import workdays
from app.services.calendar.grid import YearGrid, year_grid

# The notice for year Y is usually published in November of Y-1 (REGULATIONS §3): from then on a
# calendar without Y is a gap someone must fill before deadlines reach into it.
WARN_FROM_MONTH = 11
SYSTEM_NAMES = {SEED.name: "系统初始化", CLI.name: "命令行"}


@dataclass(frozen=True, slots=True)
class YearLine:
    """One year the calendar holds: where its data comes from, who loaded it and when, how many days."""

    year: int
    source: str
    loaded_at: datetime
    loaded_by: str  # the person's username, or how the system wrote it (系统初始化, 命令行)
    rest_days: int
    make_up_days: int


@dataclass(frozen=True, slots=True)
class CalendarPage:
    years: list[YearLine]  # newest first
    year: int  # the year shown
    grid: YearGrid | None  # None: the calendar lacks that year
    missing: tuple[int, ...]  # see missing_years


def calendar_page(session: Session, actor: User, *, today: date, year: int | None) -> CalendarPage:
    """Return the years the calendar holds and `year` (default: this year) as month grids.

    May seed the calendar first (see workdays.work_calendar).
    """
    require_admin(actor)
    cal = workdays.work_calendar(session)
    shown = today.year if year is None else year
    grid = year_grid(shown, cal) if shown in cal.years else None
    return CalendarPage(_year_lines(session), shown, grid, missing_years(session, today=today))


def missing_years(session: Session, *, today: date) -> tuple[int, ...]:
    """Return the years the calendar should hold by `today` and lacks: this year, from 1 November the next.

    May seed the calendar first (see workdays.work_calendar).
    """
    held = workdays.work_calendar(session).years
    wanted = [today.year, today.year + 1] if today.month >= WARN_FROM_MONTH else [today.year]
    return tuple(year for year in wanted if year not in held)


def _year_lines(session: Session) -> list[YearLine]:
    counts: dict[tuple[int, str], int] = {
        (year, kind): n
        for year, kind, n in session.execute(
            select(CalendarDay.year, CalendarDay.kind, func.count()).group_by(
                CalendarDay.year, CalendarDay.kind
            )
        )
    }
    loads = session.execute(
        select(AuditEvent.object_id, AuditEvent.actor_id.is_not(None), AuditEvent.actor_name)
        .where(AuditEvent.object_type == "calendar_year", AuditEvent.action == "calendar.load")
        .order_by(AuditEvent.id)
    )
    by = {
        int(year): name if actor_id is not None else SYSTEM_NAMES.get(name, name)
        for year, actor_id, name in loads
    }
    return [
        YearLine(
            row.year,
            row.source,
            row.loaded_at,
            by.get(row.year, SYSTEM_NAMES[SEED.name]),
            counts.get((row.year, "rest"), 0),
            counts.get((row.year, "work"), 0),
        )
        for row in session.scalars(select(CalendarYear).order_by(CalendarYear.year.desc()))
    ]
