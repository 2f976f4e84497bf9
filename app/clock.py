"""The one Beijing clock: the zone every date in the product is counted in, and the current moment.

The pure domain never reads a clock; services and the HTTP layer take `now`/`today` from here
(or from a test) and pass them in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")

Clock = Callable[[], datetime]


def real_clock() -> datetime:
    """Return the current moment (timezone-aware, UTC)."""
    return datetime.now(UTC)


def beijing_date(moment: datetime) -> date:
    """Return the calendar day in Beijing at `moment` (an aware datetime)."""
    return moment.astimezone(BEIJING).date()


def beijing_today() -> date:
    """Return today's date in Beijing."""
    return beijing_date(real_clock())


def start_of_day(day: date) -> datetime:
    """Return the first moment of `day` in Beijing (aware)."""
    return datetime.combine(day, time(), tzinfo=BEIJING)


def end_of_day(day: date) -> datetime:
    """Return the first moment after `day` in Beijing (aware): the exclusive end of that day."""
    return start_of_day(day + timedelta(days=1))
