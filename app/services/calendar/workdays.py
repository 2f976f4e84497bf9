"""The working-day calendar in the database: seeded, loaded from year files, read as a WorkCalendar.

The tables hold every year the installed `chinesecalendar` package carries, plus years an
administrator loaded from a State Council notice (a year file, catalogs/calendar/README.md).
`work_calendar` builds the pure WorkCalendar from them once per process and rebuilds it only
when a year is added or replaced, so a request pays one small query for it.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.calendar.days import RestDay, WorkCalendar, YearData, add_working_days, make_up_days, rest_days
from app.calendar.yearfile import parse_year_file
from app.config import PROJECT_ROOT
from app.db.models import CalendarDay, CalendarYear
from app.errors import Conflict, Forbidden, InvalidInput
from app.services import access, audit
from app.services.access import SEED, Actor
from app.services.calendar.deadlines import MovedDeadline, moved_deadlines
from app.services.calendar.grid import DayChange, YearGrid, changes, year_grid
from app.services.calendar.rows import (
    LoadedYear,
    build_calendar,
    check_fits,
    insert_days,
    loaded_year,
    new_days,
    problems,
    refuse,
    year_state,
)
from app.services.calendar.seed import chinese_calendar_years
from app.workflow.states import Role

log = logging.getLogger(__name__)

YEAR_FILES = PROJECT_ROOT / "catalogs" / "calendar"
SYSTEM = "system"
MAX_FILE_BYTES = 64 * 1024  # a year's notice is a few KB
LOADERS = frozenset({Role.FINANCE_ADMIN, Role.SYSTEM})  # who may load or replace a year

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
class Previewed:
    """What the administrator was shown, posted back with the confirmation: the file and the year's state."""

    digest: str  # file_digest of the file previewed
    seen: str  # the state of its year then (NEW_YEAR if it was not loaded)


@dataclass(frozen=True, slots=True)
class LoadPlan:
    """What loading a year file would write: shown to the administrator to confirm before anything is."""

    data: YearData
    digest: str
    seen: str
    loaded: LoadedYear | None  # the year as loaded now; None if the file adds it
    changes: tuple[DayChange, ...]  # the days it would mark differently from the calendar now
    moved: tuple[MovedDeadline, ...]  # published versions whose recorded deadline it would recount
    grid: YearGrid  # the year as the calendar would mark it

    @property
    def replaces(self) -> bool:
        """Return whether loading the file replaces a year already loaded."""
        return self.loaded is not None

    @property
    def previewed(self) -> Previewed:
        """Return what the confirmation posts back, so that a change in between is noticed."""
        return Previewed(self.digest, self.seen)


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
        rows = new_days(session, check_fits(data))
    except InvalidInput as exc:
        if data.year in package_years():
            raise  # the package's own data must always load
        notes.append(f"忽略{data.year}年的工作日历文件：{exc.message}")
        return False
    session.add(CalendarYear(year=data.year, source=data.source, loaded_at=loaded_at))
    session.flush()
    insert_days(session, rows)
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


def decode_year_file(raw: bytes) -> str:
    """Return the text of an uploaded year file; raise InvalidInput if it is empty, too big or not UTF-8."""
    if not raw.strip():
        refuse(["请选择要载入的年度文件（JSON）"])
    if len(raw) > MAX_FILE_BYTES:
        refuse([f"文件超过 {MAX_FILE_BYTES // 1024} KB，不像一年的节假日安排：请检查是否选错了文件"])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        refuse(["年度文件须为 UTF-8 编码的 JSON 文本"])


def file_digest(text: str) -> str:
    """Return the SHA-256 of a year file's text: what a preview showed is what its confirmation loads."""
    return hashlib.sha256(text.encode()).hexdigest()


def plan_load(session: Session, text: str, *, actor: Actor) -> LoadPlan:
    """Return what loading the year file `text` would write, writing nothing.

    Refused as load_year_file refuses (a year already loaded is not: the plan says it replaces it).
    """
    _require_loader(actor)
    before = work_calendar(session)  # may seed the calendar, a commit: before anything is read
    data = _parsed(session, text)
    return _plan(session, text, data, session.get(CalendarYear, data.year), before, actor)


