"""Read queries. Each one is an index lookup bounded by what a page or an API call shows."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, tuple_
from sqlalchemy.orm import Session, aliased

from app.db.models import Catalog, Department, DraftChange, Jurisdiction, Node, NodeRevision, Version
from app.workflow.states import PUBLIC_VERSION_STATES

PUBLIC_STATUSES: tuple[str, ...] = PUBLIC_VERSION_STATES


@dataclass(frozen=True, slots=True)
class NodeRow:
    """One node as it stands in one version, with what pages and the API show of it."""

    node_id: int
    uid: str
    parent_id: int | None
    parent_uid: str | None
    level: int
    code: str
    name: str
    description: str
    department_code: str | None
    department_name: str | None
    sort_key: int
    attrs: dict[str, Any]


def in_version(seq: int) -> ColumnElement[bool]:
    """Return the condition that a revision belongs to version `seq`."""
    r = NodeRevision
    return and_(r.valid_from <= seq, or_(r.valid_to.is_(None), r.valid_to > seq))


_parent = aliased(Node)


def _node_select() -> Select[*tuple[Any, ...]]:
    r = NodeRevision
    stmt: Select[*tuple[Any, ...]] = (
        select(
            r.node_id,
            Node.uid,
            r.parent_id,
            _parent.uid,
            r.level,
            r.code,
            r.name,
            r.description,
            Department.code,
            Department.name,
            r.sort_key,
            r.attrs,
        )
        .join(Node, Node.id == r.node_id)
        .outerjoin(_parent, _parent.id == r.parent_id)
        .outerjoin(Department, Department.id == r.department_id)
    )
    return stmt


def _rows(result: Sequence[Any]) -> list[NodeRow]:
    return [NodeRow(*row) for row in result]


def catalog_by_slug(session: Session, slug: str) -> Catalog | None:
    """Return the catalog called `slug`, or None."""
    return session.scalars(select(Catalog).where(Catalog.slug == slug)).first()


def catalogs_with_jurisdiction(session: Session) -> list[tuple[Catalog, Jurisdiction]]:
    """Return every catalog with its jurisdiction, by jurisdiction code then slug."""
    stmt = (
        select(Catalog, Jurisdiction)
        .join(Jurisdiction, Jurisdiction.id == Catalog.jurisdiction_id)
        .order_by(Jurisdiction.code, Catalog.slug)
    )
    return [(c, j) for c, j in session.execute(stmt)]


def versions(
    session: Session, catalog_id: int, *, statuses: Sequence[str] = PUBLIC_STATUSES
) -> list[Version]:
    """Return the catalog's versions in `statuses`, newest first."""
    stmt = (
        select(Version)
        .where(Version.catalog_id == catalog_id, Version.status.in_(statuses))
        .order_by(Version.seq.desc())
    )
    return list(session.scalars(stmt))


def version(
    session: Session, catalog_id: int, seq: int, *, statuses: Sequence[str] = PUBLIC_STATUSES
) -> Version | None:
    """Return version `seq` of the catalog if its status is one of `statuses`."""
    stmt = select(Version).where(
        Version.catalog_id == catalog_id, Version.seq == seq, Version.status.in_(statuses)
    )
    return session.scalars(stmt).first()


