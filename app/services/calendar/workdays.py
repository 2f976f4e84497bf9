"""The working-day calendar in the database: seeded, loaded from year files, read as a WorkCalendar.

The tables hold every year the installed `chinesecalendar` package carries, plus years an
administrator loaded from a State Council notice (a year file, catalogs/calendar/README.md).
`work_calendar` builds the pure WorkCalendar from them once per process and rebuilds it only
when a year is added or replaced, so a request pays one small query for it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.calendar.days import RestDay, WorkCalendar, YearData, add_working_days, make_up_days, rest_days
from app.calendar.yearfile import parse_year_file
from app.config import PROJECT_ROOT
from app.db.models import CalendarDay, CalendarYear
from app.errors import Conflict, InvalidInput
from app.services import audit
from app.services.access import SEED, Actor
from app.services.calendar.seed import chinese_calendar_years

log = logging.getLogger(__name__)

YEAR_FILES = PROJECT_ROOT / "catalogs" / "calendar"
SYSTEM = "system"
MAX_SOURCE, MAX_NAME = 300, 32  # the column widths of calendar_years.source and calendar_days.name

Stamps = tuple[tuple[int, datetime], ...]
_CACHE: dict[str, tuple[Stamps, WorkCalendar]] = {}  # database URL → (what it was built from, calendar)


@dataclass(frozen=True, slots=True)
class SeedResult:
    """The years a seeding wrote, and the notes on year files it ignored."""

    years: tuple[int, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class YearLoaded:
    """What loading one year file did."""

    year: int
    source: str
    rest_days: int
    make_up_days: int
    replaced: bool


@dataclass(frozen=True, slots=True)
class YearView:
    """One year of the calendar: its notice's source, its statutory rest days and make-up working days."""

    year: int
    source: str
    rest_days: list[RestDay]
    make_up_days: list[date]


@cache
def package_years() -> frozenset[int]:
    """Return the years the installed chinesecalendar package carries."""
    return frozenset(data.year for data in chinese_calendar_years())


def seed_calendar(session: Session, *, folder: Path = YEAR_FILES) -> SeedResult:
    """Write every package year and every year file in `folder` not yet loaded, commit, return what it did.

    A year already present is left alone; a year file for a year the package carries, or a
    file that does not validate, is ignored with a note (logged as well).
    """
    present = set(session.scalars(select(CalendarYear.year)))
    files, notes = _year_files(folder)
    loaded_at = datetime.now(UTC)
    written = [
        data.year
        for data in [*chinese_calendar_years(), *files]
        if data.year not in present and _seed_year(session, data, loaded_at, notes)
    ]
    if written:
        audit.record(
            session,
            actor=SEED,
            action="calendar.seed",
            object_type="calendar",
            object_id="seed",
            summary={"years": written, "notes": notes},
        )
    session.commit()
    _CACHE.clear()
    for note in notes:
        log.warning("%s", note)
    return SeedResult(tuple(written), tuple(notes))


def _seed_year(session: Session, data: YearData, loaded_at: datetime, notes: list[str]) -> bool:
    """Write one year (flush only) and return True; a year file that cannot be written is noted instead."""
    try:
        rows = _new_days(session, _check_fits(data))
    except InvalidInput as exc:
        if data.year in package_years():
            raise  # the package's own data must always load
        notes.append(f"忽略{data.year}年的工作日历文件：{exc.message}")
        return False
    session.add(CalendarYear(year=data.year, source=data.source, loaded_at=loaded_at))
    session.flush()
    _insert(session, rows)
    return True


def _year_files(folder: Path) -> tuple[list[YearData], list[str]]:
    """Return the valid year files in `folder` for years the package does not carry, and notes on the rest."""
    found: dict[int, YearData] = {}
    notes: list[str] = []
    for path in sorted(folder.glob("*.json")):
        try:
            data = parse_year_file(path.read_text(encoding="utf-8"))
        except (InvalidInput, UnicodeDecodeError) as exc:
            notes.append(f"忽略工作日历文件 {path.name}：{getattr(exc, 'message', exc)}")
            continue
        if data.year in package_years():
            notes.append(f"忽略工作日历文件 {path.name}：chinesecalendar 已包含{data.year}年的数据")
        elif data.year in found:
            notes.append(f"忽略工作日历文件 {path.name}：{data.year}年已由另一个文件提供")
        else:
            found[data.year] = data
    return list(found.values()), notes


def load_year_file(session: Session, text: str, *, actor: Actor, replace: bool = False) -> YearLoaded:
    """Validate the year file `text`, write its year (replacing it only if `replace`), audit, commit.

    Raise InvalidInput for a bad file and Conflict for a year already loaded without `replace`.
    """
    data = _check_fits(parse_year_file(text))
    existing = session.get(CalendarYear, data.year)
    if existing is not None and not replace:
        raise Conflict(
            f"工作日历已有{data.year}年的数据（来源：{existing.source}）；"
            "如确需以此文件替换，请选择“替换”（命令行加 --replace）"
        )
    rows, replaced = _new_days(session, data), existing is not None
    before = None if existing is None else _year_summary(session, existing)
    if existing is None:
        session.add(CalendarYear(year=data.year, source=data.source, loaded_at=datetime.now(UTC)))
    else:
        session.execute(delete(CalendarDay).where(CalendarDay.year == data.year))
        existing.source, existing.loaded_at = data.source, datetime.now(UTC)
    session.flush()
    _insert(session, rows)
    loaded = YearLoaded(data.year, data.source, len(data.rest_days), len(data.make_up_days), replaced)
    after = {"source": data.source, "rest_days": loaded.rest_days, "make_up_days": loaded.make_up_days}
    _audit_load(session, actor, data.year, {"before": before, "after": after})
    session.commit()
    _CACHE.clear()
    return loaded


