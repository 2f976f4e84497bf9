"""Spreadsheets laid out as departments send them: a merged title row, the header under it, the
一级/二级 cells merged down their rows, and the department's full name in 购买主体."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

HEADER = ("序号", "目录编码", "一级目录", "二级目录", "三级目录", "服务内容", "购买主体", "备注")


@dataclass(frozen=True, slots=True)
class Row:
    """One 三级 row: its 一级 and 二级 names, its name and 服务内容 (and, to update by code, its code)."""

    class_name: str
    type_name: str
    name: str
    description: str
    department: str = "民政局"
    code: str = ""
    note: str = ""


def department_xlsx(title: str, rows: Sequence[Row]) -> bytes:
    """Return an XLSX file of `rows` under a merged title row, with runs of equal 一级/二级 cells merged."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "目录申报表"
    sheet.append([title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.append(list(HEADER))
    first = 3
    for n, r in enumerate(rows, start=1):
        sheet.append([n, r.code, r.class_name, r.type_name, r.name, r.description, r.department, r.note])
    for column in (3, 4):  # 一级目录, 二级目录: merged down a run, as clerks lay them out
        _merge_runs(sheet, column, first, [(r.class_name, r.type_name)[column - 3] for r in rows])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _merge_runs(sheet: object, column: int, first: int, values: list[str]) -> None:
    start = 0
    for i in range(1, len(values) + 1):
        if i == len(values) or values[i] != values[start]:
            if i - start > 1:
                sheet.merge_cells(  # type: ignore[attr-defined]
                    start_row=first + start, start_column=column, end_row=first + i - 1, end_column=column
                )
            start = i
