"""A version's nodes as export entries: each row with its parent's ancestry and its department.

Nothing is queried per row. The version's classes and types (under a hundred nodes) and the
jurisdiction's departments are loaded first; rows arrive in code order, so a 三级 item comes
just before its 四级 sub-items and the item last read names their parent. A parent or a
department found in neither place (codes are labels, not a promise of order) is looked up once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeAlias

from sqlalchemy.orm import Session

from app.catalog.nodes import Level
from app.db import queries
from app.db.export_query import Row, RowFilter, departments, version_rows
from app.db.models import Catalog

ITEM_LEVELS = (Level.ITEM, Level.SUBITEM)
ALL_LEVELS = (Level.CLASS, Level.TYPE, Level.ITEM, Level.SUBITEM)

# a parent: its uid, and the names from the class down to it (itself included)
Ancestry: TypeAlias = tuple[str, tuple[str, ...]]
# a department: its code and name
Department: TypeAlias = tuple[str, str]
# a node as exports see it: plain tuples, since 650,000 of them go by in one export
Entry: TypeAlias = tuple[Row, Ancestry | None, Department | None]

_ITEM = int(Level.ITEM)
_KEEP_LOOKED_UP = 256


class Ancestries(dict[int | None, Ancestry | None]):
    """Parent node id → Ancestry; the item last read is set in `item` for the sub-items after it."""

    def __init__(self, session: Session, catalog_id: int, seq: int) -> None:
        super().__init__({None: None})
        self._session, self._catalog_id, self._seq = session, catalog_id, seq
        self.item: Row | None = None
        self._upper: dict[int | None, Ancestry | None] = {}
        for level in (Level.CLASS, Level.TYPE):
            for n in queries.level_nodes(session, catalog_id, seq, level):
                above = self[n.parent_id]
                self[n.node_id] = (n.uid, (*above[1], n.name) if above else (n.name,))
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


class Departments(dict[int | None, Department | None]):
    """Department id → (code, name): the jurisdiction's, loaded at once; any other, when first met."""

    def __init__(self, session: Session, jurisdiction_id: int) -> None:
        super().__init__({None: None})
        self.update(departments(session, jurisdiction_id=jurisdiction_id).items())
        self._session = session

    def __missing__(self, department_id: int | None) -> Department | None:
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