def _audit_load(session: Session, actor: Actor, year: int, summary: dict[str, object]) -> None:
    audit.record(
        session,
        actor=actor,
        action="calendar.load",
        object_type="calendar_year",
        object_id=year,
        summary=summary,
    )


def _year_summary(session: Session, year: CalendarYear) -> dict[str, object]:
    kinds = list(session.scalars(select(CalendarDay.kind).where(CalendarDay.year == year.year)))
    return {"source": year.source, "rest_days": kinds.count("rest"), "make_up_days": kinds.count("work")}


def _check_fits(data: YearData) -> YearData:
    """Return `data` if its texts fit their columns; raise InvalidInput otherwise."""
    if len(data.source) > MAX_SOURCE:
        raise InvalidInput(f"{data.year}年节假日安排：来源不能超过{MAX_SOURCE}个字")
    for rest in data.rest_days:
        if len(rest.name) > MAX_NAME:
            raise InvalidInput(f"{data.year}年节假日安排：节日名称“{rest.name}”超过{MAX_NAME}个字")
    return data


def _new_days(session: Session, data: YearData) -> list[dict[str, object]]:
    """Return the calendar_days rows `data` adds; raise InvalidInput if another year contradicts one.

    A notice may arrange the last days of December of the year before, which that year's own
    data may already hold: the same arrangement is kept once (under that year), a contradiction
    is refused.
    """
    wanted = {r.day: ("rest", r.name) for r in data.rest_days}
    wanted |= dict.fromkeys(data.make_up_days, ("work", ""))
    others = select(CalendarDay).where(CalendarDay.day.in_(list(wanted)), CalendarDay.year != data.year)
    stored = {row.day: row for row in session.scalars(others)}
    rows: list[dict[str, object]] = []
    for day, (kind, name) in sorted(wanted.items()):
        other = stored.get(day)
        if other is not None and other.kind != kind:
            raise InvalidInput(
                f"{data.year}年节假日安排与{other.year}年的数据矛盾：{day.isoformat()} "
                f"在{other.year}年的数据中是{'放假日' if other.kind == 'rest' else '调休上班日'}"
            )
        if other is None:
            rows.append({"day": day, "year": data.year, "kind": kind, "name": name})
    return rows


def _insert(session: Session, rows: list[dict[str, object]]) -> None:
    if rows:
        session.execute(insert(CalendarDay), rows)


def work_calendar(session: Session) -> WorkCalendar:
    """Return the calendar held in the database, built at most once per change of its years.

    When the tables lack a year the installed package carries (a new database, or a newer
    package) it seeds them first, which COMMITS the session: call it before changing anything.
    """
    stamps = _stamps(session)
    if not package_years() <= {year for year, _ in stamps}:
        _seed_once(session)
        stamps = _stamps(session)
    key = session.get_bind().engine.url.render_as_string(hide_password=False)
    cached = _CACHE.get(key)
    if cached is not None and cached[0] == stamps:
        return cached[1]
    calendar = _build(session)
    _CACHE[key] = (stamps, calendar)
    return calendar


def _stamps(session: Session) -> Stamps:
    rows = session.execute(select(CalendarYear.year, CalendarYear.loaded_at).order_by(CalendarYear.year))
    return tuple((year, loaded_at) for year, loaded_at in rows)


def _seed_once(session: Session) -> None:
    try:
        seed_calendar(session)
    except IntegrityError:
        session.rollback()  # another process or thread seeded at the same moment: use its rows
        log.info("calendar seeded concurrently by another session")


def _build(session: Session) -> WorkCalendar:
    rest: defaultdict[int, list[RestDay]] = defaultdict(list)
    work: defaultdict[int, list[date]] = defaultdict(list)
    for row in session.scalars(select(CalendarDay).order_by(CalendarDay.day)):
        if row.kind == "rest":
            rest[row.year].append(RestDay(row.day, row.name))
        else:
            work[row.year].append(row.day)
    years = session.execute(select(CalendarYear.year, CalendarYear.source))
    return WorkCalendar.from_years(
        YearData(year, tuple(rest[year]), tuple(work[year]), source) for year, source in years
    )


def add_days(session: Session, start: date, n: int) -> date:
    """Return the `n`-th working day after `start`; raise CalendarYearMissing where data is lacking."""
    if n < 0:
        raise InvalidInput(f"工作日数不能为负数：{n}")
    return add_working_days(start, n, work_calendar(session))


def year_view(session: Session, year: int) -> YearView:
    """Return the rest and make-up days dated in `year`; raise CalendarYearMissing if it is not loaded."""
    calendar = work_calendar(session)
    rest, work = rest_days(year, calendar), make_up_days(year, calendar)
    source = session.get_one(CalendarYear, year).source
    return YearView(year, source, rest, work)
