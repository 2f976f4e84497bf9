"""The publication board: every issued version with its deadline, working days left and standing.

A finance user sees every catalog of the jurisdiction. A department user sees the versions
that hold at least one of its items: those are the versions it has a duty to see published,
and a version without its items is not its business.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from app.calendar.days import CalendarYearMissing, WorkCalendar, add_working_days, working_days_between
from app.clock import beijing_date
from app.db.models import Catalog, NodeRevision, User, Version
from app.services import access
from app.services.calendar import workdays
from app.workflow.states import PUBLIC_VERSION_STATES, Role, VersionState

DUE_SOON_DAYS = 3
ON_THE_BOARD = (VersionState.ISSUED, *PUBLIC_VERSION_STATES)


class BoardState(StrEnum):
    """Where a version stands against its publication deadline."""

    OVERDUE = "overdue"
    DUE_SOON = "due_soon"
    ON_TIME = "on_time"
    UNKNOWN = "unknown"
    PUBLISHED_LATE = "published_late"
    PUBLISHED_ON_TIME = "published_on_time"

    @property
    def label(self) -> str:
        """Return the state's Chinese name."""
        return BOARD_STATE_LABELS[self]


BOARD_STATE_LABELS = {
    BoardState.OVERDUE: "已逾期",
    BoardState.DUE_SOON: f"{DUE_SOON_DAYS}个工作日内到期",
    BoardState.ON_TIME: "按期（未公开）",
    BoardState.UNKNOWN: "期限无法计算（工作日历缺少数据）",
    BoardState.PUBLISHED_LATE: "逾期公开",
    BoardState.PUBLISHED_ON_TIME: "已按期公开",
}
URGENCY = {state: n for n, state in enumerate(BoardState)}  # the declaration order: most urgent first


class BoardSort(StrEnum):
    STATE = "state"  # most urgent first, then by deadline
    DEADLINE = "deadline"  # earliest deadline first
    ISSUED = "issued"  # latest issue date first


@dataclass(frozen=True, slots=True)
class Standing:
    """A version's state, the working days left (negative: overdue by) and how late it went public."""

    state: BoardState
    days_left: int | None = None
    late_days: int | None = None


@dataclass(frozen=True, slots=True)
class BoardRow:
    """One version on the board."""

    catalog_slug: str
    catalog_name: str
    seq: int
    label: str
    status: str
    doc_number: str | None
    issued_on: date | None
    deadline: date | None
    publish_on: date | None
    published_at: datetime | None
    standing: Standing

    @property
    def published_on(self) -> date | None:
        """Return the Beijing day it went public, if it did."""
        return None if self.published_at is None else beijing_date(self.published_at)

    @property
    def state_label(self) -> str:
        """Return the state's Chinese name, with the working days a late publication took."""
        late = self.standing.late_days
        if self.standing.state is not BoardState.PUBLISHED_LATE or late is None:
            return self.standing.state.label
        return f"逾期公开（{late}个工作日）" if late else "逾期公开（不足1个工作日）"


def standing(deadline: date | None, published_on: date | None, today: date, cal: WorkCalendar) -> Standing:
    """Return where a version with `deadline`, public since `published_on` (None: not yet), stands `today`.

    Overdue means today is after the deadline (a count of 0 on the weekend after it is still late).
    """
    if deadline is None:
        return Standing(BoardState.UNKNOWN)
    if published_on is not None:
        if published_on <= deadline:
            return Standing(BoardState.PUBLISHED_ON_TIME)
        return Standing(BoardState.PUBLISHED_LATE, late_days=_count(deadline, published_on, cal))
    left = _count(today, deadline, cal)
    if today > deadline:
        return Standing(BoardState.OVERDUE, days_left=left)
    if left is not None and left <= DUE_SOON_DAYS:
        return Standing(BoardState.DUE_SOON, days_left=left)
    return Standing(BoardState.ON_TIME, days_left=left)


def _count(start: date, end: date, cal: WorkCalendar) -> int | None:
    try:
        return working_days_between(start, end, cal)
    except CalendarYearMissing:  # the board still shows the row; only the count is unknown
        return None


def scope_of(user: User) -> tuple[int, int | None]:
    """Return the (jurisdiction id, department id or None) whose rows `user` sees."""
    if access.role_of(user) is Role.DEPT_EDITOR:
        return user.jurisdiction_id, user.department_id
    return user.jurisdiction_id, None