def latest_version(
    session: Session, catalog_id: int, *, statuses: Sequence[str] = PUBLIC_STATUSES
) -> Version | None:
    """Return the newest version of the catalog whose status is one of `statuses`."""
    stmt = (
        select(Version)
        .where(Version.catalog_id == catalog_id, Version.status.in_(statuses))
        .order_by(Version.seq.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def latest_public_by_catalog(session: Session) -> dict[int, Version]:
    """Return each catalog's newest public version, keyed by catalog id."""
    newest = (
        select(Version.catalog_id, func.max(Version.seq).label("seq"))
        .where(Version.status.in_(PUBLIC_STATUSES))
        .group_by(Version.catalog_id)
        .subquery()
    )
    stmt = select(Version).join(
        newest, and_(newest.c.catalog_id == Version.catalog_id, newest.c.seq == Version.seq)
    )
    return {v.catalog_id: v for v in session.scalars(stmt)}


def children(session: Session, catalog_id: int, seq: int, parent_id: int | None) -> list[NodeRow]:
    """Return the children of node `parent_id` (None: the classes) in version `seq`, in order."""
    r = NodeRevision
    # A parent id belongs to one catalog already; naming the catalog too lets SQLite pick the
    # (catalog_id, valid_from) index and read the whole catalog, so only the classes need it.
    where = (
        [r.catalog_id == catalog_id, r.parent_id.is_(None)]
        if parent_id is None
        else [r.parent_id == parent_id]
    )
    stmt = _node_select().where(*where, in_version(seq)).order_by(r.sort_key, r.code)
    return _rows(session.execute(stmt).all())


def level_nodes(session: Session, catalog_id: int, seq: int, level: int) -> list[NodeRow]:
    """Return every node of `level` in version `seq` (used for the small upper levels)."""
    r = NodeRevision
    stmt = (
        _node_select()
        .where(r.catalog_id == catalog_id, r.level == level, in_version(seq))
        .order_by(r.sort_key, r.code)
    )
    return _rows(session.execute(stmt).all())


def child_counts(session: Session, catalog_id: int, seq: int, level: int) -> dict[int, int]:
    """Return the number of nodes of `level` under each parent in version `seq`."""
    r = NodeRevision
    stmt = (
        select(r.parent_id, func.count())
        .where(r.catalog_id == catalog_id, r.level == level, in_version(seq))
        .group_by(r.parent_id)
    )
    return {parent: count for parent, count in session.execute(stmt) if parent is not None}


def node_by_uid(session: Session, catalog_id: int, seq: int, uid: str) -> NodeRow | None:
    """Return the node `uid` as it stands in version `seq`, or None if it is not in it."""
    # Node.catalog_id lets the unique (catalog_id, uid) index find the node (else PostgreSQL scans nodes).
    stmt = _node_select().where(Node.catalog_id == catalog_id, Node.uid == uid, in_version(seq))
    rows = _rows(session.execute(stmt).all())
    return rows[0] if rows else None


def node_by_code(session: Session, catalog_id: int, seq: int, code: str) -> NodeRow | None:
    """Return the node with `code` in version `seq`, or None."""
    r = NodeRevision
    stmt = _node_select().where(r.catalog_id == catalog_id, r.code == code, in_version(seq)).limit(1)
    rows = _rows(session.execute(stmt).all())
    return rows[0] if rows else None


def ancestors(session: Session, catalog_id: int, seq: int, node: NodeRow) -> list[NodeRow]:
    """Return the ancestors of `node` in version `seq`, class first (at most three lookups)."""
    path: list[NodeRow] = []
    parent_uid = node.parent_uid
    while parent_uid is not None:
        parent = node_by_uid(session, catalog_id, seq, parent_uid)
        if parent is None:
            break
        path.append(parent)
        parent_uid = parent.parent_uid
    return path[::-1]


@dataclass(frozen=True, slots=True)
class NodeFilter:
    level: int | None = None
    parent_id: int | None = None
    department_id: int | None = None


def iter_nodes(
    session: Session,
    catalog_id: int,
    seq: int,
    flt: NodeFilter,
    *,
    after: tuple[str, int] | None = None,
    limit: int | None = None,
    batch: int = 2000,
) -> Iterator[NodeRow]:
    """Yield the version's nodes matching `flt` in (code, node id) order, from after the keyset `after`.

    Reads in keyset batches so memory stays flat however large the version is.
    """
    r = NodeRevision
    conds: list[ColumnElement[bool]] = [r.catalog_id == catalog_id, in_version(seq)]
    if flt.level is not None:
        conds.append(r.level == flt.level)
    if flt.parent_id is not None:
        conds.append(r.parent_id == flt.parent_id)
    if flt.department_id is not None:
        conds.append(r.department_id == flt.department_id)
    remaining = limit
    while remaining is None or remaining > 0:
        size = batch if remaining is None else min(batch, remaining)
        stmt = _node_select().where(*conds)
        if after is not None:
            stmt = stmt.where(tuple_(r.code, r.node_id) > tuple_(after[0], after[1]))
        rows = _rows(session.execute(stmt.order_by(r.code, r.node_id).limit(size)).all())
        yield from rows
        if len(rows) < size:
            return
        after = (rows[-1].code, rows[-1].node_id)
        if remaining is not None:
            remaining -= len(rows)


def departments(session: Session, jurisdiction_id: int) -> list[Department]:
    """Return the jurisdiction's active departments by code."""
    stmt = (
        select(Department)
        .where(Department.jurisdiction_id == jurisdiction_id, Department.active)
        .order_by(Department.code)
    )
    return list(session.scalars(stmt))


def department_by_code(session: Session, jurisdiction_id: int, code: str) -> Department | None:
    """Return the department with `code` in the jurisdiction, or None."""
    stmt = select(Department).where(Department.jurisdiction_id == jurisdiction_id, Department.code == code)
    return session.scalars(stmt).first()


def subitems_of(session: Session, catalog_id: int, seq: int, item_ids: Sequence[int]) -> list[NodeRow]:
    """Return the 四级 sub-items of all `item_ids` in version `seq` in one query, in order.

    Sub-items are rare, so (catalog, level 4) narrows to a handful of rows on both databases;
    asked by parent alone, PostgreSQL guessed tens of thousands of rows for 500 ids and hashed
    the whole nodes table.
    """
    if not item_ids:
        return []
    r = NodeRevision
    stmt = (
        _node_select()
        .where(r.catalog_id == catalog_id, r.level == 4, r.parent_id.in_(item_ids), in_version(seq))
        .order_by(r.sort_key, r.code)
    )
    return _rows(session.execute(stmt).all())


def nodes_by_ids(session: Session, catalog_id: int, seq: int, node_ids: Sequence[int]) -> list[NodeRow]:
    """Return the nodes with `node_ids` as they stand in version `seq`."""
    if not node_ids:
        return []
    r = NodeRevision
    stmt = _node_select().where(r.catalog_id == catalog_id, r.node_id.in_(node_ids), in_version(seq))
    return _rows(session.execute(stmt).all())


def draft_change_counts(session: Session, draft_id: int) -> dict[str, int]:
    """Return how many changes of each stored kind (add, update, move, delete) the draft holds."""
    c = DraftChange.__table__.c
    stmt = select(c.kind, func.count()).where(c.draft_id == draft_id).group_by(c.kind)
    return {kind: n for kind, n in session.connection().execute(stmt)}  # noqa: C416


def draft_change_rows(session: Session, draft_id: int, *, after: int | None, limit: int) -> list[Any]:
    """Return up to `limit` of the draft's changes after change id `after`, in change order.

    Each row is (change id, node id, uid, base revision id, proposed fields as JSON). The page's
    ids are chosen first, from the (draft, node) index alone; only those rows are then read
    whole and joined to their nodes, however large the draft.
    """
    changes, nodes = DraftChange.__table__, Node.__table__
    c = changes.c
    ids = select(c.id).where(c.draft_id == draft_id).order_by(c.id).limit(limit)
    if after is not None:
        ids = ids.where(c.id > after)
    page = ids.subquery("page")
    stmt = (
        select(c.id, c.node_id, nodes.c.uid, c.base_revision_id, c.fields)
        .select_from(page.join(changes, c.id == page.c.id).join(nodes, nodes.c.id == c.node_id))
        .order_by(c.id)
    )
    return list(session.connection().execute(stmt).all())
