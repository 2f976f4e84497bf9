"""Telling the user what is wrong with an import: a console table, JSON, and an XLSX with bad cells marked.

The XLSX keeps the file's own row numbers (title rows and dropped blank rows stay as empty
rows), so "第12行" in the problem list is row 12 of the report too.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.dimensions import ColumnDimension, DimensionHolder

from app.catalog.sheet import Problem, RawTable, Severity

TABLE_VALUE_WIDTH = 30
TABLE_COLUMN_WIDTH = 20
JSON_VALUE_CHARS = 200
EXCEL_CELL_CHARS = 32_767  # Excel refuses longer cells
WIDTH_SAMPLE_ROWS = 200
ERROR_FILL = PatternFill("solid", fgColor="FFC7CE")  # Excel's own "light red fill"
WARNING_FILL = PatternFill("solid", fgColor="FFEB9C")
BOLD = Font(bold=True)
_SPACES = re.compile(r"\s+")
_SEVERITY_LABELS = {Severity.ERROR: "错误", Severity.WARNING: "警告"}
Value = Cell | str | None


def display_width(text: str) -> int:
    """Return how many terminal columns `text` takes: two for each wide (CJK) character."""
    return sum(
        2 if unicodedata.east_asian_width(ch) in "WF" else 0 if unicodedata.combining(ch) else 1
        for ch in text
    )


def clip(text: str, width: int) -> str:
    """Return `text` on one line, cut to `width` display columns with … when longer."""
    text = _SPACES.sub(" ", text).strip()
    if display_width(text) <= width:
        return text
    kept, used = [], 0
    for ch in text:
        used += display_width(ch)
        if used > width - 1:
            break
        kept.append(ch)
    return "".join(kept) + "…"


def problems_table(problems: Sequence[Problem]) -> str:
    """Return the problems as an aligned console table (行, 列, 值, 问题); '' when there are none."""
    if not problems:
        return ""
    rows = [("行", "列", "值", "问题")] + [
        (
            "" if p.row is None else str(p.row),
            clip(_where(p), TABLE_COLUMN_WIDTH),
            clip(p.value, TABLE_VALUE_WIDTH),
            ("警告：" if p.severity is Severity.WARNING else "") + p.reason,
        )
        for p in problems
    ]
    widths = [max(display_width(r[i]) for r in rows) for i in range(3)]
    rule = ("-" * w for w in widths)
    lines = [_line(rows[0], widths), _line((*rule, "-" * 4), widths)]
    lines += [_line(r, widths) for r in rows[1:]]
    return "\n".join(lines)


def problems_json(problems: Sequence[Problem]) -> list[dict[str, object]]:
    """Return the problems as JSON objects (value cut to 200 characters) for the API."""
    return [
        {
            "row": p.row,
            "column": p.column,
            "column_letter": p.column_letter,
            "value": p.value if len(p.value) <= JSON_VALUE_CHARS else p.value[: JSON_VALUE_CHARS - 1] + "…",
            "reason": p.reason,
            "severity": p.severity.value,
        }
        for p in problems
    ]


def write_report_xlsx(table: RawTable | None, problems: Sequence[Problem], out: BinaryIO) -> None:
    """Write the report workbook to `out`: the data with bad cells marked (if read), then the problem list."""
    workbook = Workbook(write_only=True)
    if table is not None:
        _data_sheet(workbook.create_sheet("导入数据"), table, problems)
    _problem_sheet(workbook.create_sheet("问题清单"), problems)
    workbook.save(out)


def _where(p: Problem) -> str:
    return " ".join(part for part in (p.column_letter, (p.column or "").strip()) if part)


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    padded = [c + " " * (w - display_width(c)) for c, w in zip(cells, widths, strict=False)]
    return "  ".join([*padded, cells[-1]]).rstrip()


def _data_sheet(ws: WriteOnlyWorksheet, table: RawTable, problems: Sequence[Problem]) -> None:
    """Write the header and rows under their original row numbers, with a leading 问题 column."""
    marks = _marks(table, problems)
    _set_widths(ws, [40, *_data_widths(table)])
    ws.freeze_panes = f"A{table.header_row + 1}"
    current = 1
    lines = [(table.header_row, table.headers), *((r.number, r.cells) for r in table.rows)]
    for number, cells in lines:
        for _ in range(current, number):
            ws.append([])
        ws.append(_marked_row(ws, cells, marks.get(number), header=number == table.header_row))
        current = number + 1


def _marks(table: RawTable, problems: Sequence[Problem]) -> dict[int, dict[int, list[Problem]]]:
    """Return the problems by row, then by column index; index -1 holds problems about a whole row."""
    by_header = {h: i for i, h in reversed(list(enumerate(table.headers)))}
    marks: dict[int, dict[int, list[Problem]]] = defaultdict(lambda: defaultdict(list))
    for p in problems:
        if p.row is None:
            continue
        if p.column_letter:
            index = column_index_from_string(p.column_letter) - 1
        else:
            index = by_header.get(p.column, -1) if p.column else -1
        marks[p.row][index].append(p)
    return marks


def _marked_row(
    ws: WriteOnlyWorksheet,
    cells: Sequence[str],
    marks: dict[int, list[Problem]] | None,
    *,
    header: bool,
) -> list[Value]:
    if not marks and not header:
        return [None, *(_value(ws, c) for c in cells)]  # the common row: plain values, fast
    marks = marks or {}
    # problems past the last column (text under no header) still show in the 问题 cell
    found = [p for i in sorted(marks) for p in marks[i]]
    out = [_problem_cell(ws, found, header=header)]
    for i, text in enumerate(cells):
        cell = _text_cell(ws, text, bold=header)
        if i in marks:
            _mark(cell, marks[i])
        out.append(cell)
    return out


def _problem_cell(ws: WriteOnlyWorksheet, found: Sequence[Problem], *, header: bool) -> Value:
    """Return the leading cell: the row's reasons (on the header row, the title 问题 with them as a note)."""
    if not found:
        return _text_cell(ws, "问题", bold=True) if header else None
    ordered = sorted(found, key=lambda p: p.severity is not Severity.ERROR)
    if header:
        cell = _text_cell(ws, "问题", bold=True)
        _mark(cell, ordered)
        return cell
    cell = _text_cell(ws, "；".join(dict.fromkeys(_labelled(p) for p in ordered)))
    cell.fill = ERROR_FILL if ordered[0].severity is Severity.ERROR else WARNING_FILL
    return cell


