"""Statistics as tables (each one a page section, a chart and a CSV file) and bar charts as geometry.

A chart is drawn by the template as server-side SVG from the `Chart` here; its table is
always shown next to it, so neither colour nor the drawing is the only way to read a number.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from app.clock import beijing_date
from app.services.stats.figures import CatalogStats, Count, VersionChange

Cell = str | int

CHART_WIDTH, LABEL_WIDTH, BAR_SPACE, ROW_HEIGHT, BAR_HEIGHT, LABEL_CHARS = 720, 250, 400, 26, 18, 16
TOP_TYPES, TOP_DEPARTMENTS = 30, 20


@dataclass(frozen=True, slots=True)
class Bar:
    label: str  # as drawn, shortened to fit
    full_label: str
    value: int
    y: int
    width: float


@dataclass(frozen=True, slots=True)
class Chart:
    title: str
    bars: list[Bar]
    height: int
    note: str = ""

    @property
    def width(self) -> int:
        """Return the drawing's width in SVG units."""
        return CHART_WIDTH

    @property
    def bar_x(self) -> int:
        """Return where the bars start: the labels are drawn right-aligned before it."""
        return LABEL_WIDTH

    @property
    def bar_height(self) -> int:
        """Return the thickness of one bar."""
        return BAR_HEIGHT


@dataclass(frozen=True, slots=True)
class Table:
    key: str  # the CSV file's name, without .csv
    title: str
    header: list[str]
    rows: list[list[Cell]]
    chart: Chart | None = None


TABLE_KEYS = ("classes", "types", "departments", "changes")
OVERVIEW_KEYS = ("catalogs", "classes", "types", "departments")


def bar_chart(title: str, pairs: Iterable[tuple[str, int]], *, limit: int | None = None) -> Chart | None:
    """Return a horizontal bar chart of (label, value) pairs (the first `limit`), or None if empty."""
    every = list(pairs)
    shown = every if limit is None else every[:limit]
    if not shown:
        return None
    top = max(v for _, v in shown) or 1
    bars = [
        Bar(_shorten(label), label, value, 6 + i * ROW_HEIGHT, round(BAR_SPACE * value / top, 1))
        for i, (label, value) in enumerate(shown)
    ]
    note = f"图中仅显示前{limit}项，完整数字见下表" if limit is not None and len(every) > limit else ""
    return Chart(title, bars, 12 + len(bars) * ROW_HEIGHT, note)


