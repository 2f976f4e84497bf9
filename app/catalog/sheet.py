"""A catalog spreadsheet as plain data: what a reader hands to the import's mapping and validation.

Readers (CSV in any supported encoding, XLSX, the project's JSON export) all produce a
RawTable; nothing after them knows which file format a row came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"  # the file is not imported
    WARNING = "warning"  # the file is imported; the user is told


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an import, located as the user sees it in Excel."""

    reason: str  # zh-CN, says what is wrong and, where it helps, what to do
    row: int | None = None  # the spreadsheet row number (header is usually row 1); None: the whole file
    column: str | None = None  # the header text of the column, as in the file
    column_letter: str | None = None  # A, B, … AA
    value: str = ""
    severity: Severity = Severity.ERROR


@dataclass(frozen=True, slots=True)
class RawRow:
    number: int  # the row number the user sees in Excel (1-based, counting the header and title rows)
    cells: tuple[str, ...]  # one string per header, '' where empty; not yet normalised


@dataclass(frozen=True, slots=True)
class RawTable:
    headers: tuple[str, ...]  # header texts in column order, as in the file (not yet normalised)
    header_row: int  # the row number of the header row
    rows: tuple[RawRow, ...]  # data rows after the header; wholly blank rows are left out
    source: str  # "csv", "xlsx" or "json"
    encoding: str | None = None  # the detected text encoding (CSV only): "utf-8", "utf-8-sig", "gb18030"
    warnings: tuple[Problem, ...] = ()  # things the reader noticed but could read past


def column_letter(index: int) -> str:
    """Return the Excel column letter of the 0-based column `index` (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters
