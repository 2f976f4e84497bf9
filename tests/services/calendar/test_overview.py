"""The calendar page, read: the years held and who loaded them, a year as month grids, the years missing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.calendar.days import WorkCalendar
from app.db.models import User
from app.errors import Forbidden
from app.services.calendar import overview, workdays
from app.services.calendar.grid import DayKind, changes, year_grid
from app.services.calendar.seed import chinese_calendar_years
from tests.factories import SYSTEM
from tests.services.calendar.test_loading import Y2099, year_file
from tests.workflow_world import world

PACKAGE = WorkCalendar.from_years(chinese_calendar_years())


@pytest.fixture
def through_2026(monkeypatch: pytest.MonkeyPatch) -> None:
    """Have the calendar hold the package's years through 2026 only, whatever the package's version."""
    years = [y for y in chinese_calendar_years() if y.year <= 2026]
    monkeypatch.setattr(workdays, "chinese_calendar_years", lambda: years)
    monkeypatch.setattr(workdays, "package_years", lambda: frozenset(y.year for y in years))


def test_a_month_is_weeks_from_monday_to_sunday() -> None:
    grid = year_grid(2026, PACKAGE)
    assert [m.month for m in grid.months] == list(range(1, 13))
    february = grid.months[1]  # Sunday 2026-02-01 closes the first week
    assert [d.day.day if d else None for d in february.weeks[0]] == [None] * 6 + [1]
    assert all(len(week) == 7 for week in february.weeks)
    days = {d.day: d for week in february.weeks for d in week if d}
    assert len(days) == 28
    assert (days[date(2026, 2, 17)].kind, days[date(2026, 2, 17)].name) == (DayKind.REST, "春节")
    assert days[date(2026, 2, 17)].label == "休（春节）"
    assert days[date(2026, 2, 14)].kind is DayKind.MAKE_UP  # Saturday, worked before the festival
    assert days[date(2026, 2, 7)].kind is DayKind.WEEKEND
    assert days[date(2026, 2, 2)].kind is DayKind.WORKDAY
    assert year_grid(2026, PACKAGE).december_before == ()


def test_changes_compare_only_years_already_held() -> None:
    assert changes(2026, PACKAGE, PACKAGE) == []
    empty = WorkCalendar.from_years([])
    assert changes(2026, empty, PACKAGE) == []  # nothing loaded to differ from


@pytest.mark.usefixtures("through_2026")
@pytest.mark.parametrize(
    ("today", "missing"),
    [
        pytest.param(date(2026, 10, 31), (), id="before-november"),
        pytest.param(date(2026, 11, 1), (2027,), id="from-1-november"),
        pytest.param(date(2026, 12, 31), (2027,), id="december"),
        pytest.param(date(2027, 1, 4), (2027,), id="this-year-missing"),
    ],
)
def test_next_year_is_missing_from_1_november(
    session: Session, today: date, missing: tuple[int, ...]
) -> None:
    assert overview.missing_years(session, today=today) == missing


@pytest.mark.usefixtures("through_2026")
def test_a_loaded_next_year_is_not_missing(session: Session) -> None:
    fictional_2027 = year_file(2027, {"虚构元旦": ["2027-01-01"]}, [])
    workdays.load_year_file(session, fictional_2027, actor=SYSTEM)
    assert overview.missing_years(session, today=date(2026, 11, 1)) == ()


def test_the_page_lists_each_year_with_who_loaded_it(session: Session) -> None:
    world(session)
    admin = session.scalars(select(User).where(User.username == "admin")).one()
    plan = workdays.plan_load(session, Y2099, actor=admin)
    workdays.load_year_file(session, Y2099, actor=admin, replace=True, previewed=plan.previewed)
    page = overview.calendar_page(session, admin, today=date(2026, 11, 2), year=2099)
    newest, *older = page.years
    assert (newest.year, newest.loaded_by, newest.rest_days, newest.make_up_days) == (2099, "admin", 2, 1)
    assert newest.source == "虚构测试数据（FICTIONAL）"
    assert {line.loaded_by for line in older} == {"系统初始化"}
    assert page.grid is not None
    assert page.grid.year == 2099
    assert overview.calendar_page(session, admin, today=date(2026, 11, 2), year=2098).grid is None


@pytest.mark.parametrize("who", ["minzheng", "reviewer"])
def test_only_admins_see_the_page(session: Session, who: str) -> None:
    world(session)
    clerk = session.scalars(select(User).where(User.username == who)).one()
    with pytest.raises(Forbidden):
        overview.calendar_page(session, clerk, today=date(2026, 11, 2), year=None)
