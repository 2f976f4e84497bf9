"""Screening the items of a spreadsheet: `guidecat screen FILE`, and the findings an import reports.

A file is read with the import's own reader and column mapping, so whatever the import
accepts (CSV in any supported encoding, XLSX, the JSON export) can be screened as it is.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice

from sqlalchemy.orm import Session

from app.catalog.columns import ColumnMap, map_columns
from app.catalog.columns import Field as Column
from app.catalog.nodes import Level, NodeState
from app.catalog.sheet import Problem, RawRow, RawTable, Severity, column_letter
from app.catalog.text import normalise
from app.catalog.validation import ParsedItem
from app.db import finding_store, store
from app.db.models import Draft
from app.errors import InvalidInput
from app.formats.sheets import MAX_UPLOAD_BYTES, read_table
from app.screening import Field, Finding, Matcher, ScreenItem, screen
from app.services.screening.rules import active_rules

BATCH = 5000
_LABELS = {"block": "负面清单（送审时阻止）", "warn": "负面清单（提示）"}


@dataclass(frozen=True, slots=True)
class FileItem:
    """One item of a file: its row as Excel numbers it, its name (四级 before 三级) and 服务内容."""

    row: int
    name: str
    description: str


def file_items(data: bytes, *, filename: str = "", max_bytes: int = MAX_UPLOAD_BYTES) -> list[FileItem]:
    """Return every row of the file that names a 三级 or 四级 item; raise InvalidInput if unreadable."""
    table = read_table(data, filename=filename, max_bytes=max_bytes)
    columns, _ = map_columns(table, department_fixed=True)  # only names and 服务内容 matter here
    names = [columns.index[c] for c in (Column.SUBITEM, Column.ITEM) if columns.has(c)]
    if not names:
        raise InvalidInput("文件中没有“三级目录”或“四级目录”列，无法筛查")
    described = columns.index.get(Column.DESCRIPTION)
    items = []
    for row in table.rows:
        name = next((text for text in (_cell(row, i) for i in names) if text), "")
        if name:
            items.append(FileItem(row.number, name, "" if described is None else _cell(row, described)))
    return items


def screen_items(items: Sequence[FileItem], matcher: Matcher) -> Iterator[tuple[FileItem, list[Finding]]]:
    """Yield each item with its findings, screening a batch at a time."""
    it = iter(items)
    while batch := list(islice(it, BATCH)):
        yield from zip(
            batch, screen([ScreenItem(i.name, i.description) for i in batch], matcher), strict=True
        )


def item_json(row: int, name: str, findings: Sequence[Finding]) -> dict[str, object]:
    """Return one item as {"row", "name", "findings": [{"rule", "article", "severity", "match"}]}.

    The same shape answers `guidecat screen FILE --format json` and POST /api/v1/screen.
    """
    return {
        "row": row,
        "name": name,
        "findings": [
            {"rule": f.rule_id, "article": f.article, "severity": f.severity.value, "match": f.match}
            for f in findings
        ],
    }


def _cell(row: RawRow, index: int) -> str:
    return normalise(row.cells[index]) if index < len(row.cells) else ""


# --- the findings step of an import ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportScreening:
    """What screening an import's items found: one warning per finding, and findings by item text."""

    problems: list[Problem] = field(default_factory=list)
    by_text: dict[tuple[str, str], list[Finding]] = field(default_factory=dict)  # (name, 服务内容) → findings


def screen_parsed(
    session: Session, items: Sequence[ParsedItem], table: RawTable, columns: ColumnMap
) -> ImportScreening:
    """Screen each parsed item once; return a WARNING per finding (block ones too: the gate is at submit)."""
    if not items:
        return ImportScreening()
    _, matcher = active_rules(session)
    result = ImportScreening()
    for item, found in zip(items, screen(items, matcher), strict=True):
        if found:
            result.by_text[(item.name, item.description)] = found
            result.problems.extend(_problem(item, f, table, columns) for f in found)
    return result


def store_import_findings(
    session: Session,
    draft: Draft,
    changes: Mapping[str, NodeState | None],
    base: Mapping[str, store.StoredNode],
    screened: ImportScreening,
) -> None:
    """Store the findings of the items the import's draft adds or changes (flush only)."""
    flagged = {
        uid: screened.by_text[(s.name, s.description)]
        for uid, s in changes.items()
        if s is not None
        and (s.name, s.description) in screened.by_text
        and not (uid in base and base[uid].state == s)
    }
    if not flagged:
        return
    ids = store.node_ids(session, draft.catalog_id, list(flagged))
    finding_store.insert_findings(
        session,
        [
            finding_store.finding_record(f, catalog_id=draft.catalog_id, node_id=ids[uid], draft_id=draft.id)
            for uid, found in flagged.items()
            for f in found
        ],
    )


def _problem(item: ParsedItem, f: Finding, table: RawTable, columns: ColumnMap) -> Problem:
    if f.field is Field.DESCRIPTION:
        column = Column.DESCRIPTION
    else:
        column = Column.SUBITEM if item.level is Level.SUBITEM else Column.ITEM
    index = columns.index.get(column)
    return Problem(
        f"{_LABELS[f.severity.value]}：{f.article}：{f.explanation}（规则 {f.rule_id}）",
        row=item.row,
        column=None if index is None else table.headers[index],
        column_letter=None if index is None else column_letter(index),
        value=f.match,
        severity=Severity.WARNING,
    )