def load_year_file(
    session: Session, text: str, *, actor: Actor, replace: bool = False, previewed: Previewed | None = None
) -> YearLoaded:
    """Validate the year file `text`, write its year (replacing it only if `replace`), audit, commit.

    Raise InvalidInput for a bad file (every problem in `details`), or when the new data would move
    the recorded deadline of a version not yet published; Conflict for a year already loaded without
    `replace`, or one changed since `previewed` (what the administrator confirmed) was shown.
    """
    _require_loader(actor)
    work_calendar(session)  # may seed the calendar, a commit: before any change
    data = _parsed(session, text)
    existing = session.get(CalendarYear, data.year, with_for_update=True, populate_existing=True)
    before = build_calendar(session)  # as it stands now that the year is locked, not as cached
    if previewed is not None:
        _check_previewed(session, text, data.year, previewed)
    if existing is not None and not replace:
        raise Conflict(
            f"工作日历已有{data.year}年的数据（来源：{existing.source}）；"
            "如确需以此文件替换，请选择“替换”（命令行加 --replace）"
        )
    plan = _plan(session, text, data, existing, before, actor)
    rows = new_days(session, data)
    if existing is None:
        session.add(CalendarYear(year=data.year, source=data.source, loaded_at=datetime.now(UTC)))
    else:
        session.execute(delete(CalendarDay).where(CalendarDay.year == data.year))
        existing.source, existing.loaded_at = data.source, datetime.now(UTC)
    try:
        session.flush()
    except IntegrityError:  # another session added the year at the same moment
        session.rollback()
        raise Conflict(f"{data.year}年的工作日历刚刚由他人载入：请查看最新数据后再决定是否替换") from None
    insert_days(session, rows)
    loaded = YearLoaded(data.year, data.source, len(data.rest_days), len(data.make_up_days), plan.replaces)
    after = {"source": data.source, "rest_days": loaded.rest_days, "make_up_days": loaded.make_up_days}
    summary: dict[str, object] = {"before": _summary_of(plan.loaded), "after": after}
    if plan.moved:
        summary["published_deadlines_recounted"] = [m.describe() for m in plan.moved]
    _audit_load(session, actor, data.year, summary)
    session.commit()
    _CACHE.clear()
    return loaded


def _require_loader(actor: Actor) -> None:
    role = access.role_of(actor)
    if role not in LOADERS:
        raise Forbidden(f"{role.label}不能载入工作日历，只有财政管理员可以")


def _parsed(session: Session, text: str) -> YearData:
    """Return the notice in the year file `text` if the tables can take it; else refuse, listing why."""
    try:
        data = parse_year_file(text)
    except InvalidInput as exc:
        refuse(list(exc.details) if isinstance(exc.details, list) else [exc.message])
    found = problems(session, data)
    if found:
        refuse(found)
    return data


def _plan(
    session: Session,
    text: str,
    data: YearData,
    existing: CalendarYear | None,
    before: WorkCalendar,
    actor: Actor,
) -> LoadPlan:
    after = build_calendar(session, instead=data)
    moved = moved_deadlines(session, data.year, before, after, actor=actor)
    waiting = [m.describe() for m in moved if not m.published]
    if waiting:
        refuse(
            [
                *waiting,
                "这些版本尚未公开，其公开期限在印发时按现有工作日历确定：请先公开它们，再载入此文件",
            ]
        )
    return LoadPlan(
        data=data,
        digest=file_digest(text),
        seen=year_state(session, data.year),
        loaded=None if existing is None else loaded_year(session, existing),
        changes=tuple(changes(data.year, before, after)),
        moved=tuple(moved),
        grid=year_grid(data.year, after, arranged=(*(r.day for r in data.rest_days), *data.make_up_days)),
    )


def _check_previewed(session: Session, text: str, year: int, previewed: Previewed) -> None:
    if file_digest(text) != previewed.digest:
        raise InvalidInput("确认载入的文件与预览的不一致：请重新选择文件并预览")
    if year_state(session, year) != previewed.seen:
        raise Conflict(f"预览之后，{year}年的工作日历已被他人载入或更改：请查看最新数据，再重新上传预览")


def _audit_load(session: Session, actor: Actor, year: int, summary: dict[str, object]) -> None:
    audit.record(
        session,
        actor=actor,
        action="calendar.load",
        object_type="calendar_year",
        object_id=year,
        summary=summary,
    )


def _summary_of(loaded: LoadedYear | None) -> dict[str, object] | None:
    if loaded is None:
        return None
    return {"source": loaded.source, "rest_days": loaded.rest_days, "make_up_days": loaded.make_up_days}


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
    calendar = build_calendar(session)
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
