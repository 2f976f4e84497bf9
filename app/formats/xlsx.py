"""Export entries as an XLSX workbook, streamed row by row to disk (openpyxl write-only mode).

Rows 1–2 carry the title and the version's document number and dates, row 3 the column
header; panes freeze below it. Column widths fit Chinese text (a CJK character is two
columns wide), measured on the first rows, which are held back until the widths are set.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain, islice
from pathlib import Path
from typing import BinaryIO, Protocol, cast

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.dimensions import ColumnDimension, DimensionHolder
from openpyxl.worksheet.filters import AutoFilter

from app.catalog.entries import Entry
from app.clock import beijing_date
from app.formats.exports import CSV_HEADER, csv_fields

HEADER_ROW = 3
SAMPLE_ROWS = 200
MIN_WIDTH, MAX_WIDTH = 6, 60
_SHEET_TITLE_FORBIDDEN = str.maketrans(dict.fromkeys("[]:*?/\\", "_"))


@dataclass(frozen=True, slots=True)
class SheetHead:
    """What the sheet says above its header row: the catalog, the version and its dates."""

    catalog_name: str
    label: str
    doc_number: str | None
    issued_on: date | None
    published_at: datetime | None

    @property
    def title(self) -> str:
        """Return the sheet's title line: the catalog name and the version label."""
        return f"{self.catalog_name}（{self.label}）"

    @property
    def facts(self) -> str:
        """Return the line under the title: document number, issue date and publication date."""
        published = beijing_date(self.published_at) if self.published_at else None
        return (
            f"文号：{self.doc_number or '—'}  印发日期：{_cn_date(self.issued_on)}  "
            f"公开日期：{_cn_date(published)}"
        )


class _Sheet(Protocol):
    # set up at run time by openpyxl for write-only sheets, but missing from their stubs
    column_dimensions: DimensionHolder[str, ColumnDimension]
    auto_filter: AutoFilter


def write_xlsx(target: Path | BinaryIO, head: SheetHead, entries: Iterable[Entry]) -> int:
    """Write the workbook of `entries` to `target`; return the number of entry rows written."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=head.label.translate(_SHEET_TITLE_FORBIDDEN)[:31] or "目录")
    stream = iter(entries)
    sample = [_cells(n, e) for n, e in enumerate(islice(stream, SAMPLE_ROWS), 1)]
    _set_layout(sheet, head, sample)
    _append_heading(sheet, head)
    rest = (_cells(n, e) for n, e in enumerate(stream, len(sample) + 1))
    count = 0
    for cells in chain(sample, rest):
        sheet.append(cells)
        count += 1
    last = get_column_letter(len(CSV_HEADER))
    cast(_Sheet, sheet).auto_filter.ref = f"A{HEADER_ROW}:{last}{HEADER_ROW + count}"
    workbook.save(target)
    return count


def _cells(number: int, entry: Entry) -> list[int | str]:
    return [number, *csv_fields(number, entry)[1:]]


def _set_layout(sheet: WriteOnlyWorksheet, head: SheetHead, sample: Sequence[Sequence[int | str]]) -> None:
    # widths must be set before the first row is written: write-only sheets cannot go back
    dimensions = cast(_Sheet, sheet).column_dimensions
    for index, width in enumerate(column_widths(sample), 1):
        dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = f"A{HEADER_ROW + 1}"
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    if sheet.oddHeader is not None:
        sheet.oddHeader.center.text = " ".join(p for p in (head.label, head.doc_number) if p)


def _append_heading(sheet: WriteOnlyWorksheet, head: SheetHead) -> None:
    title = WriteOnlyCell(sheet, value=head.title)
    title.font = Font(bold=True, size=14)
    sheet.append([title])
    sheet.append([head.facts])
    bold = Font(bold=True)
    header = []
    for name in CSV_HEADER:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        header.append(cell)
    sheet.append(header)


def column_widths(rows: Iterable[Sequence[int | str]]) -> list[int]:
    """Return a width per column fitting its header and `rows`, between MIN_WIDTH and MAX_WIDTH."""
    widths = [display_width(h) for h in CSV_HEADER]
    for row in rows:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], display_width(str(value)))
    return [min(MAX_WIDTH, max(MIN_WIDTH, w + 2)) for w in widths]


def display_width(text: str) -> int:
    """Return how many columns `text` takes in a spreadsheet: wide (CJK) characters count two."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _cn_date(value: date | None) -> str:
    return "—" if value is None else f"{value.year}年{value.month}月{value.day}日"
