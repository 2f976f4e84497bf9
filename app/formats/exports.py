"""Export entries as bytes: the published-catalog CSV, NDJSON lines and the catalog JSON document.

Every writer yields chunks of about a thousand rows, so memory holds one chunk whatever the size.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import Any

from app.catalog.entries import Ancestry, Entry

# the published columns (REGULATIONS §4), then the uid, which lets a re-import keep identities
CSV_HEADER = [
    "序号",
    "目录编码",
    "一级目录",
    "二级目录",
    "三级目录",
    "四级目录",
    "服务内容",
    "购买主体",
    "备注",
    "uid",
]
CHUNK_ROWS = 1000
_BOM = "\ufeff"
_COMMAS = len(CSV_HEADER) - 1
KEEP_LEVELS = 1024


class Charset(StrEnum):
    UTF8 = "utf-8"
    GB18030 = "gb18030"


def csv_fields(number: int, entry: Entry) -> list[str]:
    """Return the published-catalog row of `entry`: its levels' names in their own columns."""
    (_id, uid, _parent, _level, code, name, description, _dept, note), ancestry, dept = entry
    names = [*ancestry[1], name] if ancestry else [name]
    names += [""] * (4 - len(names))
    return [str(number), code, *names, description, dept[1] if dept else "", _note(note), uid]


def csv_header(*, bom: bool = False, charset: Charset = Charset.UTF8) -> bytes:
    """Return the CSV's header line in `charset`, after a BOM if `bom` (UTF-8 only)."""
    return ((_BOM if bom and charset is Charset.UTF8 else "") + quoted(CSV_HEADER)).encode(charset.value)


def csv_chunks(
    entries: Iterable[Entry], *, bom: bool = False, charset: Charset = Charset.UTF8, start: int = 1
) -> Iterator[bytes]:
    """Yield the CSV, header first, encoded in `charset`; `bom` puts a BOM before UTF-8 (Excel wants it).

    Bytes are exactly what csv.writer writes (minimal quoting, CRLF). Most rows hold no comma,
    quote or line break and are simply formatted; only the others go through the writer.
    """
    encoding = charset.value
    yield csv_header(bom=bom, charset=charset)
    levels: dict[int | None, tuple[str, str]] = {}  # by parent id: the same within one version
    lines: list[str] = []
    for number, entry in enumerate(entries, start):
        (_id, uid, parent_id, _level, code, name, description, _dept, note), ancestry, dept = entry
        around = levels.get(parent_id)
        if around is None:
            if len(levels) >= KEEP_LEVELS:  # items with sub-items come and go: memory stays flat
                levels.clear()
            around = levels[parent_id] = level_columns(ancestry)
        department, remark = dept[1] if dept else "", "" if note is None else note
        line = f"{number},{code},{around[0]}{name}{around[1]},{description},{department},{remark},{uid}"
        if line.count(",") != _COMMAS or '"' in line or "\n" in line or "\r" in line:
            line = quoted(csv_fields(number, entry))[:-2]
        lines.append(line)
        if len(lines) == CHUNK_ROWS:
            yield ("\r\n".join(lines) + "\r\n").encode(encoding)
            lines.clear()
    if lines:
        yield ("\r\n".join(lines) + "\r\n").encode(encoding)


def level_columns(ancestry: Ancestry | None) -> tuple[str, str]:
    """Return the level columns before a child's own name (its ancestors') and the empty ones after it."""
    names = ancestry[1] if ancestry else ()
    return "".join(f"{n}," for n in names), "," * (3 - len(names))


def _note(note: object) -> str:
    return "" if note is None else str(note)


def quoted(fields: Iterable[str]) -> str:
    """Return `fields` as one CSV record, exactly as csv.writer writes it (CRLF included)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(fields)
    return buffer.getvalue()


def item_dict(entry: Entry) -> dict[str, Any]:
    """Return the JSON object of `entry`, the same as the API's NodeOut."""
    (_id, uid, _parent, level, code, name, description, _dept, note), ancestry, dept = entry
    return {
        "uid": uid,
        "parent": ancestry[0] if ancestry else None,
        "level": level,
        "code": code,
        "name": name,
        "description": description,
        "department": None if dept is None else {"code": dept[0], "name": dept[1]},
        "path": list(ancestry[1]) if ancestry else [],
        "note": _note(note),
    }


def ndjson_chunks(entries: Iterable[Entry]) -> Iterator[bytes]:
    """Yield one JSON object per line, a thousand lines to a chunk."""
    for lines in _json_lines(entries):
        yield ("\n".join(lines) + "\n").encode()


def json_document(head: dict[str, Any], entries: Iterable[Entry]) -> Iterator[bytes]:
    """Yield `head` as a JSON object whose last member, "items", holds every entry, one per line."""
    opening = json.dumps(head, ensure_ascii=False)[:-1] + (', "items": [' if head else '"items": [')
    yield opening.encode()
    separator = "\n"
    for lines in _json_lines(entries):
        yield (separator + ",\n".join(lines)).encode()
        separator = ",\n"
    yield b"\n]}\n"


def _json_lines(entries: Iterable[Entry]) -> Iterator[list[str]]:
    lines: list[str] = []
    for entry in entries:
        lines.append(json.dumps(item_dict(entry), ensure_ascii=False))
        if len(lines) == CHUNK_ROWS:
            yield lines
            lines = []
    if lines:
        yield lines
