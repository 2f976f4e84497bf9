"""A version's nodes as export entries: each row with its parent's ancestry and its department.

Nothing is queried per row. The version's classes and types (under a hundred nodes) and the
jurisdiction's departments are loaded first; rows arrive in code order, so a 三级 item comes
just before its 四级 sub-items and the item last read names their parent. A parent or a
department found in neither place (codes are labels, not a promise of order) is looked up once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import count
from typing import Any

from sqlalchemy.orm import Session

from app.catalog.entries import Ancestry, DepartmentRef, Entry, Row
from app.catalog.nodes import Level
from app.db import queries
from app.db.export_query import (
    LineRow,
    RowFilter,
    departments,
    line_batches,
    upper_nodes,
    version_row,
    version_rows,
)
from app.db.models import Catalog
from app.formats.exports import CSV_HEADER, KEEP_LEVELS, Charset, csv_fields, level_columns, quoted

ITEM_LEVELS = (Level.ITEM, Level.SUBITEM)
ALL_LEVELS = (Level.CLASS, Level.TYPE, Level.ITEM, Level.SUBITEM)


_ITEM = int(Level.ITEM)
_COMMAS = len(CSV_HEADER) - 1
_KEEP_LOOKED_UP = 256


class Ancestries(dict[int | None, Ancestry | None]):
    """Parent node id → Ancestry; the item last read is set in `item` for the sub-items after it."""

    def __init__(self, session: Session, catalog_id: int, seq: int) -> None:
        super().__init__({None: None})
        self._session, self._catalog_id, self._seq = session, catalog_id, seq
        self.item: Row | None = None
        self._upper: dict[int | None, Ancestry | None] = {}
        for node_id, uid, parent_id, name in upper_nodes(session, catalog_id, seq):
            above = self[parent_id]
            self[node_id] = (uid, (*above[1], name) if above else (name,))
        self._upper = dict(self)

    def __missing__(self, node_id: int | None) -> Ancestry | None:
        if len(self) > len(self._upper) + _KEEP_LOOKED_UP:
            self.clear()
            self.update(self._upper)
        item = self.item
        if item is not None and item[0] == node_id:
            above = self[item[2]]
            found: Ancestry | None = (item[1], (*above[1], item[5]) if above else (item[5],))
        else:
            found = self._look_up(node_id)
        self[node_id] = found
        return found

    def _look_up(self, node_id: int | None) -> Ancestry | None:
        found = queries.nodes_by_ids(self._session, self._catalog_id, self._seq, [node_id] if node_id else [])
        if not found:
            return None
        above = self[found[0].parent_id]
        return found[0].uid, (*above[1], found[0].name) if above else (found[0].name,)


class Departments(dict[int | None, DepartmentRef | None]):
    """Department id → (code, name): the jurisdiction's, loaded at once; any other, when first met."""

    def __init__(self, session: Session, jurisdiction_id: int) -> None:
        super().__init__({None: None})
        self.update(departments(session, jurisdiction_id=jurisdiction_id).items())
        self._session = session

    def __missing__(self, department_id: int | None) -> DepartmentRef | None:
        found = (
            None if department_id is None else departments(self._session, [department_id]).get(department_id)
        )
        self[department_id] = found
        return found


def entries(session: Session, catalog: Catalog, seq: int, flt: RowFilter) -> Iterator[Entry]:
    """Yield an Entry per node of version `seq` matching `flt`, in code order, streamed."""
    ancestries = Ancestries(session, catalog.id, seq)
    by_id = Departments(session, catalog.jurisdiction_id)
    for row in version_rows(session, catalog.id, seq, flt):
        if row[3] == _ITEM:
            ancestries.item = row
        yield row, ancestries[row[2]], by_id[row[7]]