def _mark(cell: Cell, found: Sequence[Problem]) -> None:
    error = any(p.severity is Severity.ERROR for p in found)
    cell.fill = ERROR_FILL if error else WARNING_FILL
    text = "\n".join(dict.fromkeys(_labelled(p) for p in found))
    cell.comment = Comment(_safe(text), "guidecat", height=120, width=320)


def _labelled(p: Problem) -> str:
    return ("警告：" if p.severity is Severity.WARNING else "") + p.reason


def _value(ws: WriteOnlyWorksheet, text: str) -> Value:
    """Return `text` as a cell value: None when empty, a text cell when Excel would take it for a formula."""
    if not text:
        return None
    safe = _safe(text)
    return _text_cell(ws, safe) if safe.startswith("=") else safe


def _text_cell(ws: WriteOnlyWorksheet, text: str, *, bold: bool = False) -> Cell:
    cell = WriteOnlyCell(ws, _safe(text))
    cell.data_type = "s"  # "=SUM(…)" read from a CSV stays text, not a live formula
    if bold:
        cell.font = BOLD
    return cell


def _safe(text: str) -> str:
    """Return `text` without the control characters XLSX cannot hold, cut to Excel's cell limit."""
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    if len(text) > EXCEL_CELL_CHARS:
        return text[: EXCEL_CELL_CHARS - 40] + f"…（已截断，原文共 {len(text)} 字）"
    return text


def _problem_sheet(ws: WriteOnlyWorksheet, problems: Sequence[Problem]) -> None:
    _set_widths(ws, [8, 6, 18, 40, 70, 8])
    ws.freeze_panes = "A2"
    ws.append([_text_cell(ws, h, bold=True) for h in ("行", "列", "列名", "值", "问题", "级别")])
    for p in problems:
        ws.append(
            [
                p.row,
                p.column_letter,
                _value(ws, p.column or ""),
                _value(ws, p.value),
                _value(ws, p.reason),
                _SEVERITY_LABELS[p.severity],
            ]
        )


def _data_widths(table: RawTable) -> list[int]:
    """Return a width per column fitting its header and the first rows, in Excel's units (a CJK char is 2)."""
    sample = [table.headers, *(r.cells for r in table.rows[:WIDTH_SAMPLE_ROWS])]
    return [
        min(max(display_width(clip(row[i], 60)) for row in sample if i < len(row)) + 2, 60)
        for i in range(len(table.headers))
    ]


def _set_widths(ws: WriteOnlyWorksheet, widths: Sequence[int]) -> None:
    # a write-only sheet has column_dimensions (Worksheet._setup makes them); types-openpyxl omits it
    columns: DimensionHolder[str, ColumnDimension] = ws.column_dimensions  # type: ignore[attr-defined]
    for i, width in enumerate(widths, start=1):
        columns[get_column_letter(i)].width = max(width, 6)
