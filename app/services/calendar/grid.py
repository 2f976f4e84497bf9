"""The calendar as people read it: each day marked (rest, make-up, weekend) in Monday-first month grids,
and the days a new notice would mark differently.

Plain functions of a WorkCalendar (no database): the calendar page shows a loaded year with them,
and a year file's preview shows the calendar as it would be once the file is loaded.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from app.calendar.days import SATURDAY, WorkCalendar, in_notice_span

ONE_DAY = timedelta(days=1)


class DayKind(StrEnum):
    WORKDAY = "workday"
    WEEKEND = "weekend"
    REST = "rest"  # a statutory rest day (休)
    MAKE_UP = "make_up"  # a weekend day worked (班)

    @property
    def label(self) -> str:
        """Return how the page names the kind in words."""
        return KIND_LABELS[self]


KIND_LABELS = {
    DayKind.WORKDAY: "工作日",
    DayKind.WEEKEND: "周末",
    DayKind.REST: "休",
    DayKind.MAKE_UP: "班",
}


@dataclass(frozen=True, slots=True)
class Day:
    """One day as the calendar marks it; `name` is the holiday's for a rest day, else empty."""

    day: date
    kind: DayKind
    name: str = ""

    @property
    def label(self) -> str:
        """Return the mark in words: 休（春节）, 班, 周末 or 工作日."""
        return f"休（{self.name}）" if self.kind is DayKind.REST and self.name else self.kind.label


@dataclass(frozen=True, slots=True)
class Month:
    """A month as weeks from Monday to Sunday; None stands for a day of the month before or after."""

    year: int
    month: int
    weeks: tuple[tuple[Day | None, ...], ...]


@dataclass(frozen=True, slots=True)
class YearGrid:
    """A year's twelve months, and the days of the December before that its notice arranges."""

    year: int
    months: tuple[Month, ...]
    december_before: tuple[Day, ...]


@dataclass(frozen=True, slots=True)
class DayChange:
    """A day a new notice marks differently from the calendar as loaded."""

    before: Day
    after: Day


def day_of(day: date, cal: WorkCalendar) -> Day:
    """Return `day` as `cal` marks it (a year `cal` does not cover reads as weekdays and weekends)."""
    if day in cal.make_up_days:
        return Day(day, DayKind.MAKE_UP)
    name = cal.rest_days.get(day)
    if name is not None:
        return Day(day, DayKind.REST, name)
    return Day(day, DayKind.WEEKEND if day.weekday() >= SATURDAY else DayKind.WORKDAY)


def year_grid(year: int, cal: WorkCalendar, *, arranged: tuple[date, ...] = ()) -> YearGrid:
    """Return the months of `year` as `cal` marks them; `arranged` days of the December before are listed."""
    months = tuple(_month(year, month, cal) for month in range(1, 13))
    before = tuple(day_of(d, cal) for d in sorted(arranged) if d.year == year - 1)
    return YearGrid(year, months, before)


def _month(year: int, month: int, cal: WorkCalendar) -> Month:
    first = date(year, month, 1)
    day = first - timedelta(days=first.weekday())  # the Monday of the first week
    weeks: list[tuple[Day | None, ...]] = []
    while day.year < year or (day.year == year and day.month <= month):
        week = tuple(day_of(d, cal) if d.month == month else None for d in _days(day, 7))
        weeks.append(week)
        day += timedelta(days=7)
    return Month(year, month, tuple(weeks))


def changes(year: int, before: WorkCalendar, after: WorkCalendar) -> list[DayChange]:
    """Return the days of `year`'s notice span (and its December before) that `after` marks differently.

    Only days of years `before` covers are compared: a year not loaded yet has nothing to differ from.
    """
    start = date(year - 1, 12, 1)
    span = (d for d in _days(start, (date(year, 12, 31) - start).days + 1) if in_notice_span(d, year))
    found = []
    for day in span:
        if day.year not in before.years:
            continue
        old, new = day_of(day, before), day_of(day, after)
        if old != new:
            found.append(DayChange(old, new))
    return found


def _days(start: date, count: int) -> Iterator[date]:
    return (start + ONE_DAY * i for i in range(count))
