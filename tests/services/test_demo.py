"""The demo 示范市 catalog: big enough and real enough to work with, loaded idempotently."""

from __future__ import annotations

import re
from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.catalog.codes import fits_parent
from app.catalog.nodes import Level, NodeState
from app.catalog.tree import build_tree
from app.db import store
from app.db.models import AuditEvent, Catalog, Department, NodeRevision, User, Version
from app.services.demo import LoadMode, load_demo
from tests.factories import CATALOGS


def _versions(session: Session) -> tuple[dict[str, NodeState], dict[str, NodeState]]:
    catalog = session.scalars(select(Catalog).where(Catalog.slug == "shifanshi")).one()
    v1 = {u: n.state for u, n in store.load_version(session, catalog.id, 1).items()}
    v2 = {u: n.state for u, n in store.load_version(session, catalog.id, 2).items()}
    return v1, v2


def test_demo_has_real_departments_and_two_published_versions(demo_session: Session) -> None:
    names = set(demo_session.scalars(select(Department.name)))
    assert len(names) >= 40
    assert {"教育局", "民政局", "人力资源和社会保障局", "卫生健康委员会", "司法局", "统计局"} <= names
    versions = demo_session.scalars(select(Version).order_by(Version.seq)).all()
    assert [(v.label, v.status) for v in versions] == [("2024年版", "superseded"), ("2025年版", "published")]
    assert all(v.doc_number and v.issued_on and v.published_at for v in versions)
    roles = set(demo_session.scalars(select(User.role)))
    assert roles == {"dept_editor", "finance_reviewer", "finance_admin", "sysadmin"}


def test_demo_items_are_many_valid_and_real(demo_session: Session) -> None:
    for version in _versions(demo_session):
        items = [s for s in version.values() if s.level is Level.ITEM]
        assert len(items) >= 1500
        _root, problems = build_tree(version.values())
        assert problems == []
        assert all(s.department for s in items)
        assert all(s.description and 10 <= len(s.description) <= 200 for s in items)
        placeholder = re.compile(r"项目\s*\d|服务[A-Z]$|^测试|测试项目|示例|占位|待定|XXX", re.IGNORECASE)
        assert [s.name for s in items if placeholder.search(s.name)] == []
        per_type_dept = Counter((s.parent, s.department, s.name) for s in items)
        assert [k for k, n in per_type_dept.items() if n > 1] == []
        per_dept = Counter(s.department for s in items)
        assert min(per_dept.values()) >= 8
        assert all(fits_parent(s.code, version[s.parent].code, s.level) for s in items if s.parent)
        assert any(s.level is Level.SUBITEM for s in version.values())


def test_2024_and_2025_differ_in_more_than_100_ways_of_every_kind(demo_session: Session) -> None:
    v1, v2 = _versions(demo_session)
    added = v2.keys() - v1.keys()
    withdrawn = v1.keys() - v2.keys()
    both = v1.keys() & v2.keys()
    renamed = {u for u in both if v1[u].name != v2[u].name}
    moved = {u for u in both if v1[u].parent != v2[u].parent}
    described = {u for u in both if v1[u].description != v2[u].description}
    assert (len(added), len(withdrawn), len(renamed), len(moved), len(described)) >= (40, 15, 15, 10, 20)
    assert all(len(s) >= 10 for s in (added, withdrawn, renamed, moved, described))
    assert len(added | withdrawn | renamed | moved | described) >= 100
    # storage agrees: the revisions that start or end at version 2 are exactly these nodes
    changed_revisions = demo_session.scalar(
        select(func.count()).select_from(NodeRevision).where(NodeRevision.valid_from == 2)
    )
    assert changed_revisions == len(added) + len({u for u in both if v1[u] != v2[u]})


def test_demo_load_is_idempotent(session: Session) -> None:
    first = load_demo(session, CATALOGS)
    counts = {
        m.__name__: session.scalar(select(func.count()).select_from(m))
        for m in (Department, NodeRevision, User)
    }
    second = load_demo(session, CATALOGS)
    again = {
        m.__name__: session.scalar(select(func.count()).select_from(m))
        for m in (Department, NodeRevision, User)
    }
    assert (first.created, second.created) == (True, False)
    assert counts == again
    assert (
        session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "demo.load"))
        == 1
    )


def test_if_empty_leaves_a_database_with_other_catalogs_alone(session: Session) -> None:
    from tests.factories import ELDERLY, published_catalog

    published_catalog(session, ELDERLY)
    result = load_demo(session, CATALOGS, mode=LoadMode.IF_EMPTY)
    assert (result.created, result.present) == (False, False)
    assert session.scalars(select(Catalog.slug)).all() == ["ceshi"]
