"""The statistics' queries: SQL aggregates over one version's live revisions, never rows.

A version's counts are one GROUP BY over its 三级 items; the changes between two versions
count only the revisions that start or end between them (the diff's own bound), so a
province's 650,000 items are counted in the database and never loaded.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Subquery, and_, case, func, or_, select
from sqlalchemy.orm import Session

from app.db.models import NodeRevision

_rev = NodeRevision.__table__.c


def _live(catalog_id: int, seq: int) -> list[ColumnElement[bool]]:
    return [
        _rev.catalog_id == catalog_id,
        _rev.valid_from <= seq,
        or_(_rev.valid_to.is_(None), _rev.valid_to > seq),
    ]


def _in(seq: int) -> ColumnElement[bool]:
    return and_(_rev.valid_from <= seq, or_(_rev.valid_to.is_(None), _rev.valid_to > seq))


def counts_by_parent_and_department(
    session: Session, catalog_id: int, seq: int, level: int
) -> list[tuple[int | None, int | None, int]]:
    """Return (parent node id, department id, count) for the nodes of `level` in version `seq`."""
    stmt = (
        select(_rev.parent_id, _rev.department_id, func.count())
        .where(*_live(catalog_id, seq), _rev.level == level)
        .group_by(_rev.parent_id, _rev.department_id)
    )
    return [(parent, dept, int(n)) for parent, dept, n in session.connection().execute(stmt)]


def level_count(session: Session, catalog_id: int, seq: int, level: int) -> int:
    """Return the number of nodes of `level` in version `seq`."""
    stmt = select(func.count()).where(*_live(catalog_id, seq), _rev.level == level)
    return int(session.connection().execute(stmt).scalar_one())


def _presence(catalog_id: int, a: int, b: int, level: int) -> Subquery:
    """Return a subquery (node_id, in_a, in_b) over the nodes of `level` touched in (a, b]."""
    touched = or_(
        and_(_rev.valid_from > a, _rev.valid_from <= b),
        and_(_rev.valid_to > a, _rev.valid_to <= b),
    )
    return (
        select(
            _rev.node_id,
            func.max(case((_in(a), 1), else_=0)).label("in_a"),
            func.max(case((_in(b), 1), else_=0)).label("in_b"),
        )
        .where(_rev.catalog_id == catalog_id, _rev.level == level, touched)
        .group_by(_rev.node_id)
        .subquery()
    )


def change_counts(session: Session, catalog_id: int, a: int, b: int, level: int) -> tuple[int, int, int]:
    """Return (added, withdrawn, changed) nodes of `level` from version `a` to `b` (a < b; a = 0: none)."""
    p = _presence(catalog_id, a, b, level)
    stmt = select(
        func.coalesce(func.sum(case((and_(p.c.in_a == 0, p.c.in_b == 1), 1), else_=0)), 0),
        func.coalesce(func.sum(case((and_(p.c.in_a == 1, p.c.in_b == 0), 1), else_=0)), 0),
        func.coalesce(func.sum(case((and_(p.c.in_a == 1, p.c.in_b == 1), 1), else_=0)), 0),
    )
    added, withdrawn, changed = session.connection().execute(stmt).one()
    return int(added), int(withdrawn), int(changed)


def added_node_ids(session: Session, catalog_id: int, a: int, b: int, level: int) -> list[int]:
    """Return the ids of the nodes of `level` in version `b` that were not in version `a`."""
    p = _presence(catalog_id, a, b, level)
    stmt = select(p.c.node_id).where(p.c.in_a == 0, p.c.in_b == 1).order_by(p.c.node_id)
    return list(session.connection().execute(stmt).scalars())


def withdrawn_node_ids(session: Session, catalog_id: int, a: int, b: int, level: int) -> list[int]:
    """Return the ids of the nodes of `level` in version `a` that are no longer in version `b`."""
    p = _presence(catalog_id, a, b, level)
    stmt = select(p.c.node_id).where(p.c.in_a == 1, p.c.in_b == 0).order_by(p.c.node_id)
    return list(session.connection().execute(stmt).scalars())


def chunks(ids: Sequence[int], size: int = 5000) -> list[Sequence[int]]:
    """Return `ids` cut into slices of at most `size` (a bound on bound parameters per query)."""
    return [ids[i : i + size] for i in range(0, len(ids), size)]
