"""Chinese working days: weekdays work, weekends rest, as amended by the State Council's notices.

A day is a working day when it is a make-up working day (调休上班), or else when it is a
Monday–Friday that is not a statutory rest day. The calendar is plain data passed in
(no clock, no storage); every function refuses a date in a year the calendar does not
cover instead of guessing from weekends alone (REGULATIONS §3).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import MappingProxyType

from app.errors import InvalidInput

ONE_DAY = timedelta(days=1)
SATURDAY = 5  # date.weekday(): Monday is 0, so 5 and 6 are the weekend


class CalendarYearMissing(InvalidInput):
    """A date lies in a year whose holiday notice the calendar does not hold."""

    code = "calendar_year_missing"

    def __init__(self, year: int) -> None:
        super().__init__(f"工作日历缺少{year}年的数据：请先导入国务院{year}年节假日安排")
        self.year = year


@dataclass(frozen=True, slots=True)
class RestDay:
    """A statutory rest day (a holiday day or a weekday given off in exchange) and its holiday's name."""

    day: date
    name: str


@dataclass(frozen=True, slots=True)
class YearData:
    """One year's notice as plain data: its rest days, its make-up working days and where they come from.

    Days normally lie in `year`; a notice may also arrange the last days of December of the
    year before (the 2019 notice worked 2018-12-29 and rested 2018-12-31).
    """

    year: int
    rest_days: tuple[RestDay, ...]
    make_up_days: tuple[date, ...]
    source: str


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    """The years covered, the statutory rest days (day → holiday name) and the make-up working days."""

    years: frozenset[int]
    rest_days: Mapping[date, str] = field(hash=False)
    make_up_days: frozenset[date]

    @classmethod
    def from_years(cls, years: Iterable[YearData]) -> WorkCalendar:
        """Return the calendar of `years`; raise InvalidInput if one is invalid, repeated or contradicted."""
        covered: set[int] = set()
        rest: dict[date, str] = {}
        make_up: set[date] = set()
        for data in years:
            validate_year(data)
            if data.year in covered:
                raise InvalidInput(f"工作日历中{data.year}年的数据重复")
            covered.add(data.year)
            for day in data.rest_days:
                rest.setdefault(day.day, day.name)
            make_up.update(data.make_up_days)
        _refuse_overlap(rest, make_up, "工作日历")
        return cls(frozenset(covered), MappingProxyType(rest), frozenset(make_up))


def validate_year(data: YearData) -> YearData:
    """Return `data` unchanged; raise InvalidInput listing (in `details`) every day that breaks a
    notice's invariants, the first in the message."""
    found = year_problems(data)
    if found:
        raise problems_error(found)
    return data


def year_problems(data: YearData) -> list[str]:
    """Return every way `data` breaks a notice's invariants, in Chinese; empty when it keeps them."""
    where = f"{data.year}年节假日安排"
    found: list[str] = []
    if not data.source.strip():
        found.append(f"{where}：缺少来源（通知名称与文号）")
    rest = [r.day for r in data.rest_days]
    for day in [*rest, *data.make_up_days]:
        if not in_notice_span(day, data.year):
            found.append(f"{where}：日期 {day.isoformat()} 不在{data.year}年（或上年12月）内")
    found.extend(_duplicates(rest, f"{where}：放假日"))
    found.extend(_duplicates(data.make_up_days, f"{where}：调休上班日"))
    found.extend(
        f"{where}：调休上班日 {day.isoformat()} 不是周六或周日"
        for day in data.make_up_days
        if day.weekday() < SATURDAY
    )
    found.extend(
        f"{where}：{day.isoformat()} 既是放假日又是调休上班日"
        for day in sorted(set(rest) & set(data.make_up_days))
    )
    return found


def problems_error(found: list[str]) -> InvalidInput:
    """Return the refusal of `found`: one problem is its own message; several are counted (`details`)."""
    if len(found) == 1:
        return InvalidInput(found[0], details=found)
    return InvalidInput(f"发现 {len(found)} 处问题：" + "；".join(found), details=found)


def in_notice_span(day: date, year: int) -> bool:
    """Return whether the notice for `year` may arrange `day`: a day of `year` or of the December before."""
    return day.year == year or (day.year == year - 1 and day.month == 12)


def _duplicates(days: Iterable[date], what: str) -> list[str]:
    seen: set[date] = set()
    found = []
    for day in days:
        if day in seen:
            found.append(f"{what}中 {day.isoformat()} 重复出现")
        seen.add(day)
    return found


def _refuse_overlap(rest: Iterable[date], make_up: Iterable[date], where: str) -> None:
    both = sorted(set(rest) & set(make_up))
    if both:
        raise InvalidInput(f"{where}：{both[0].isoformat()} 既是放假日又是调休上班日")


def require_year(year: int, cal: WorkCalendar) -> None:
    """Return None if `cal` covers `year`; raise CalendarYearMissing naming it otherwise."""
    if year not in cal.years:
        raise CalendarYearMissing(year)


def is_working_day(day: date, cal: WorkCalendar) -> bool:
    """Return whether people work on `day`; raise CalendarYearMissing if its year is not covered."""
    require_year(day.year, cal)
    if day in cal.make_up_days:
        return True
    return day.weekday() < SATURDAY and day not in cal.rest_days


def add_working_days(start: date, n: int, cal: WorkCalendar) -> date:
    """Return the `n`-th working day after `start`, which is not counted (`n` == 0 returns `start`).

    Every year from `start` through the result must be covered, else CalendarYearMissing;
    a negative `n` raises ValueError.
    """
    if n < 0:
        raise ValueError(f"工作日数不能为负数：{n}")
    require_year(start.year, cal)
    day, counted = start, 0
    while counted < n:
        day += ONE_DAY
        counted += is_working_day(day, cal)
    return day


def working_days_between(start: date, end: date, cal: WorkCalendar) -> int:
    """Return the number of working days after `start` up to and including `end`.

    When `end` is before `start` the answer is the negative of the count the other way round,
    so with `start` = today and `end` = a deadline, k > 0 means "k working days left" and -k
    means "k working days overdue". Decide "overdue" by `today > deadline`, not by the count:
    on a rest day just after the deadline the count is still 0. Every year in between must be
    covered, else CalendarYearMissing.
    """
    if end < start:
        return -working_days_between(end, start, cal)
    require_year(start.year, cal)
    count = 0
    day = start
    while day < end:
        day += ONE_DAY
        count += is_working_day(day, cal)
    return count


def rest_days(year: int, cal: WorkCalendar) -> list[RestDay]:
    """Return the statutory rest days dated in `year`, in date order (ordinary weekends not listed)."""
    require_year(year, cal)
    return [RestDay(day, cal.rest_days[day]) for day in sorted(cal.rest_days) if day.year == year]


def make_up_days(year: int, cal: WorkCalendar) -> list[date]:
    """Return the make-up working days (调休上班) dated in `year`, in date order."""
    require_year(year, cal)
    return sorted(day for day in cal.make_up_days if day.year == year)
