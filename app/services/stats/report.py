"""The half-year report a finance bureau sends to the level above, as one XLSX workbook.

It holds the newest public version's 三级 items by department and class, and the items
added and withdrawn since the base: the public version that was current at the end of
`since` (Beijing time). By default `since` is the half-year end on or before the day six
months ago, so a report made in January covers July–December and one made in July covers
January–June, whatever the day within that month.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.orm import Session

from app.catalog.nodes import Level
from app.db import queries, stats_query
from app.db.models import Catalog, Version
from app.errors import NotFound
from app.formats.xlsx import MAX_WIDTH, MIN_WIDTH, display_width
from app.services.catalogs import history
from app.services.stats.figures import NO_DEPARTMENT, CatalogStats, catalog_stats

Cell = str | int
DETAIL_HEADER = ["目录编码", "三级目录", "一级目录", "二级目录", "购买主体"]


@dataclass(frozen=True, slots=True)
class ItemLine:
    code: str
    name: str
    class_name: str
    type_name: str
    department: str

    def cells(self) -> list[Cell]:
        """Return the line as the detail sheets' row."""
        return [self.code, self.name, self.class_name, self.type_name, self.department]


@dataclass(frozen=True, slots=True)
class HalfYearReport:
    stats: CatalogStats  # of the newest public version
    since: date
    base: Version | None  # None: nothing was public yet on `since`
    added: list[ItemLine]
    withdrawn: list[ItemLine]
    today: date


def default_since(today: date) -> date:
    """Return the half-year end (30 June or 31 December) on or before the day six months before `today`."""
    year, month = (today.year, today.month - 6) if today.month > 6 else (today.year - 1, today.month + 6)
    return date(year, 6, 30) if (month, today.day) >= (6, 30) else date(year - 1, 12, 31)


def half_year_report(session: Session, slug: str, *, since: date | None, today: date) -> HalfYearReport:
    """Return the report on the newest public version of `slug` since `since` (default: default_since)."""
    stats = catalog_stats(session, slug)
    day = since or default_since(today)
    try:
        base: Version | None = history.version_as_of(session, stats.catalog, day)
    except NotFound:
        base = None
    a, b = (base.seq if base else 0), stats.version.seq
    cat = stats.catalog
    added = stats_query.added_node_ids(session, cat.id, a, b, Level.ITEM) if a < b else []
    withdrawn = stats_query.withdrawn_node_ids(session, cat.id, a, b, Level.ITEM) if a < b else []
    return HalfYearReport(
        stats, day, base, _lines(session, cat, b, added), _lines(session, cat, a, withdrawn), today
    )


def _lines(session: Session, cat: Catalog, seq: int, ids: Sequence[int]) -> list[ItemLine]:
    if not ids:
        return []
    upper = {
        n.node_id: n
        for level in (Level.CLASS, Level.TYPE)
        for n in queries.level_nodes(session, cat.id, seq, level)
    }
    lines = []
    for part in stats_query.chunks(ids):
        for n in queries.nodes_by_ids(session, cat.id, seq, part):
            type_ = upper.get(n.parent_id or 0)
            class_ = upper.get(type_.parent_id or 0) if type_ else None
            lines.append(
                ItemLine(
                    n.code,
                    n.name,
                    class_.name if class_ else "",
                    type_.name if type_ else "",
                    n.department_name or NO_DEPARTMENT[1],
                )
            )
    return sorted(lines, key=lambda line: line.code)


def write_report(report: HalfYearReport, out: BinaryIO) -> None:
    """Write the report's workbook to `out`: the class × department table, the changes, their details."""
    s = report.stats
    title = f"{s.catalog.name}（{s.version.label}）"
    base = (
        f"第{report.base.seq}版 {report.base.label}（{_cn(report.since)}时现行）"
        if report.base
        else f"无（{_cn(report.since)}时尚无已公开版本）"
    )
    facts = f"文号：{s.version.doc_number or '—'}  统计日期：{_cn(report.today)}  比较基准：{base}"
    workbook = Workbook()
    first = workbook.active
    assert first is not None  # a new workbook always has its first sheet
    workbook.remove(first)
    _sheet(workbook, "分类分部门统计", f"{title}三级目录分类分部门统计", facts, *_matrix(s))
    _sheet(workbook, "增减汇总", f"{title}三级目录增减情况", facts, *_summary(report))
    _sheet(
        workbook, "新增明细", f"{title}新增三级目录", facts, DETAIL_HEADER, [x.cells() for x in report.added]
    )
    _sheet(
        workbook,
        "撤销明细",
        f"{title}撤销三级目录",
        facts,
        DETAIL_HEADER,
        [x.cells() for x in report.withdrawn],
    )
    workbook.save(out)


def _matrix(s: CatalogStats) -> tuple[list[str], list[list[Cell]]]:
    header = ["部门编码", "购买主体", *(f"{c.code} {c.name}" for c in s.by_class), "合计"]
    rows: list[list[Cell]] = []
    totals = [0] * (len(s.by_class) + 1)
    for dept in sorted(s.matrix, key=lambda d: (d == NO_DEPARTMENT, d[0])):
        counts = [s.matrix[dept].get(c.code, 0) for c in s.by_class]
        counts.append(sum(s.matrix[dept].values()))
        totals = [t + n for t, n in zip(totals, counts, strict=True)]
        rows.append([dept[0], dept[1], *counts])
    rows.append(["", "合计", *totals])
    return header, rows


def _summary(report: HalfYearReport) -> tuple[list[str], list[list[Cell]]]:
    added: dict[str, int] = defaultdict(int)
    withdrawn: dict[str, int] = defaultdict(int)
    for line in report.added:
        added[line.department] += 1
    for line in report.withdrawn:
        withdrawn[line.department] += 1
    rows: list[list[Cell]] = [
        [name, added[name], withdrawn[name], added[name] - withdrawn[name]]
        for name in sorted(added.keys() | withdrawn.keys())
    ]
    total_added, total_withdrawn = len(report.added), len(report.withdrawn)
    rows.append(["合计", total_added, total_withdrawn, total_added - total_withdrawn])
    return ["购买主体", "新增", "撤销", "净增"], rows


def _sheet(
    workbook: Workbook, name: str, title: str, facts: str, header: list[str], rows: list[list[Cell]]
) -> None:
    sheet: Worksheet = workbook.create_sheet(name)
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([facts])
    sheet.append(header)
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    sheet.freeze_panes = "A4"
    for index, width in enumerate(_widths(header, rows), 1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def _widths(header: list[str], rows: list[list[Cell]]) -> list[int]:
    widths = [display_width(h) for h in header]
    for row in rows[:200]:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], display_width(str(value)))
    return [min(MAX_WIDTH, max(MIN_WIDTH, w + 2)) for w in widths]


def _cn(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"
