"""The official holiday data carried by the `chinesecalendar` package, as plain YearData.

Only its data tables are read (`chinese_calendar.constants`); its `find_workday` is not
used because it counts from the first working day on or after the start, one day too many
when the start is itself a rest day (REGULATIONS §3).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import chinese_calendar  # type: ignore[import-untyped]
from chinese_calendar import constants

from app.calendar.days import RestDay, YearData


def chinese_calendar_source() -> str:
    """Return the source recorded for data taken from the installed package, with its version."""
    return f"chinesecalendar {chinese_calendar.__version__}（国务院办公厅历年部分节假日安排的通知）"


def chinese_calendar_years() -> list[YearData]:
    """Return one YearData per year the installed package has holidays for, oldest first, by date.

    A year the package has no holidays for is left out, so the calendar refuses it rather
    than treating it as weekends only.
    """
    chinese = {holiday.value: holiday.chinese for holiday in constants.Holiday}
    rest: defaultdict[int, list[RestDay]] = defaultdict(list)
    for day, english in sorted(constants.holidays.items()):
        rest[day.year].append(RestDay(day, chinese[english]))
    make_up: defaultdict[int, list[date]] = defaultdict(list)
    for day in sorted(constants.workdays):
        make_up[day.year].append(day)
    source = chinese_calendar_source()
    return [YearData(year, tuple(rest[year]), tuple(make_up[year]), source) for year in sorted(rest)]