def board(
    session: Session,
    *,
    jurisdiction_id: int | None,
    department_id: int | None,
    today: date,
    sort: BoardSort = BoardSort.STATE,
) -> list[BoardRow]:
    """Return the board's rows for a jurisdiction (None: all) and a department (None: all), sorted by `sort`.

    May seed the working-day calendar first (see workdays.work_calendar).
    """
    cal = workdays.work_calendar(session)
    stmt = (
        select(Version, Catalog)
        .join(Catalog, Catalog.id == Version.catalog_id)
        .where(Version.status.in_(ON_THE_BOARD))
    )
    if jurisdiction_id is not None:
        stmt = stmt.where(Catalog.jurisdiction_id == jurisdiction_id)
    if department_id is not None:
        stmt = stmt.where(_holds_items_of(department_id))
    rows = [_row(version, catalog, today, cal) for version, catalog in session.execute(stmt)]
    return sorted(rows, key=SORT_KEYS[sort])


def _holds_items_of(department_id: int) -> ColumnElement[bool]:
    return (
        select(NodeRevision.id)
        .where(
            NodeRevision.department_id == department_id,
            NodeRevision.catalog_id == Version.catalog_id,
            NodeRevision.valid_from <= Version.seq,
            or_(NodeRevision.valid_to.is_(None), NodeRevision.valid_to > Version.seq),
        )
        .exists()
    )


def _row(version: Version, catalog: Catalog, today: date, cal: WorkCalendar) -> BoardRow:
    deadline = version.publication_deadline or _legacy_deadline(version, catalog, cal)
    published_on = None if version.published_at is None else beijing_date(version.published_at)
    return BoardRow(
        catalog_slug=catalog.slug,
        catalog_name=catalog.name,
        seq=version.seq,
        label=version.label,
        status=version.status,
        doc_number=version.doc_number,
        issued_on=version.issued_on,
        deadline=deadline,
        publish_on=version.publish_on,
        published_at=version.published_at,
        standing=standing(deadline, published_on, today, cal),
    )


def _legacy_deadline(version: Version, catalog: Catalog, cal: WorkCalendar) -> date | None:
    """Return the deadline of a version issued before deadlines were recorded, by the same rule."""
    if version.issued_on is None:
        return None
    try:
        return add_working_days(version.issued_on, catalog.publication_period_days, cal)
    except CalendarYearMissing:
        return None


SORT_KEYS = {
    BoardSort.STATE: lambda r: (URGENCY[r.standing.state], r.deadline or date.max, r.catalog_slug, r.seq),
    BoardSort.DEADLINE: lambda r: (r.deadline or date.max, URGENCY[r.standing.state], r.catalog_slug, r.seq),
    BoardSort.ISSUED: lambda r: (-(r.issued_on or date.min).toordinal(), r.catalog_slug, -r.seq),
}


def counts(rows: list[BoardRow]) -> dict[BoardState, int]:
    """Return how many rows are in each state (every state present, 0 when none)."""
    found = dict.fromkeys(BoardState, 0)
    for row in rows:
        found[row.standing.state] += 1
    return found


XLSX_COLUMNS = (
    "目录",
    "版本",
    "文号",
    "印发日期",
    "公开期限",
    "剩余工作日",
    "安排公开日期",
    "公开日期",
    "状态",
)
XLSX_WIDTHS = (36, 14, 24, 12, 12, 10, 14, 12, 26)
OVERDUE_FILL = PatternFill("solid", start_color="FFC7CE", end_color="FFC7CE")
OVERDUE_FONT = Font(color="9C0006", bold=True)


def write_board_xlsx(rows: list[BoardRow], out: BinaryIO, *, today: date) -> None:
    """Write the board to `out` as an XLSX workbook; overdue and late rows are filled red."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook always has one sheet
    sheet.title = "公开期限"
    sheet.append([f"指导性目录公开期限一览（截至 {today.isoformat()}）"])
    sheet.append(list(XLSX_COLUMNS))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(_xlsx_values(row))
        if row.standing.state in (BoardState.OVERDUE, BoardState.PUBLISHED_LATE):
            for cell in sheet[sheet.max_row]:
                cell.fill, cell.font = OVERDUE_FILL, OVERDUE_FONT
    for letter, width in zip("ABCDEFGHI", XLSX_WIDTHS, strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A3"
    book.save(out)


def _xlsx_values(row: BoardRow) -> list[object]:
    return [
        row.catalog_name,
        f"第{row.seq}版（{row.label}）",
        row.doc_number or "",
        row.issued_on,
        row.deadline,
        row.standing.days_left,
        row.publish_on,
        row.published_on,
        row.state_label,
    ]
