"""The queries behind exports: a version's nodes in code order, streamed off a single cursor.

Exports do not page with keysets or build ORM objects (6.9× the sqlite3 CLI where a raw
cursor costs 1.75×): one Core select runs with `yield_per`, a server-side cursor on
PostgreSQL and plain cursor iteration on SQLite, so memory holds one batch at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, LargeBinary, Select, cast, func, literal_column, or_, select, tuple_
from sqlalchemy.orm import Session

from app.catalog.entries import Row
from app.catalog.nodes import Level
from app.db.models import Department, Node, NodeRevision

BATCH = 1000

_rev = NodeRevision.__table__.c
_node = Node.__table__.c
_dept = Department.__table__.c

# A CSV line's stored parts: (node_id, parent_id, level, code, name, tail), the tail being
# ",description,department name,note,uid" as undecoded UTF-8 (bytes); or, where the rows are
# wanted as text, (node_id, parent_id, level, code, name, description, department_id, note, uid).
LineRow = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class RowFilter:
    """Which nodes of a version an export holds; `after` is a (code, node id) keyset."""

    levels: Sequence[int]
    parent_id: int | None = None
    department_id: int | None = None
    after: tuple[str, int] | None = None
    limit: int | None = None


def version_rows(session: Session, catalog_id: int, seq: int, flt: RowFilter) -> Iterator[Row]:
    """Yield a Row per node of version `seq` matching `flt`, in (code, node id) order, streamed."""
    stmt = _row_select(catalog_id, seq, flt).order_by(_rev.code, _rev.node_id).limit(flt.limit)
    yield from session.connection().execute(stmt.execution_options(yield_per=BATCH))


def version_row(session: Session, catalog_id: int, seq: int, node_id: int) -> Row | None:
    """Return the Row of node `node_id` in version `seq` (any level), or None if the version lacks it."""
    stmt = _row_select(catalog_id, seq, RowFilter(levels=tuple(Level))).where(_rev.node_id == node_id)
    found = session.connection().execute(stmt).first()
    return None if found is None else tuple(found)


def line_batches(
    session: Session, catalog_id: int, seq: int, flt: RowFilter, *, as_bytes: bool
) -> Iterator[Sequence[LineRow]]:
    """Yield the LineRows of `version_rows`, same rows, same order, a batch at a time.

    A CSV export spends its time per row and per decoded column: with `as_bytes` (SQLite
    only) SQL joins the department, concatenates the columns after the names and hands the
    texts over as the stored UTF-8 bytes, never decoded to be encoded again.
    """
    conn = session.connection()
    note = func.coalesce(_rev.attrs["note"].as_string(), "")
    stmt = select(_rev.node_id, _rev.parent_id, _rev.level).join_from(
        NodeRevision.__table__, Node.__table__, _node.id == _rev.node_id
    )
    if as_bytes and conn.dialect.name == "sqlite":  # SQLite joins bytes faster than Python does
        comma: ColumnElement[str] = literal_column("','")
        department = func.coalesce(_dept.name, "")
        tail = comma + _rev.description + comma + department + comma + note + comma + _node.uid
        stmt = stmt.add_columns(*(cast(c, LargeBinary) for c in (_rev.code, _rev.name, tail))).outerjoin(
            Department.__table__, _dept.id == _rev.department_id
        )
    else:  # PostgreSQL pays for each `||` and for the join more than Python does for a column
        stmt = stmt.add_columns(_rev.code, _rev.name, _rev.description, _rev.department_id, note, _node.uid)
    stmt = stmt.where(*_conditions(catalog_id, seq, flt)).order_by(_rev.code, _rev.node_id).limit(flt.limit)
    if conn.dialect.name != "sqlite":  # a server-side cursor
        with conn.execute(stmt.execution_options(yield_per=BATCH)) as streamed:
            yield from streamed.partitions(BATCH)
        return
    # SQLite steps the statement as rows are fetched: the DBAPI cursor streams as it is, and
    # its plain tuples skip the Row objects a Result would make of each of them
    with conn.execute(stmt) as result:
        cursor = result.cursor
        while batch := cursor.fetchmany(BATCH):
            yield batch


def upper_nodes(session: Session, catalog_id: int, seq: int) -> list[tuple[int, str, int | None, str]]:
    """Return (node id, uid, parent id, name) of the version's classes and types, classes first."""
    stmt = (
        select(_rev.node_id, _node.uid, _rev.parent_id, _rev.name)
        .join_from(NodeRevision.__table__, Node.__table__, _node.id == _rev.node_id)
        .where(*_conditions(catalog_id, seq, RowFilter(levels=(Level.CLASS, Level.TYPE))))
        .order_by(_rev.level, _rev.sort_key, _rev.code)
    )
    return [
        (node_id, uid, parent_id, name)
        for node_id, uid, parent_id, name in session.connection().execute(stmt)
    ]


def _row_select(catalog_id: int, seq: int, flt: RowFilter) -> Select[Any]:
    return (
        select(
            _rev.node_id,
            _node.uid,
            _rev.parent_id,
            _rev.level,
            _rev.code,
            _rev.name,
            _rev.description,
            _rev.department_id,
            _rev.attrs["note"].as_string(),
        )
        .join_from(NodeRevision.__table__, Node.__table__, _node.id == _rev.node_id)
        .where(*_conditions(catalog_id, seq, flt))
    )


def _conditions(catalog_id: int, seq: int, flt: RowFilter) -> list[ColumnElement[bool]]:
    # The bulk of a version (its items) must be read along the code index, which hands rows
    # over in order: nothing is sorted before the first row goes out. Without statistics SQLite
    # prefers an index that also matches level and valid_from, and then sorts every row; `+ 0`
    # keeps those two terms off the indexes. Classes and types alone still use the level index.
    bulk = max(flt.levels) >= Level.ITEM and flt.parent_id is None and flt.department_id is None
    level = _rev.level + 0 if bulk else _rev.level
    valid_from = _rev.valid_from + 0 if bulk else _rev.valid_from
    conds = [
        _rev.catalog_id == catalog_id,
        valid_from <= seq,  # the bounds of queries.in_version
        or_(_rev.valid_to.is_(None), _rev.valid_to > seq),
        level == flt.levels[0] if len(flt.levels) == 1 else level.in_(flt.levels),
    ]
    if flt.parent_id is not None:
        conds.append(_rev.parent_id == flt.parent_id)
    if flt.department_id is not None:
        conds.append(_rev.department_id == flt.department_id)
    if flt.after is not None:
        conds.append(tuple_(_rev.code, _rev.node_id) > tuple_(*flt.after))
    return conds


def departments(
    session: Session, ids: Sequence[int] = (), *, jurisdiction_id: int | None = None
) -> dict[int, tuple[str, str]]:
    """Return (code, name) by id of the departments `ids`, or of all the jurisdiction's departments."""
    stmt = select(_dept.id, _dept.code, _dept.name)
    if jurisdiction_id is not None:
        stmt = stmt.where(_dept.jurisdiction_id == jurisdiction_id)
    else:
        stmt = stmt.where(_dept.id.in_(ids))
    return {id_: (code, name) for id_, code, name in session.connection().execute(stmt)}
