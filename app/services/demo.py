"""The demo jurisdiction 示范市: departments, users and a catalog with two published versions."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalog.codes import next_child_code
from app.catalog.nodes import Level, NodeState
from app.catalog.tree import build_tree
from app.db import store
from app.db.models import Catalog, Department, Jurisdiction, Version
from app.formats.frameworks import load_framework
from app.services import audit
from app.services.access import DEMO
from app.services.catalogs import authoring as catalogs
from app.services.people import accounts as people
from app.services.search import index as search_index
from app.workflow.states import VersionState


class LoadMode(StrEnum):
    ALWAYS = "always"  # load unless the demo is there already
    IF_EMPTY = "if_empty"  # load only into a database that holds no catalog at all


@dataclass(frozen=True, slots=True)
class DemoResult:
    created: bool
    present: bool  # the demo catalog is in the database after the call
    catalog_slug: str
    items: int
    users: list[dict[str, str]]


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(f)]


def load_demo(session: Session, catalogs_dir: Path, *, mode: LoadMode = LoadMode.ALWAYS) -> DemoResult:
    """Load the demo unless its catalog exists already (idempotent), or as `mode` says; commit once."""
    root = catalogs_dir / "demo"
    manifest: dict[str, Any] = json.loads((root / "demo.json").read_text(encoding="utf-8"))
    spec = manifest["catalog"]
    users = [{k: u[k] for k in ("username", "password", "role")} for u in manifest["users"]]
    existing = session.scalars(select(Catalog).where(Catalog.slug == spec["slug"])).first()
    if existing is not None:
        return DemoResult(created=False, present=True, catalog_slug=spec["slug"], items=0, users=users)
    if mode is LoadMode.IF_EMPTY and session.scalars(select(Catalog.id).limit(1)).first() is not None:
        return DemoResult(created=False, present=False, catalog_slug=spec["slug"], items=0, users=[])

    province = Jurisdiction(
        code=manifest["province"]["code"], name=manifest["province"]["name"], level="province"
    )
    session.add(province)
    session.flush()
    city = Jurisdiction(
        code=manifest["city"]["code"], name=manifest["city"]["name"], level="city", parent_id=province.id
    )
    session.add(city)
    session.flush()
    departments = {row["code"]: row["name"] for row in _csv(root / "departments.csv")}
    session.add_all(Department(jurisdiction_id=city.id, code=c, name=n) for c, n in departments.items())
    session.flush()
    by_name = {name: code for code, name in departments.items()}
    dept_ids = store.department_ids(session, city.id)
    for u in manifest["users"]:
        dept = u.get("department")
        people.add_user(
            session,
            username=u["username"],
            password=u["password"],
            role=u["role"],
            jurisdiction_id=city.id,
            department_id=dept_ids[by_name[dept]] if dept else None,
            display_name=u["display_name"],
        )

    framework = load_framework(catalogs_dir, spec["framework"])
    v1_spec, v2_spec = manifest["versions"]
    catalog, v1 = catalogs.create_catalog(
        session,
        jurisdiction_id=city.id,
        slug=spec["slug"],
        name=spec["name"],
        framework=framework,
        period_days=spec["publication_period_days"],
        first_label=v1_spec["label"],
    )
    base = {s.uid: s for s in catalogs.framework_states(framework, catalog.slug)}
    states_2024 = _items_2024(catalog.slug, base, _csv(root / "items-2024.csv"))
    _check_tree(states_2024)
    catalogs.write_states(session, catalog, 1, states_2024, store.load_version(session, catalog.id, 1))
    _publish(v1, v1_spec)

    v2 = catalogs.open_next_version(session, catalog, v2_spec["label"])
    states_2025 = _apply_changes(catalog.slug, states_2024, _csv(root / "changes-2025.csv"))
    _check_tree(states_2025)
    catalogs.write_states(session, catalog, 2, states_2025, store.load_version(session, catalog.id, 2))
    _publish(v2, v2_spec)
    v1.status = VersionState.SUPERSEDED
    for published in (v2, v1):  # written without the publish service, so indexed here; newest first
        search_index.index_version(session, published)
    items = sum(1 for s in states_2025.values() if s.level >= Level.ITEM)
    audit.record(
        session,
        actor=DEMO,
        action="demo.load",
        object_type="catalog",
        object_id=catalog.slug,
        summary={"versions": 2, "items": items},
    )
    session.commit()
    return DemoResult(created=True, present=True, catalog_slug=catalog.slug, items=items, users=users)


def _publish(version: Version, spec: dict[str, str]) -> None:
    version.status = VersionState.PUBLISHED
    version.doc_number = spec["doc_number"]
    version.issued_on = date.fromisoformat(spec["issued_on"])
    version.publication_deadline = date.fromisoformat(spec["publication_deadline"])
    version.published_at = datetime.fromisoformat(spec["published_at"])


def _type_uids(states: dict[str, NodeState]) -> dict[str, str]:
    return {s.code: s.uid for s in states.values() if s.level is Level.TYPE}


def _next_code(states: dict[str, NodeState], parent: NodeState, level: Level, also: set[str]) -> str:
    taken = {s.code for s in states.values() if s.parent == parent.uid} | also
    return next_child_code(parent.code, level, taken)


def _items_2024(slug: str, base: dict[str, NodeState], rows: list[dict[str, str]]) -> dict[str, NodeState]:
    states = dict(base)
    types = _type_uids(states)
    for n, row in enumerate(rows, start=1):
        uid = catalogs.stable_uid(slug, "item", row["key"])
        if row["parent_key"]:
            parent = states[catalogs.stable_uid(slug, "item", row["parent_key"])]
            level = Level.SUBITEM
        else:
            parent = states[types[row["type"]]]
            level = Level.ITEM
        states[uid] = NodeState(
            uid=uid,
            parent=parent.uid,
            level=level,
            code=_next_code(states, parent, level, set()),
            name=row["name"],
            description=row["description"],
            department=row["department"],
            sort_key=n * 10,
        )
    return states


def _apply_changes(
    slug: str, before: dict[str, NodeState], rows: list[dict[str, str]]
) -> dict[str, NodeState]:
    states = dict(before)
    types = _type_uids(states)
    used = {s.code for s in before.values()}  # a code once given is never given to another node
    next_sort = max(s.sort_key for s in states.values()) + 10
    for row in rows:
        uid = catalogs.stable_uid(slug, "item", row["key"])
        op = row["op"]
        if op == "add":
            parent = states[types[row["type"]]]
            code = _next_code(states, parent, Level.ITEM, used)
            states[uid] = NodeState(
                uid=uid,
                parent=parent.uid,
                level=Level.ITEM,
                code=code,
                name=row["name"],
                description=row["description"],
                department=row["department"],
                sort_key=next_sort,
            )
            next_sort += 10
        elif op == "withdraw":
            del states[uid]
        elif op == "rename":
            states[uid] = replace(states[uid], name=row["name"])
        elif op == "describe":
            states[uid] = replace(states[uid], description=row["description"])
        elif op == "move":
            parent = states[types[row["type"]]]
            code = _next_code(states, parent, Level.ITEM, used)
            states[uid] = replace(states[uid], parent=parent.uid, code=code)
        else:
            raise ValueError(f"unknown change op {op!r} in changes-2025.csv")
        if uid in states:
            used.add(states[uid].code)
    return states


def _check_tree(states: dict[str, NodeState]) -> None:
    _root, problems = build_tree(states.values())
    if problems:
        raise ValueError(f"demo catalog is not a valid tree: {problems[:5]}")