def _shorten(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def catalog_tables(stats: CatalogStats) -> list[Table]:
    """Return the version's tables: items per class, per type, per department, and changes per version."""
    classes: list[list[Cell]] = [[c.code, c.name, c.items] for c in stats.by_class]
    types: list[list[Cell]] = [[t.group, t.code, t.name, t.items] for t in stats.by_type]
    depts: list[list[Cell]] = [[d.code, d.name, d.items] for d in stats.by_department]
    changes: list[list[Cell]] = [
        [
            c.version.seq,
            c.version.label,
            c.version.doc_number or "",
            _day(c),
            c.items,
            c.added,
            c.withdrawn,
            c.changed,
        ]
        for c in stats.changes
    ]
    by_size = sorted(stats.by_type, key=lambda t: (-t.items, t.code))
    # the first version is compared with nothing: its "additions" are the whole catalog, not a change
    change_bars = [
        (f"{c.version.label} {kind}", n)
        for c in stats.changes[:-1]
        for kind, n in (("新增", c.added), ("撤销", c.withdrawn), ("调整", c.changed))
    ]
    return [
        Table(
            "classes",
            "按一级目录统计",
            ["一级目录编码", "一级目录", "三级目录数"],
            classes,
            bar_chart("各一级目录的三级目录数", _pairs(stats.by_class)),
        ),
        Table(
            "types",
            "按二级目录统计",
            ["一级目录", "二级目录编码", "二级目录", "三级目录数"],
            types,
            bar_chart("三级目录最多的二级目录", _pairs(by_size), limit=TOP_TYPES),
        ),
        Table(
            "departments",
            "按购买主体（部门）统计",
            ["部门编码", "购买主体", "三级目录数"],
            depts,
            bar_chart(
                "三级目录最多的购买主体",
                ((d.name, d.items) for d in stats.by_department),
                limit=TOP_DEPARTMENTS,
            ),
        ),
        Table(
            "changes",
            "各版本的变动",
            ["版本序号", "版本", "文号", "公开日期", "三级目录数", "新增", "撤销", "调整"],
            changes,
            bar_chart("各版本比上一版本新增、撤销、调整的三级目录数", change_bars),
        ),
    ]


def overview_tables(all_stats: list[CatalogStats]) -> list[Table]:
    """Return the tables across catalogs: one row per catalog; per class, type and department per area."""
    catalogs: list[list[Cell]] = []
    classes: list[list[Cell]] = []
    types: list[list[Cell]] = []
    depts: list[list[Cell]] = []
    sum_class: dict[str, int] = defaultdict(int)
    sum_type: dict[str, int] = defaultdict(int)
    several = len({s.jurisdiction.code for s in all_stats}) > 1
    dept_pairs: list[tuple[str, int]] = []
    for s in all_stats:
        j = [s.jurisdiction.code, s.jurisdiction.name]
        catalogs.append([*j, s.catalog.name, s.version.label, s.items, s.subitems, len(s.by_department)])
        for c in s.by_class:
            classes.append([*j, c.code, c.name, c.items])
            sum_class[f"{c.code} {c.name}"] += c.items
        for t in s.by_type:
            types.append([*j, t.code, t.name, t.items])
            sum_type[f"{t.code} {t.name}"] += t.items
        for d in s.by_department:
            depts.append([*j, d.code, d.name, d.items])
            dept_pairs.append((f"{d.name}（{s.jurisdiction.name}）" if several else d.name, d.items))
    by_catalog = ((f"{s.jurisdiction.name} {s.catalog.name}", s.items) for s in all_stats)
    top_types = sorted(sum_type.items(), key=lambda p: (-p[1], p[0]))
    top_depts = sorted(dept_pairs, key=lambda p: (-p[1], p[0]))
    area = ["行政区划代码", "行政区划"]
    return [
        Table(
            "catalogs",
            "各地区目录",
            [*area, "目录", "现行版本", "三级目录数", "四级目录数", "购买主体数"],
            catalogs,
            bar_chart("各目录现行版本的三级目录数", by_catalog),
        ),
        Table(
            "classes",
            "按一级目录统计",
            [*area, "一级目录编码", "一级目录", "三级目录数"],
            classes,
            bar_chart("各一级目录的三级目录数（合计）", sum_class.items()),
        ),
        Table(
            "types",
            "按二级目录统计",
            [*area, "二级目录编码", "二级目录", "三级目录数"],
            types,
            bar_chart("三级目录最多的二级目录（合计）", top_types, limit=TOP_TYPES),
        ),
        Table(
            "departments",
            "按购买主体（部门）统计",
            [*area, "部门编码", "购买主体", "三级目录数"],
            depts,
            bar_chart("三级目录最多的购买主体", top_depts, limit=TOP_DEPARTMENTS),
        ),
    ]


def pick(tables: list[Table], key: str) -> Table | None:
    """Return the table called `key`, or None."""
    return next((t for t in tables if t.key == key), None)


def csv_bytes(table: Table) -> bytes:
    """Return the table as CSV: UTF-8 with a BOM (so Excel opens it), header first, CRLF lines."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.header)
    writer.writerows(table.rows)
    return ("\ufeff" + out.getvalue()).encode()


def _pairs(counts: Iterable[Count]) -> list[tuple[str, int]]:
    return [(f"{c.code} {c.name}", c.items) for c in counts]


def _day(change: VersionChange) -> str:
    published = change.version.published_at
    return "" if published is None else beijing_date(published).isoformat()
