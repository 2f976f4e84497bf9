"""Writing nodes and revisions in bulk (Core executemany: 2.2× the sqlite3 CLI where the ORM is 13×)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, Text, and_, cast, insert, or_, select, update
from sqlalchemy.orm import Session

from app.catalog.nodes import Level, NodeState
from app.db.models import Department, Node, NodeRevision
from app.db.queries import in_version

CHUNK = 5000


@dataclass(frozen=True, slots=True)
class StoredNode:
    """A node's state in a version with the storage ids that address it."""

    node_id: int
    revision_id: int
    valid_from: int
    state: NodeState


def create_nodes(session: Session, catalog_id: int, uids: Sequence[str]) -> dict[str, int]:
    """Insert a Node for each uid and return their ids by uid."""
    ids: dict[str, int] = {}
    for start in range(0, len(uids), CHUNK):
        chunk = uids[start : start + CHUNK]
        stmt = insert(Node).returning(Node.id, Node.uid, sort_by_parameter_order=True)
        for node_id, uid in session.execute(stmt, [{"catalog_id": catalog_id, "uid": u} for u in chunk]):
            ids[uid] = node_id
    return ids


def node_ids(session: Session, catalog_id: int, uids: Sequence[str]) -> dict[str, int]:
    """Return the ids of the existing nodes among `uids`."""
    found: dict[str, int] = {}
    for start in range(0, len(uids), CHUNK):
        stmt = select(Node.uid, Node.id).where(
            Node.catalog_id == catalog_id, Node.uid.in_(uids[start : start + CHUNK])
        )
        found.update({uid: id_ for uid, id_ in session.execute(stmt)})  # noqa: C416
    return found


def ensure_nodes(session: Session, catalog_id: int, uids: Sequence[str]) -> dict[str, int]:
    """Return the node ids of `uids`, creating the nodes that do not exist yet."""
    found = node_ids(session, catalog_id, uids)
    found.update(create_nodes(session, catalog_id, [u for u in uids if u not in found]))
    return found


def insert_revisions(
    session: Session,
    catalog_id: int,
    seq: int,
    states: Iterable[NodeState],
    *,
    node_ids: Mapping[str, int],
    department_ids: Mapping[str, int],
) -> int:
    """Insert one revision valid from version `seq` for each state; return how many were written."""
    written = 0
    rows: list[dict[str, object]] = []
    for s in states:
        rows.append(
            {
                "catalog_id": catalog_id,
                "node_id": node_ids[s.uid],
                "parent_id": None if s.parent is None else node_ids[s.parent],
                "level": int(s.level),
                "code": s.code,
                "name": s.name,
                "description": s.description,
                "department_id": None if s.department is None else department_ids[s.department],
                "sort_key": s.sort_key,
                "attrs": s.attrs,
                "valid_from": seq,
                "valid_to": None,
            }
        )
        if len(rows) >= CHUNK:
            session.execute(insert(NodeRevision), rows)
            written += len(rows)
            rows = []
    if rows:
        session.execute(insert(NodeRevision), rows)
        written += len(rows)
    return written


def close_revisions(session: Session, revision_ids: Sequence[int], seq: int) -> None:
    """End the given revisions before version `seq` (they stay valid in every earlier version)."""
    for start in range(0, len(revision_ids), CHUNK):
        chunk = revision_ids[start : start + CHUNK]
        session.execute(update(NodeRevision).where(NodeRevision.id.in_(chunk)).values(valid_to=seq))


def department_ids(session: Session, jurisdiction_id: int) -> dict[str, int]:
    """Return the jurisdiction's department ids by code."""
    stmt = select(Department.code, Department.id).where(Department.jurisdiction_id == jurisdiction_id)
    return {code: id_ for code, id_ in session.execute(stmt)}  # noqa: C416 (rows are not pairs to dict())


def load_version(session: Session, catalog_id: int, seq: int) -> dict[str, StoredNode]:
    """Return every node of version `seq` by uid. For bounded catalogs (a city), never a province."""
    return _load(session, catalog_id, seq, None, whole_catalog=True)


