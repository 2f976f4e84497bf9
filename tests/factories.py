"""Readable, deterministic test data built through the project's own services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalog.codes import next_child_code
from app.catalog.nodes import Level, NodeState
from app.db import store
from app.db.models import Catalog, Department, Jurisdiction, User, Version
from app.formats.frameworks import load_framework
from app.services.access import System
from app.services.catalogs import authoring as catalogs
from tests.paths import CATALOGS

DEPARTMENTS = {"101": "民政局", "102": "教育局", "103": "司法局"}


@dataclass(frozen=True, slots=True)
class Item:
    key: str
    type_code: str
    name: str
    department: str = "101"
    description: str = ""
    parent_key: str | None = None


@dataclass
class Built:
    catalog: Catalog
    versions: list[Version]
    states: dict[str, NodeState]

    def uid(self, key: str) -> str:
        """Return the uid of the item created from `key`."""
        return catalogs.stable_uid(self.catalog.slug, "item", key)

    def type_uid(self, code: str) -> str:
        """Return the uid of the framework type with `code`."""
        return catalogs.stable_uid(self.catalog.slug, "type", code)


SYSTEM = System("test")  # the tests acting as the system does (an operator, the scheduler)


def jurisdiction(session: Session, code: str = "990100", name: str = "测试市") -> Jurisdiction:
    j = Jurisdiction(code=code, name=name, level="city")
    session.add(j)
    session.flush()
    session.add_all(Department(jurisdiction_id=j.id, code=c, name=n) for c, n in DEPARTMENTS.items())
    session.flush()
    return j


def item_states(slug: str, states: dict[str, NodeState], items: list[Item]) -> dict[str, NodeState]:
    """Return `states` with `items` added under their types (or parent items), coded in order."""
    out = dict(states)
    for n, it in enumerate(items, start=1):
        if it.parent_key:
            parent = out[catalogs.stable_uid(slug, "item", it.parent_key)]
            level = Level.SUBITEM
        else:
            parent = out[catalogs.stable_uid(slug, "type", it.type_code)]
            level = Level.ITEM
        taken = [s.code for s in out.values() if s.parent == parent.uid]
        uid = catalogs.stable_uid(slug, "item", it.key)
        out[uid] = NodeState(
            uid,
            parent.uid,
            level,
            next_child_code(parent.code, level, taken),
            it.name,
            description=it.description,
            department=it.department,
            sort_key=n * 10,
        )
    return out


def published_catalog(
    session: Session,
    items: list[Item],
    *,
    slug: str = "ceshi",
    name: str = "测试市政府购买服务指导性目录",
    later: list[Item] | None = None,
    status: str = "published",
) -> Built:
    """Create a catalog whose version 1 holds `items` and is published.

    With `later`, a version 2 adds those items on top and gets `status` (version 1 is then superseded
    if version 2 is public).
    """
    j = jurisdiction(session)
    framework = load_framework(CATALOGS, "six_class")
    catalog, v1 = catalogs.create_catalog(
        session, jurisdiction_id=j.id, slug=slug, name=name, framework=framework, first_label="2024年版"
    )
    base = {s.uid: s for s in catalogs.framework_states(framework, slug)}
    states = item_states(slug, base, items)
    catalogs.write_states(session, catalog, 1, states, store.load_version(session, catalog.id, 1))
    _publish(v1, date(2024, 3, 15))
    versions = [v1]
    if later is not None:
        v2 = catalogs.open_next_version(session, catalog, "2025年版")
        states = item_states(slug, states, later)
        catalogs.write_states(session, catalog, 2, states, store.load_version(session, catalog.id, 2))
        if status in ("published", "superseded"):
            _publish(v2, date(2025, 3, 14))
            v1.status = "superseded"
        else:
            v2.status = status
        versions.append(v2)
    session.commit()
    return Built(catalog, versions, states)


def _publish(v: Version, issued: date) -> None:
    v.status = "published"
    v.doc_number = f"测财购〔{issued.year}〕1号"
    v.issued_on = issued
    v.published_at = datetime.combine(issued + timedelta(days=5), time(2, 0), tzinfo=UTC)


ELDERLY = [
    Item("i1", "A06", "社区居家养老服务", "101", "为辖区居家老年人提供助餐、助洁、助浴等上门服务。"),
    Item("i2", "A06", "养老机构服务质量评估", "101", "对全市养老机构开展服务质量第三方评估。"),
    Item("i3", "A01", "义务教育阶段课后服务", "102", "为义务教育阶段学生提供课后托管与兴趣活动。"),
    Item("i4", "E01", "政府法律顾问服务", "103", "为政府重大决策和合同审查提供法律意见。"),
    Item("i5", "A06", "助餐服务", "101", "为老年人提供集中用餐和送餐服务。", parent_key="i1"),
]


def issuer(session: Session, slug: str = "ceshi") -> User:
    """Return the finance administrator of catalog `slug`'s jurisdiction, who issues (made on first use)."""
    from app.services.people import accounts

    catalog = session.scalars(select(Catalog).where(Catalog.slug == slug)).one()
    name = f"{slug}-issuer"
    found = session.scalars(select(User).where(User.username == name)).first()
    if found is None:
        found = accounts.add_user(
            session, username=name, password="issuer-password", role="finance_admin",
            jurisdiction_id=catalog.jurisdiction_id,
        )  # fmt: skip
    return found
