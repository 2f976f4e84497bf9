"""Working days counted on the chinesecalendar data, against the State Council notices for 2024–2026.

Every expected date below was counted by hand from the notices (国务院办公厅关于2024/2025/2026年
部分节假日安排的通知); the comment on each case shows the count. The start day is never counted.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.calendar.days import (
    CalendarYearMissing,
    RestDay,
    WorkCalendar,
    YearData,
    add_working_days,
    is_working_day,
    make_up_days,
    rest_days,
    working_days_between,
)
from app.calendar.yearfile import parse_year_file
from app.errors import InvalidInput
from app.services.calendar.seed import chinese_calendar_years
from tests.paths import DATA

FICTIONAL_2027 = DATA / "calendar" / "fictional-2027.json"
PACKAGE_YEARS = chinese_calendar_years()
OFFICIAL = WorkCalendar.from_years(PACKAGE_YEARS)
# Only the three years under test, so "2027 is missing" stays true when the package learns 2027.
Y2024_2026 = WorkCalendar.from_years(y for y in PACKAGE_YEARS if 2024 <= y.year <= 2026)


def d(text: str) -> date:
    return date.fromisoformat(text)


DEADLINES = [
    # REGULATIONS §3, first example: Feb 2–6 (5), 9–13 (10); the make-up Sat 2-14 would be the 11th.
    pytest.param("2026-01-30", 10, "2026-02-13", id="reg-example-spring-festival-2026"),
    # REGULATIONS §3, second example, starting on a make-up Sunday: 9-29, 9-30 (2), 10-1…8 off,
    # 10-9, 10-10 (4), Sat 10-11 worked (5), 10-13…17 (10).
    pytest.param("2025-09-28", 10, "2025-10-17", id="reg-example-national-day-2025-make-up-sunday-start"),
    # Start on make-up Sunday 2024-02-04: 2-5…9 (5), 2-10…17 off, make-up Sunday 2-18 (6).
    pytest.param("2024-02-04", 6, "2024-02-18", id="make-up-sunday-start-to-make-up-sunday-2024"),
    # Start inside the 2025 Spring Festival (1-28…2-4 off): 2-5 is day 1.
    pytest.param("2025-01-30", 1, "2025-02-05", id="inside-spring-festival-2025-day-1"),
    # …and day 10: 2-5…7 (3), make-up Sat 2-8 (4), 2-10…14 (9), 2-17 (10).
    pytest.param("2025-01-30", 10, "2025-02-17", id="inside-spring-festival-2025-day-10"),
    # Inside the 2024 Spring Festival (2-10…17 off): day 1 is make-up Sunday 2-18.
    pytest.param("2024-02-12", 1, "2024-02-18", id="inside-spring-festival-2024"),
    # Inside the 2026 Spring Festival (2-15…23 off): 2-24…27 (4), make-up Sat 2-28 (5).
    pytest.param("2026-02-18", 5, "2026-02-28", id="inside-spring-festival-2026"),
    # Before the 2025 Spring Festival: Sat 1-25 off, make-up Sun 1-26 (1), 1-27 (2), 2-5 (3).
    pytest.param("2025-01-24", 3, "2025-02-05", id="over-spring-festival-2025"),
    # Across New Year into 2026: 12-26 (1), 12-29…31 (4), 1-1…3 off, make-up Sun 1-4 (5).
    pytest.param("2025-12-25", 5, "2026-01-04", id="new-year-2026-ends-on-make-up-sunday"),
    # …and on: 1-5…9 (10).
    pytest.param("2025-12-25", 10, "2026-01-09", id="new-year-2026-day-10"),
    # Across New Year into 2025 (1-1 off, no make-up day): 12-30, 12-31 (2), 1-2, 1-3 (4), 1-6 (5).
    pytest.param("2024-12-27", 5, "2025-01-06", id="new-year-2025"),
    # Start on a holiday Saturday of 元旦 2026: the make-up Sunday 1-4 is day 1.
    pytest.param("2026-01-03", 1, "2026-01-04", id="holiday-saturday-start-2026"),
    # National Day 2024: Sat 9-28 off, make-up Sun 9-29 (1), 9-30 (2), 10-1…7 off, 10-8 (3).
    pytest.param("2024-09-27", 3, "2024-10-08", id="national-day-2024-make-up-sunday"),
    # …from 9-30: 10-8…11 (4), make-up Sat 10-12 (5), 10-14…18 (10).
    pytest.param("2024-09-30", 10, "2024-10-18", id="national-day-2024-make-up-saturday"),
    # Mid-Autumn 2024: make-up Sat 9-14 (1), 9-15…17 off, 9-18 (2).
    pytest.param("2024-09-13", 2, "2024-09-18", id="mid-autumn-2024"),
    # 劳动节 2025 (5-1…5 off, make-up Sun 4-27): Sat 4-26 off, 4-27 (1).
    pytest.param("2025-04-25", 1, "2025-04-27", id="labour-day-2025-make-up-sunday"),
    # …4-28…30 (4), 5-6 (5).
    pytest.param("2025-04-25", 5, "2025-05-06", id="labour-day-2025"),
    # 劳动节 2024 (5-1…5 off, make-up Sat 5-11): 5-6…10 (5), 5-11 (6), 5-13…16 (10).
    pytest.param("2024-04-30", 10, "2024-05-16", id="labour-day-2024"),
    # 劳动节 2026 (5-1…5 off, make-up Sat 5-9): 5-6…8 (3), 5-9 (4), 5-11 (5).
    pytest.param("2026-04-30", 5, "2026-05-11", id="labour-day-2026"),
    # Mid-Autumn and National Day 2026: make-up Sun 9-20 (1), 9-21…24 (5), 9-25…27 off,
    # 9-28…30 (8), 10-1…7 off, 10-8, 10-9 (10).
    pytest.param("2026-09-18", 10, "2026-10-09", id="national-day-2026"),
    # 清明 2024 (4-4…6 off, make-up Sun 4-7).
    pytest.param("2024-04-03", 1, "2024-04-07", id="qingming-2024"),
    # 清明 2026 (4-4…6 off, no make-up day).
    pytest.param("2026-04-03", 1, "2026-04-07", id="qingming-2026"),
    # 端午 2025 (5-31…6-2 off).
    pytest.param("2025-05-30", 1, "2025-06-03", id="dragon-boat-2025"),
    # An ordinary Saturday start before 端午 2024 (Mon 6-10 off): 6-11 is day 1.
    pytest.param("2024-06-08", 1, "2024-06-11", id="saturday-start-dragon-boat-2024"),
]


@pytest.mark.parametrize(("start", "n", "expected"), DEADLINES)
def test_add_working_days_follows_the_notices(start: str, n: int, expected: str) -> None:
    assert add_working_days(d(start), n, Y2024_2026) == d(expected)


@pytest.mark.parametrize(("start", "n", "expected"), DEADLINES)
def test_the_deadline_counts_back_to_n(start: str, n: int, expected: str) -> None:
    assert working_days_between(d(start), d(expected), Y2024_2026) == n
    assert working_days_between(d(start), d(expected) - timedelta(days=1), Y2024_2026) == n - 1


# the latest start from which 25 working days still end within 2026, the last year the calendar knows
@given(
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 11, 20)),
    n=st.integers(min_value=0, max_value=25),
)
def test_the_deadline_is_the_first_day_with_n_working_days_counted(start: date, n: int) -> None:
    deadline = add_working_days(start, n, Y2024_2026)
    assert working_days_between(start, deadline, Y2024_2026) == n
    if n:
        assert is_working_day(deadline, Y2024_2026)
        assert working_days_between(start, deadline - timedelta(days=1), Y2024_2026) == n - 1


def test_zero_working_days_is_the_start_itself() -> None:
    assert add_working_days(d("2026-02-15"), 0, Y2024_2026) == d("2026-02-15")


def test_a_negative_count_is_refused() -> None:
    with pytest.raises(ValueError, match="不能为负数"):
        add_working_days(d("2026-01-30"), -1, Y2024_2026)


@pytest.mark.parametrize(
    ("today", "deadline", "left"),
    [
        pytest.param("2026-01-30", "2026-02-13", 10, id="ten-left"),
        pytest.param("2026-02-13", "2026-02-13", 0, id="due-today"),
        # Overdue: make-up Sat 2-14 (1), 2-15…23 off, 2-24 (2).
        pytest.param("2026-02-24", "2026-02-13", -2, id="two-working-days-overdue"),
        # A rest day after the deadline does not add to the lateness.
        pytest.param("2026-02-15", "2026-02-13", -1, id="overdue-over-a-holiday"),
        # The Saturday after a Friday deadline: late (today > deadline), yet no working day has passed.
        pytest.param("2026-03-07", "2026-03-06", 0, id="late-but-no-working-day-passed"),
        # Days left across New Year: 12-31 (1), 1-1…3 off, 1-4 (2), 1-5 (3).
        pytest.param("2025-12-30", "2026-01-05", 3, id="left-across-new-year"),
    ],
)
def test_working_days_left(today: str, deadline: str, left: int) -> None:
    assert working_days_between(d(today), d(deadline), Y2024_2026) == left


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2025-09-28", True),  # make-up Sunday
        ("2026-02-14", True),  # make-up Saturday
        ("2024-02-09", True),  # 除夕 2024: only "encouraged" off, a statutory working day
        ("2025-01-28", False),  # 除夕 2025: a statutory holiday since the 2025 revision
        ("2025-10-06", False),  # 中秋 inside the 2025 National Day block
        ("2026-03-07", False),  # an ordinary Saturday
        ("2026-03-09", True),  # an ordinary Monday
    ],
)
def test_is_working_day(day: str, *, working: bool) -> None:
    assert is_working_day(d(day), Y2024_2026) is working


def test_every_covered_day_agrees_with_the_package() -> None:
    day, last = date(min(OFFICIAL.years), 1, 1), date(max(OFFICIAL.years), 12, 31)
    disagreements = []
    while day <= last:
        if is_working_day(day, OFFICIAL) != chinese_calendar.is_workday(day):
            disagreements.append(day)
        day += timedelta(days=1)
    assert disagreements == []


def test_the_package_covers_2004_through_at_least_2026_without_gaps() -> None:
    years = sorted(OFFICIAL.years)
    assert years == list(range(2004, years[-1] + 1))
    assert years[-1] >= 2026


def test_the_package_data_name_their_holidays_and_source() -> None:
    assert rest_days(2026, OFFICIAL)[:3] == [RestDay(d(f"2026-01-0{i}"), "元旦") for i in (1, 2, 3)]
    assert RestDay(d("2025-10-06"), "中秋") in rest_days(2025, OFFICIAL)
    assert all(y.source.startswith(f"chinesecalendar {chinese_calendar.__version__}") for y in PACKAGE_YEARS)


def test_make_up_days_of_2026() -> None:
    expected = ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"]
    assert make_up_days(2026, Y2024_2026) == [d(x) for x in expected]


def test_a_deadline_crossing_into_an_uncovered_year_is_refused_naming_it() -> None:
    with pytest.raises(CalendarYearMissing) as caught:
        add_working_days(d("2026-12-24"), 8, Y2024_2026)
    assert caught.value.year == 2027
    assert caught.value.message == "工作日历缺少2027年的数据：请先导入国务院2027年节假日安排"
    assert isinstance(caught.value, InvalidInput)


@pytest.mark.parametrize(
    ("call", "year"),
    [
        pytest.param(lambda: is_working_day(d("2027-01-04"), Y2024_2026), 2027, id="is-working-day"),
        pytest.param(lambda: add_working_days(d("2026-12-31"), 1, Y2024_2026), 2027, id="one-day-over"),
        pytest.param(lambda: add_working_days(d("2023-12-29"), 1, Y2024_2026), 2023, id="start-uncovered"),
        pytest.param(lambda: add_working_days(d("2023-12-29"), 0, Y2024_2026), 2023, id="zero-uncovered"),
        pytest.param(
            lambda: working_days_between(d("2026-12-01"), d("2027-01-10"), Y2024_2026), 2027, id="between"
        ),
        pytest.param(
            lambda: working_days_between(d("2027-01-10"), d("2026-12-01"), Y2024_2026), 2027, id="reversed"
        ),
        pytest.param(lambda: rest_days(2027, Y2024_2026), 2027, id="rest-days"),
        pytest.param(lambda: make_up_days(2023, Y2024_2026), 2023, id="make-up-days"),
    ],
)
def test_every_function_refuses_an_uncovered_year(call: Callable[[], object], year: int) -> None:
    with pytest.raises(CalendarYearMissing, match=f"缺少{year}年"):
        call()


def test_a_gap_between_covered_years_is_refused_too() -> None:
    gappy = WorkCalendar.from_years(y for y in PACKAGE_YEARS if y.year in (2024, 2026))
    with pytest.raises(CalendarYearMissing, match="缺少2025年"):
        add_working_days(d("2024-12-27"), 5, gappy)


def test_a_year_file_extends_the_calendar_past_the_package() -> None:
    fictional = parse_year_file(FICTIONAL_2027.read_text(encoding="utf-8"))
    cal = WorkCalendar.from_years([*(y for y in PACKAGE_YEARS if 2024 <= y.year <= 2026), fictional])
    # Fictional data: make-up Sat 2026-12-26, 2027-01-01…04 off. 12-25 (1), 12-26 (2), 12-28…31 (6),
    # 1-5 (7), 1-6 (8).
    assert add_working_days(d("2026-12-24"), 8, cal) == d("2027-01-06")
    assert is_working_day(d("2026-12-26"), cal)
    assert make_up_days(2026, cal)[-1] == d("2026-12-26")


def test_find_workday_counts_one_day_too_many_from_a_rest_day() -> None:
    # Why we count ourselves: find_workday(n, d) first moves to the working day on or after d and
    # calls it day 0. From a working day that is right; from a rest day it adds one day.
    holiday, workday = d("2025-01-30"), d("2026-01-30")
    assert chinese_calendar.find_workday(10, holiday) == d("2025-02-18")
    assert add_working_days(holiday, 10, OFFICIAL) == d("2025-02-17")
    assert chinese_calendar.find_workday(10, workday) == add_working_days(workday, 10, OFFICIAL)


def year_data(number: int, rest: list[str], make_up: list[str]) -> YearData:
    return YearData(number, tuple(RestDay(d(x), "假日") for x in rest), tuple(d(x) for x in make_up), "测试")


@pytest.mark.parametrize(
    ("years", "message"),
    [
        pytest.param(
            [year_data(2030, ["2030-01-01"], []), year_data(2030, ["2030-01-02"], [])],
            "2030年的数据重复",
            id="twice",
        ),
        # The 2031 notice works Sat 2030-12-28, which the 2030 data call a rest day.
        pytest.param(
            [year_data(2030, ["2030-12-28"], []), year_data(2031, ["2031-01-01"], ["2030-12-28"])],
            "2030-12-28 既是放假日又是调休上班日",
            id="contradicting-years",
        ),
        pytest.param(
            [YearData(2030, (RestDay(d("2030-01-01"), "元旦"),), (), " ")], "缺少来源", id="no-source"
        ),
    ],
)
def test_a_calendar_refuses_contradicting_years(years: list[YearData], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        WorkCalendar.from_years(years)
