"""Creating catalogs and writing a version's content as revisions."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalog.frameworks import Framework
from app.catalog.nodes import Level, NodeState
from app.db import store
from app.db.models import Catalog, Version
from app.errors import InvalidInput, InvalidTransition
from app.workflow.states import VersionState

UID_NAMESPACE = uuid.UUID("6f1c2b9e-3d4a-4f0e-9a57-0c1e5b7d2a10")


def new_uid() -> str:
    """Return a fresh node uid (16 hex digits)."""
    return uuid.uuid4().hex[:16]


def stable_uid(*parts: str) -> str:
    """Return a uid derived from `parts`, the same on every machine (demo and benchmark data)."""
    return uuid.uuid5(UID_NAMESPACE, "/".join(parts)).hex[:16]


def framework_states(framework: Framework, catalog_slug: str) -> list[NodeState]:
    """Return the classes and types of `framework` as the first states of a new catalog."""
    states: list[NodeState] = []
    for i, cls in enumerate(framework.classes):
        cls_uid = stable_uid(catalog_slug, "class", cls.code)
        states.append(NodeState(cls_uid, None, Level.CLASS, cls.code, cls.name, sort_key=(i + 1) * 10))
        for j, typ in enumerate(cls.types):
            states.append(
                NodeState(
                    stable_uid(catalog_slug, "type", typ.code),
                    cls_uid,
                    Level.TYPE,
                    typ.code,
                    typ.name,
                    sort_key=(j + 1) * 10,
                )
            )
    return states


def create_catalog(
    session: Session,
    *,
    jurisdiction_id: int,
    slug: str,
    name: str,
    framework: Framework,
    period_days: int = 10,
    first_label: str = "",
) -> tuple[Catalog, Version]:
    """Add a catalog whose first version (assembling) holds the framework's classes and types."""
    if not slug.replace("-", "").isalnum() or not slug.isascii():
        raise InvalidInput(f"目录标识只能由字母、数字和连字符组成：{slug}")
    catalog = Catalog(
        slug=slug,
        name=name,
        jurisdiction_id=jurisdiction_id,
        framework=framework.slug,
        publication_period_days=period_days,
    )
    session.add(catalog)
    session.flush()
    first = Version(
        catalog_id=catalog.id, seq=1, label=first_label or "第1版", status=VersionState.ASSEMBLING
    )
    session.add(first)
    session.flush()
    states = framework_states(framework, slug)
    node_ids = store.create_nodes(session, catalog.id, [s.uid for s in states])
    store.insert_revisions(session, catalog.id, 1, states, node_ids=node_ids, department_ids={})
    return catalog, first


@dataclass(frozen=True, slots=True)
class WriteSummary:
    added: int
    changed: int
    removed: int


def write_states(
    session: Session,
    catalog: Catalog,
    seq: int,
    desired: Mapping[str, NodeState],
    current: Mapping[str, store.StoredNode],
) -> WriteSummary:
    """Make version `seq` (assembling) hold exactly `desired`, given what it holds now (`current`).

    `desired` and `current` may be a part of the version as long as they cover the same nodes.
    """
    target = session.scalars(
        select(Version).where(Version.catalog_id == catalog.id, Version.seq == seq)
    ).one()
    if target.status != VersionState.ASSEMBLING:
        raise InvalidTransition(f"第{seq}版已印发，内容不可再修改")
    departments = store.department_ids(session, catalog.jurisdiction_id)
    unknown = {s.department for s in desired.values() if s.department and s.department not in departments}
    if unknown:
        raise InvalidInput(f"未知的部门编码：{'、'.join(sorted(unknown))}")
    added = [s for uid, s in desired.items() if uid not in current]
    changed = [s for uid, s in desired.items() if uid in current and current[uid].state != s]
    removed = [n for uid, n in current.items() if uid not in desired]
    node_ids = {uid: n.node_id for uid, n in current.items()}
    node_ids.update(store.ensure_nodes(session, catalog.id, [s.uid for s in added]))

    # Revisions are never edited or deleted, only closed: one that started in this assembling
    # version closes at the same seq (an empty interval no version sees), so a draft opened on
    # the assembling version keeps the base state it remembers.
    replaced = [current[s.uid] for s in changed] + removed
    store.close_revisions(session, [n.revision_id for n in replaced], seq)
    store.insert_revisions(
        session, catalog.id, seq, [*added, *changed], node_ids=node_ids, department_ids=departments
    )
    return WriteSummary(added=len(added), changed=len(changed), removed=len(removed))


def open_next_version(session: Session, catalog: Catalog, label: str) -> Version:
    """Add the next version (assembling) of `catalog`; it starts as a copy of the latest by construction."""
    latest = session.scalars(
        select(Version).where(Version.catalog_id == catalog.id).order_by(Version.seq.desc()).limit(1)
    ).first()
    if latest is not None and latest.status == VersionState.ASSEMBLING:
        raise InvalidInput(f"第{latest.seq}版仍在编制中，不能再新建版本")
    version = Version(catalog_id=catalog.id, seq=1 if latest is None else latest.seq + 1, label=label)
    session.add(version)
    session.flush()
    return version
