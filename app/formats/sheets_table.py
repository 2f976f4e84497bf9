"""From rows of cell texts to a RawTable: finding the header under title rows, dropping blank rows.

Shared by the CSV and XLSX readers, which differ only in how they get rows of strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from app.catalog.columns import ALIASES, header_key
from app.catalog.sheet import Problem, RawRow, RawTable, Severity, column_letter
from app.errors import InvalidInput

HEADER_SEARCH_ROWS = 20  # real catalogs put one or two title rows above the header, never many
_HEADER_WORDS = frozenset(ALIASES)  # the mapping layer's vocabulary, so a header found here is mappable
NO_HEADER = "没有找到表头：第一行应包含“一级目录、二级目录、三级目录、服务内容、购买主体”等列名"

Record = tuple[int, Sequence[str]]  # (row number as Excel shows it, cell texts)


class FileProblem(InvalidInput):
    """The file cannot be read at all; `problems` says why, each located where that is known."""

    def __init__(self, *problems: Problem, message: str | None = None) -> None:
        super().__init__(message or problems[0].reason)
        self.problems = problems

    @property
    def problem(self) -> Problem:
        """Return the first (usually the only) problem."""
        return self.problems[0]


def build_table(
    records: Iterable[Record],
    *,
    source: str,
    encoding: str | None = None,
    warnings: Sequence[Problem] = (),
    empty_reason: str = "文件为空",
) -> RawTable:
    """Return the table whose header is the first row naming two known columns; raise FileProblem."""
    rows = iter(records)
    header_row, header = _find_header(rows, empty_reason)
    headers = _trim(header)
    _reject_duplicates(headers, header_row)
    data, overflow = _data_rows(rows, len(headers))
    return RawTable(
        headers=headers,
        header_row=header_row,
        rows=data,
        source=source,
        encoding=encoding,
        warnings=(*warnings, *overflow),
    )


def is_header(cells: Sequence[str]) -> bool:
    """Return whether `cells` name at least two known columns."""
    return len({k for k in map(header_key, cells) if k in _HEADER_WORDS}) >= 2


def _find_header(rows: Iterator[Record], empty_reason: str) -> Record:
    seen_content = False
    for number, cells in rows:
        if number > HEADER_SEARCH_ROWS:
            raise FileProblem(Problem(NO_HEADER))
        if is_header(cells):
            return number, cells
        seen_content = seen_content or any(c.strip() for c in cells)
    raise FileProblem(Problem(NO_HEADER if seen_content else empty_reason))


def _trim(header: Sequence[str]) -> tuple[str, ...]:
    """Return the header without the empty cells after its last named column."""
    width = len(header)
    while width and not header[width - 1].strip():
        width -= 1
    return tuple(header[:width])


def _reject_duplicates(headers: tuple[str, ...], header_row: int) -> None:
    where: dict[str, list[int]] = {}
    for i, text in enumerate(headers):
        if key := header_key(text):
            where.setdefault(key, []).append(i)
    problems = [
        Problem(
            f"列名重复：“{headers[found[0]].strip()}”同时出现在 {_letters(found)}",
            row=header_row,
            column=headers[found[-1]],
            column_letter=column_letter(found[-1]),
            value=headers[found[-1]],
        )
        for found in where.values()
        if len(found) > 1
    ]
    if problems:
        raise FileProblem(*problems)


def _letters(indexes: list[int]) -> str:
    """Return "C 列和 F 列" (or "C 列、F 列和 H 列")."""
    named = [f"{column_letter(i)} 列" for i in indexes]
    return "、".join(named[:-1]) + "和 " + named[-1]


def _data_rows(rows: Iterator[Record], width: int) -> tuple[tuple[RawRow, ...], list[Problem]]:
    """Return the non-blank rows fitted to `width` cells, and warnings for cells past the header."""
    data: list[RawRow] = []
    append = data.append
    spill: dict[int, list[int]] = {}  # column index past the header → row numbers with content there
    for number, cells in rows:
        if len(cells) != width:
            cells = _fit(cells, width, number, spill)
        # a row is kept if some cell holds more than spaces (the first filled cell usually does)
        if not all(map(str.isspace, filter(None, cells))):
            append(RawRow(number, tuple(cells)))
    return tuple(data), [_spill_warning(i, numbers) for i, numbers in sorted(spill.items())]


def _fit(cells: Sequence[str], width: int, number: int, spill: dict[int, list[int]]) -> Sequence[str]:
    if len(cells) < width:
        return [*cells, *([""] * (width - len(cells)))]
    for i in range(width, len(cells)):
        if cells[i].strip():
            spill.setdefault(i, []).append(number)
    return cells[:width]


def _spill_warning(index: int, numbers: list[int]) -> Problem:
    letter = column_letter(index)
    return Problem(
        f"{letter} 列有内容但没有列名，已忽略（共 {len(numbers)} 行，第一处在第{numbers[0]}行）",
        row=numbers[0],
        column_letter=letter,
        severity=Severity.WARNING,
    )
