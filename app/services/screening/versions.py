"""Screening a whole version on demand, and listing (or exporting to XLSX) the findings stored for it.

A version is read as a stream (never all its nodes at once): 650,000 items screen in a few
seconds and only their findings, a small share, are held until they are written.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import BinaryIO, Protocol, TypeVar, cast

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.dimensions import ColumnDimension, DimensionHolder
from openpyxl.worksheet.filters import AutoFilter
from sqlalchemy.orm import Session

from app.catalog.entries import Row
from app.catalog.nodes import Level
from app.db import export_query, finding_store, queries
from app.db.finding_store import VersionFindingRow
from app.db.models import Catalog, Version
from app.errors import InvalidInput, NotFound
from app.formats.xlsx import display_width
from app.screening import Finding, Matcher, ScreenItem, Severity, screen
from app.services import access, audit
from app.services.access import Actor
from app.services.catalogs import browse
from app.services.screening.rules import active_rules, explanations
from app.services.versions.lifecycle import get_version
from app.workflow.states import VersionState

BATCH = 5000
SEVERITY_LABELS = {"block": "阻止", "warn": "提示"}
FIELD_LABELS = {"name": "名称", "description": "服务内容"}
XLSX_COLUMNS = (
    "目录编码",
    "目录名称",
    "购买主体",
    "规则",
    "条款",
    "级别",
    "位置",
    "命中文字",
    "说明",
    "规则版本",
    "uid",
)
WIDTH_SAMPLE, MIN_WIDTH, MAX_WIDTH = 200, 6, 60
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RuleCount:
    """How often one rule hit a version: findings, and items with at least one of them."""

    rule_id: str
    head: int
    article: str
    severity: Severity
    findings: int
    items: int


@dataclass(frozen=True, slots=True)
class VersionScreening:
    """What screening a version found: items screened, items flagged, and counts per rule."""

    catalog: str
    seq: int
    rules_version: str
    items: int
    flagged: int
    by_rule: tuple[RuleCount, ...]

    @property
    def findings(self) -> int:
        """Return the number of findings stored."""
        return sum(r.findings for r in self.by_rule)

    def count(self, severity: Severity) -> int:
        """Return the number of findings of `severity`."""
        return sum(r.findings for r in self.by_rule if r.severity is severity)


@dataclass(frozen=True, slots=True)
class FindingFilter:
    rule: str | None = None
    severity: str | None = None  # block | warn
    department: str | None = None  # department code


def screen_version(session: Session, slug: str, seq: int | None, *, actor: Actor) -> VersionScreening:
    """Screen every item of version `seq` (default: the newest) with the active rules and return the counts.

    The version's previous findings are replaced; audited; one commit. Finance roles only.
    """
    catalog, version = _finance_version(session, slug, seq, actor)
    _, matcher = active_rules(session)
    finding_store.delete_version_findings(session, version.id)
    levels = (int(Level.ITEM), int(Level.SUBITEM))
    rows = export_query.version_rows(session, catalog.id, version.seq, export_query.RowFilter(levels=levels))
    tally = _Tally()
    records = [
        finding_store.finding_record(f, catalog_id=catalog.id, node_id=node_id, version_id=version.id)
        for node_id, found in _screened(rows, matcher, tally)
        for f in found
    ]
    finding_store.insert_findings(session, records)
    result = tally.result(slug, version.seq, matcher.version)
    audit.record(
        session,
        actor=actor,
        action="version.screen",
        object_type="version",
        object_id=version.id,
        summary={"rules_version": matcher.version, "items": result.items, "findings": result.findings},
    )
    session.commit()
    return result


def version_findings(
    session: Session, slug: str, seq: int, *, filters: FindingFilter, actor: Actor
) -> list[VersionFindingRow]:
    """Return the findings stored for version `seq`, filtered, in item code order, with explanations."""
    catalog, version = _finance_version(session, slug, seq, actor)
    if filters.severity is not None and filters.severity not in SEVERITY_LABELS:
        raise InvalidInput(f"severity 只能是 block 或 warn，而不是“{filters.severity}”")
    department_id = None
    if filters.department is not None:
        dept = queries.department_by_code(session, catalog.jurisdiction_id, filters.department)
        if dept is None:
            raise NotFound(f"没有部门编码“{filters.department}”")
        department_id = dept.id
    rows = finding_store.version_finding_rows(
        session,
        version.id,
        version.seq,
        rule_id=filters.rule,
        severity=filters.severity,
        department_id=department_id,
    )
    notes = explanations(session, {r.rules_version for r in rows})
    return [dataclasses.replace(r, explanation=notes.get((r.rules_version, r.rule_id), "")) for r in rows]


def write_findings_xlsx(findings: Sequence[VersionFindingRow], out: BinaryIO, *, title: str) -> None:
    """Write the findings as one worksheet (header frozen, filter on, widths fitted) to `out`."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    rows = [_xlsx_row(f) for f in findings]
    layout = cast(_Sheet, sheet)
    for index, width in enumerate(_widths(rows[:WIDTH_SAMPLE]), 1):
        layout.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = [WriteOnlyCell(sheet, value=name) for name in XLSX_COLUMNS]
    for cell in header:
        cell.font = bold
    sheet.append(header)
    for row in rows:
        sheet.append([_text(sheet, value) for value in row])
    layout.auto_filter.ref = f"A1:{get_column_letter(len(XLSX_COLUMNS))}{len(rows) + 1}"
    workbook.save(out)


class _Sheet(Protocol):
    # set up at run time by openpyxl for write-only sheets, but missing from their stubs
    column_dimensions: DimensionHolder[str, ColumnDimension]
    auto_filter: AutoFilter


def _xlsx_row(f: VersionFindingRow) -> tuple[str, ...]:
    return (
        f.code,
        f.name,
        f.department_name or "",
        f.rule_id,
        f.article,
        SEVERITY_LABELS.get(f.severity, f.severity),
        FIELD_LABELS.get(f.field, f.field),
        f.match,
        f.explanation,
        f.rules_version,
        f.uid,
    )


def _text(sheet: WriteOnlyWorksheet, value: str) -> Cell:
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"  # a name starting with "=" stays text, never a formula
    return cell


def _widths(rows: Iterable[Sequence[str]]) -> list[int]:
    widths = [display_width(h) for h in XLSX_COLUMNS]
    for row in rows:
        widths = [max(w, display_width(v)) for w, v in zip(widths, row, strict=True)]
    return [min(MAX_WIDTH, max(MIN_WIDTH, w + 2)) for w in widths]


def _finance_version(session: Session, slug: str, seq: int | None, actor: Actor) -> tuple[Catalog, Version]:
    """Return the catalog and its version `seq` (default: the newest, whatever its status); finance only."""
    access.require_finance(actor)
    catalog = browse.catalog(session, slug)
    access.require_same_jurisdiction(actor, catalog)
    if seq is not None:
        return catalog, get_version(session, slug, seq)
    newest = queries.latest_version(session, catalog.id, statuses=tuple(VersionState))
    if newest is None:
        raise NotFound(f"目录“{catalog.name}”还没有任何版本")
    return catalog, newest


def _screened(rows: Iterable[Row], matcher: Matcher, tally: _Tally) -> Iterator[tuple[int, list[Finding]]]:
    """Yield (node id, findings) of each row with a finding, a batch at a time; count all rows in `tally`."""
    for batch in _batches(rows, BATCH):
        found = screen([ScreenItem(r[5], r[6]) for r in batch], matcher)
        for row, findings in zip(batch, found, strict=True):
            tally.add(findings)
            if findings:
                yield row[0], findings


def _batches(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


class _Tally:
    """Counts findings and flagged items per rule while a version streams by."""

    def __init__(self) -> None:
        self.findings: Counter[str] = Counter()
        self.hit_items: Counter[str] = Counter()
        self.first: dict[str, Finding] = {}
        self.items = 0
        self.flagged = 0

    def add(self, found: list[Finding]) -> None:
        self.items += 1
        if not found:
            return
        self.flagged += 1
        for f in found:
            self.findings[f.rule_id] += 1
            self.first.setdefault(f.rule_id, f)
        self.hit_items.update({f.rule_id for f in found})

    def result(self, slug: str, seq: int, rules_version: str) -> VersionScreening:
        by_rule = tuple(
            RuleCount(rule, f.head, f.article, f.severity, self.findings[rule], self.hit_items[rule])
            for rule, f in sorted(self.first.items(), key=lambda kv: (kv[1].head, kv[0]))
        )
        return VersionScreening(slug, seq, rules_version, self.items, self.flagged, by_rule)