class CsvLines:
    """A version's CSV lines (no header, CRLF after each): a batch of rows to a chunk of bytes.

    The bytes are those `export_formats.csv_chunks` writes for `entries`, made with less work
    per row: plain tuples off the cursor (on SQLite the columns after the names already joined,
    as undecoded UTF-8), one format per line with its parent's level columns, and the check
    for a comma, quote or line break inside a field once over a whole chunk; only a chunk that
    holds one goes back over its lines, rewriting those through csv.writer.
    """

    def __init__(self, session: Session, catalog: Catalog, seq: int, *, charset: Charset) -> None:
        self._session, self._catalog, self._seq, self._charset = session, catalog, seq, charset
        self._ancestries = Ancestries(session, catalog.id, seq)
        self._departments = Departments(session, catalog.jurisdiction_id)
        # by parent id: the level columns before a child's name and the empty ones after it,
        # bytes or str as the rows come
        self._levels: dict[int | None, tuple[Any, Any]] = {}
        self._last_item: LineRow | None = None
        self._department_names: dict[int | None, str] = {}

    def chunks(self, flt: RowFilter) -> Iterator[bytes]:
        """Yield the lines of the version's nodes matching `flt`, numbered from 1, a batch to a chunk."""
        number = 1
        as_bytes = self._charset is Charset.UTF8
        for batch in line_batches(self._session, self._catalog.id, self._seq, flt, as_bytes=as_bytes):
            if isinstance(batch[0][3], bytes):
                yield self._checked(self._bytes_lines(batch, number), batch, number, _BYTES)
            else:
                text = self._checked(self._text_lines(batch, number), batch, number, _TEXT)
                yield text.encode(self._charset.value)
            number += len(batch)

    def _bytes_lines(self, batch: Sequence[LineRow], number: int) -> list[bytes]:
        levels, lines = self._levels, []
        for n, row in enumerate(batch, number):
            _id, parent_id, level, code, name, tail = row
            if level == _ITEM:
                self._last_item = row
            before, after = levels.get(parent_id) or self._level_columns(parent_id, _BYTES)
            lines.append(b"%d,%b,%b%b%b%b" % (n, code, before, name, after, tail))
        return lines

    def _text_lines(self, batch: Sequence[LineRow], number: int) -> list[str]:
        levels, lines = self._levels, []
        names = self._department_names
        for n, row in enumerate(batch, number):
            _id, parent_id, level, code, name, description, department_id, note, uid = row
            if level == _ITEM:
                self._last_item = row
            before, after = levels.get(parent_id) or self._level_columns(parent_id, _TEXT)
            department = names.get(department_id)
            if department is None:
                found = self._departments[department_id]
                department = names[department_id] = "" if found is None else found[1]
            lines.append(f"{n},{code},{before}{name}{after},{description},{department},{note},{uid}")
        return lines

    def _level_columns(self, parent_id: int | None, kind: _Kind) -> tuple[Any, Any]:
        last = self._last_item
        if last is not None and last[0] == parent_id:  # a sub-item under the item just read
            code, name = (kind.decode(last[3]), kind.decode(last[4]))
            self._ancestries.item = (last[0], "", last[1], last[2], code, name, "", None, None)
        before, after = level_columns(self._ancestries[parent_id])
        if len(self._levels) >= KEEP_LEVELS:  # items with sub-items come and go: memory stays flat
            self._levels.clear()
        found = self._levels[parent_id] = (kind.encode(before), kind.encode(after))
        return found

    def _checked(self, lines: list[Any], batch: Sequence[LineRow], number: int, kind: _Kind) -> Any:
        """Return the lines as one chunk, CRLF after each, any needing quotes rewritten by csv.writer.

        Every line has nine commas of its own: a chunk with 9 × lines commas and no quote or
        line break holds no field that needs quoting. `in` is a fast scan, `count` a slower one.
        """
        body = kind.empty.join(lines)
        comma, quote, cr, lf = kind.specials
        if quote in body or cr in body or lf in body or body.count(comma) != _COMMAS * len(lines):
            lines = [self._rewritten(n, line, row, kind) for n, line, row in zip(count(number), lines, batch)]
        return kind.crlf.join(lines) + kind.crlf

    def _rewritten(self, number: int, line: Any, row: LineRow, kind: _Kind) -> Any:
        comma, quote, cr, lf = kind.specials
        if line.count(comma) == _COMMAS and quote not in line and cr not in line and lf not in line:
            return line
        stored = version_row(self._session, self._catalog.id, self._seq, row[0])
        if stored is None:  # read in the transaction the line came from: cannot happen
            raise LookupError(f"node {row[0]} is not in version {self._seq}")
        entry = (stored, self._ancestries[stored[2]], self._departments[stored[7]])
        return kind.encode(quoted(csv_fields(number, entry))[:-2])


@dataclass(frozen=True, slots=True)
class _Kind:
    """What a CSV line is made of: str, or bytes in UTF-8."""

    empty: Any
    crlf: Any
    specials: tuple[Any, Any, Any, Any]  # comma, quote, CR, LF

    def encode(self, text: str) -> Any:
        """Return `text` as this kind."""
        return text if isinstance(self.empty, str) else text.encode()

    def decode(self, value: Any) -> str:
        """Return `value` (of this kind) as str."""
        return value if isinstance(value, str) else bytes(value).decode()


_TEXT = _Kind("", "\r\n", (",", '"', "\r", "\n"))
_BYTES = _Kind(b"", b"\r\n", (b",", b'"', b"\r", b"\n"))
