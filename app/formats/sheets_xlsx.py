"""Reading the first (or a named) worksheet of an XLSX file, refusing formulas.

Read-only mode streams the sheet: a merged range reads as its top-left value and blanks
below, which is what the mapping layer expects (a blank 一级/二级 inherits from above).
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from app.catalog.sheet import Problem, RawTable, column_letter
from app.formats.sheets_table import FileProblem, Record, build_table

CORRUPT = "XLSX 文件已损坏或不完整，请在 Excel 中重新保存后再导入"
FORMULA = "公式单元格：请将公式复制后“选择性粘贴为数值”再导入"
# what openpyxl lets escape from its zip and XML layers on a damaged file
_DAMAGED = (
    zipfile.BadZipFile,
    zlib.error,
    InvalidFileException,
    SyntaxError,  # xml.etree's ParseError
    KeyError,
    ValueError,
    TypeError,
    IndexError,
    EOFError,
    OSError,
)

Formula = tuple[int, int, str]  # row number, column index, formula text


def read_xlsx(data: bytes, *, sheet: str | None = None) -> RawTable:
    """Return the table on worksheet `sheet` (the first if None); raise FileProblem."""
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except _DAMAGED as exc:
        raise FileProblem(Problem(CORRUPT)) from exc
    try:
        worksheet = _worksheet(workbook, sheet)
        worksheet.reset_dimensions()  # some writers store a stale A1:XFD1048576; read what is there
        formulas: list[Formula] = []
        rows = worksheet.values
        try:
            table = build_table(
                _records(rows, formulas),
                source="xlsx",
                empty_reason=f"工作表“{worksheet.title}”是空的",
            )
        except _DAMAGED as exc:
            raise FileProblem(Problem(CORRUPT)) from exc
    finally:
        workbook.close()
    _reject_formulas(table, formulas)
    return table


def cell_text(value: object) -> str:
    """Return a cell's value as the text Excel shows: 12 not 12.0, dates as 2024-03-15."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(value, ".15g")  # Excel shows 15 significant digits: 0.1+0.2 is 0.3
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _worksheet(workbook: Workbook, name: str | None) -> ReadOnlyWorksheet:
    sheets = [ws for ws in workbook.worksheets if isinstance(ws, ReadOnlyWorksheet)]
    if not sheets:
        raise FileProblem(Problem("工作簿中没有工作表"))
    if name is None:
        return sheets[0]
    for ws in sheets:
        if ws.title == name:
            return ws
    names = "、".join(f"“{ws.title}”" for ws in sheets)
    raise FileProblem(Problem(f"没有名为“{name}”的工作表；文件中的工作表有：{names}"))


def _records(rows: Iterable[tuple[object, ...]], formulas: list[Formula]) -> Iterator[Record]:
    """Yield each row's texts with its worksheet row number, noting formula cells in `formulas`."""
    for number, values in enumerate(rows, start=1):
        cells = []
        for i, value in enumerate(values):
            if _is_formula(value):
                formulas.append((number, i, _formula_text(value)))
            cells.append(cell_text(value))
        yield number, cells


def _is_formula(value: object) -> bool:
    # with data_only=False a formula reads as its text; array formulas read as objects
    return (isinstance(value, str) and value.startswith("=")) or isinstance(
        value, ArrayFormula | DataTableFormula
    )


def _formula_text(value: object) -> str:
    return value.text or "" if isinstance(value, ArrayFormula) else str(value)


def _reject_formulas(table: RawTable, formulas: list[Formula]) -> None:
    """Raise one FileProblem listing every formula at or below the header (titles above are ignored)."""
    problems = [
        Problem(
            FORMULA,
            row=number,
            column=table.headers[i] if i < len(table.headers) else None,
            column_letter=column_letter(i),
            value=text,
        )
        for number, i, text in formulas
        if number >= table.header_row
    ]
    if problems:
        first = problems[0]
        where = f"{first.column_letter}{first.row}"
        message = f"{FORMULA}（共 {len(problems)} 处，第一处在 {where}）"
        raise FileProblem(*problems, message=message)