def load_nodes(
    session: Session, catalog_id: int, seq: int, *, uids: Iterable[str] = (), parent_uids: Iterable[str] = ()
) -> dict[str, StoredNode]:
    """Return the nodes of version `seq` with the given uids, and the children of the given parents."""
    found: dict[str, StoredNode] = {}
    # Each uid condition names its node's catalog too, so the unique (catalog_id, uid) index is used.
    by_node = (Node.uid, Node.catalog_id, sorted(set(uids)))
    by_parent = (_PARENT.c.uid, _PARENT.c.catalog_id, sorted(set(parent_uids)))
    for column, catalog_column, values in (by_node, by_parent):
        for start in range(0, len(values), CHUNK // 5):
            chunk = values[start : start + CHUNK // 5]
            found.update(
                _load(session, catalog_id, seq, and_(catalog_column == catalog_id, column.in_(chunk)))
            )
    return found


def load_codes(session: Session, catalog_id: int, seq: int, codes: Iterable[str]) -> dict[str, StoredNode]:
    """Return the nodes of version `seq` that carry any of `codes` (to find code collisions)."""
    values = sorted(set(codes))
    found: dict[str, StoredNode] = {}
    for start in range(0, len(values), CHUNK // 5):
        found.update(
            _load(
                session,
                catalog_id,
                seq,
                NodeRevision.code.in_(values[start : start + CHUNK // 5]),
                by_code=True,
            )
        )
    return found


_PARENT = Node.__table__.alias("parent_node")


def revision_select() -> Select[*tuple[Any, ...]]:
    """Return a select of revisions: (id, node id, valid_from, valid_to, then the node-state columns)."""
    r = NodeRevision
    stmt: Select[*tuple[Any, ...]] = (
        select(
            r.id,
            r.node_id,
            r.valid_from,
            r.valid_to,
            Node.uid,
            _PARENT.c.uid,
            r.level,
            r.code,
            r.name,
            r.description,
            Department.code,
            r.sort_key,
            r.attrs,
        )
        .join(Node, Node.id == r.node_id)
        .outerjoin(_PARENT, _PARENT.c.id == r.parent_id)
        .outerjoin(Department, Department.id == r.department_id)
    )
    return stmt


def state_of(row: Sequence[Any]) -> NodeState:
    """Return the node state in a row of `revision_select`."""
    uid, parent, level, code, name, description, department, sort_key, attrs = row[4:]
    return NodeState(uid, parent, Level(level), code, name, description, department, sort_key, attrs or {})


def _load(
    session: Session,
    catalog_id: int,
    seq: int,
    where: ColumnElement[bool] | None,
    *,
    whole_catalog: bool = False,
    by_code: bool = False,
) -> dict[str, StoredNode]:
    r = NodeRevision
    # Only a whole-version read should walk a catalog index. For lookups by node, uid, parent
    # or code the catalog stays a guard (+ 0), else SQLite picks (catalog_id, valid_from) and
    # reads the whole catalog once per chunk of ids (7 s for a 650k-node diff).
    # By code, (catalog_id, code) is the index to use: then valid_from is the guard instead.
    in_catalog = r.catalog_id == catalog_id if whole_catalog or by_code else (r.catalog_id + 0) == catalog_id
    valid = (
        and_((r.valid_from + 0) <= seq, or_(r.valid_to.is_(None), r.valid_to > seq))
        if by_code
        else in_version(seq)
    )
    stmt = revision_select().where(in_catalog, valid)
    if where is not None:
        stmt = stmt.where(where)
    out: dict[str, StoredNode] = {}
    for row in session.execute(stmt):
        state = state_of(row)
        out[state.uid] = StoredNode(node_id=row[1], revision_id=row[0], valid_from=row[2], state=state)
    return out


def node_revisions(session: Session, catalog_id: int, uid: str) -> list[tuple[int, int | None, NodeState]]:
    """Return every revision of node `uid` as (valid_from, valid_to, state), oldest first."""
    stmt = (
        revision_select()
        .where(Node.catalog_id == catalog_id, Node.uid == uid)
        .order_by(NodeRevision.valid_from, NodeRevision.id)
    )
    return [(row[2], row[3], state_of(row)) for row in session.execute(stmt)]


# --- the states two versions differ in, read lean ------------------------------------------------
# Per row, this is what a 650k-node diff spends its time on, so: Core rows through the session's
# connection (no ORM row processing), attrs as text decoded only when not empty, levels by table
# lookup. Only the node's own uid is looked up in SQL, as a scalar subquery (one primary-key
# probe per row): as a join, PostgreSQL would hash `nodes` after reading all of it (≈100 ms at
# 650k nodes). Parents are among the rows read (the ancestors are loaded anyway) and the few
# departments are read apart, which also keeps the plan's estimated cost under PostgreSQL's
# JIT threshold.

_REV = NodeRevision.__table__
_LEVELS = {int(level): level for level in Level}


def _lean_select() -> Select[*tuple[Any, ...]]:
    r, nodes = _REV.c, Node.__table__.c
    uid = select(nodes.uid).where(nodes.id == r.node_id).scalar_subquery()
    stmt: Select[*tuple[Any, ...]] = select(
        r.node_id,
        r.parent_id,
        uid,
        r.level,
        r.code,
        r.name,
        r.description,
        r.department_id,
        r.sort_key,
        cast(r.attrs, Text),
    ).select_from(_REV)
    return stmt


def states_between(
    session: Session, catalog_id: int, a: int, b: int
) -> tuple[dict[str, NodeState], dict[str, NodeState]]:
    """Return the states in versions `a` and `b` of the nodes that can differ, with their ancestors.

    The nodes that can differ are those with a revision starting or ending in (low, high]: their
    state in `low` is the revision ending there, in `high` the one starting there, so two range
    scans read both sides. Untouched ancestors are the same in both versions: read in `high`,
    one query per level, and put in both maps (the same objects).
    """
    low, high = min(a, b), max(a, b)
    r = _REV.c
    starting = and_(r.valid_from > low, r.valid_from <= high, or_(r.valid_to.is_(None), r.valid_to > high))
    ending = and_(r.valid_to > low, r.valid_to <= high, r.valid_from <= low)
    connection = session.connection()
    high_rows = connection.execute(_lean_select().where(r.catalog_id == catalog_id, starting)).all()
    low_rows = connection.execute(_lean_select().where(r.catalog_id == catalog_id, ending)).all()
    uids = {row[0]: row[2] for rows in (high_rows, low_rows) for row in rows}
    ancestors = _ancestor_rows(session, catalog_id, high, [*high_rows, *low_rows], uids)
    states = _state_maker(session, uids, [*high_rows, *low_rows, *ancestors])
    low_states = {row[2]: states(row) for row in low_rows}
    high_states = {row[2]: states(row) for row in high_rows}
    for row in ancestors:
        state = states(row)
        low_states[state.uid] = high_states[state.uid] = state
    return (low_states, high_states) if a <= b else (high_states, low_states)


def _ancestor_rows(
    session: Session, catalog_id: int, seq: int, rows: Sequence[Any], uids: dict[int, str]
) -> list[Any]:
    """Return the rows in version `seq` of the ancestors of `rows` missing from `uids`, adding their uids.

    Level by level, by node id (a recursive query would let both planners read the whole catalog).
    """
    r = _REV.c
    found: list[Any] = []
    tried = set(uids)
    missing = {row[1] for row in rows if row[1] is not None} - tried
    while missing:
        tried |= missing
        ids = sorted(missing)
        level: list[Any] = []
        for start in range(0, len(ids), CHUNK // 5):
            stmt = _lean_select().where(
                (r.catalog_id + 0) == catalog_id,
                r.node_id.in_(ids[start : start + CHUNK // 5]),
                r.valid_from <= seq,
                or_(r.valid_to.is_(None), r.valid_to > seq),
            )
            level.extend(session.connection().execute(stmt).all())
        uids.update((row[0], row[2]) for row in level)
        found.extend(level)
        missing = {row[1] for row in level if row[1] is not None} - tried
    return found


def _state_maker(
    session: Session, uids: dict[int, str], rows: Sequence[Any]
) -> Callable[[Sequence[Any]], NodeState]:
    """Return a function turning a lean row into a NodeState, knowing each parent's uid and department."""
    parents = {row[1] for row in rows if row[1] is not None and row[1] not in uids}
    if parents:  # a parent absent from the version read: only a broken catalog has one
        nodes = Node.__table__.c
        stmt = select(nodes.id, nodes.uid).where(nodes.id.in_(sorted(parents)))
        uids.update({id_: uid for id_, uid in session.connection().execute(stmt)})  # noqa: C416
    departments: dict[int | None, str | None] = {None: None}
    ids = sorted({row[7] for row in rows if row[7] is not None})
    if ids:
        table = Department.__table__.c
        stmt = select(table.id, table.code).where(table.id.in_(ids))
        departments.update({id_: code for id_, code in session.connection().execute(stmt)})  # noqa: C416
    parent_uids: dict[int | None, str | None] = dict(uids.items())
    parent_uids[None] = None
    levels, loads = _LEVELS, json.loads

    def state(row: Sequence[Any]) -> NodeState:
        _, parent_id, uid, level, code, name, description, department_id, sort_key, attrs = row
        return NodeState(
            uid,
            parent_uids[parent_id],
            levels[level],
            code,
            name,
            description,
            departments[department_id],
            sort_key,
            {} if attrs is None or attrs == "{}" else loads(attrs) or {},
        )

    return state
