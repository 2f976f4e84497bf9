"""The versioning benchmark's data: a second version of the 650k catalog, and a city catalog with two.

On a fresh copy (copies.py) of the one-catalog dataset, version 2 is a draft of 6,500 changes
(1 % of 650,161 nodes) merged by merge_draft and published; the province dataset's capital is
written beside it as generate.py writes it, with a version 2 of 100 changes. Change sets come
from changesets.py, seeded, so every database gets the same ones.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import changesets
import copies
import dataset
import generate
import one_catalog
from changesets import Mix
from sqlalchemy import select, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app.catalog.nodes import Level, NodeState
from app.config import Settings
from app.db import store
from app.db.engine import make_engine, make_sessionmaker
from app.db.models import Catalog, Department, Jurisdiction, Node, NodeRevision, Version
from app.db.queries import in_version
from app.formats.frameworks import load_framework
from app.services.access import CLI as SYSTEM
from app.services.catalogs import browse
from app.services.drafts import changes as draft_changes
from app.services.drafts import lifecycle as drafts
from app.services.merging import merge as merging

SEED = dataset.SEED
V2_MIX = Mix(edits=2_000, adds=1_500, moves=1_500, removals=1_500)  # 6,500 nodes: 1 %
CITY_MIX = Mix(edits=40, adds=20, moves=20, removals=20)
MERGE_MIX = Mix(edits=400, adds=200, moves=200, removals=200)
SMALL_MIX = Mix(edits=4, adds=2, moves=2, removals=2)
# disjoint slices of the shuffled 三级 items, so no change set touches another's nodes
V2_ITEMS, MERGE_ITEMS, OPEN_ITEMS, SMALL_ITEMS = (
    slice(0, 1000),
    slice(1000, 1200),
    slice(1200, 1400),
    slice(1400, 1402),
)


def build(source: str) -> tuple[str, dict[str, Any]]:
    """Return a fresh copy of `source` with version 2 and the city catalog, and what building took."""
    work = copies.copy_url(source, "versioning")
    copies.make_copy(source, work)
    engine = make_engine(work)
    try:
        with make_sessionmaker(engine)() as session:
            one = browse.catalog(session, one_catalog.SLUG)
            items = item_sample(session, one.id, 1)[V2_ITEMS]
            v2 = second_version(session, one, subtree(session, one.id, 1, items), Level.SUBITEM, V2_MIX)
            city = _city_catalog(session)
            city_v2 = second_version(session, city, _states(session, city.id, 1), Level.ITEM, CITY_MIX)
    finally:
        engine.dispose()
    if make_url(work).get_backend_name() == "postgresql":  # as copies.make_copy does: autovacuum is off
        copies.analyze(work)
    return work, {"merge_6500_seconds": round(v2, 3), "city_merge_100_seconds": round(city_v2, 3)}


def item_sample(session: Session, catalog_id: int, seq: int) -> list[str]:
    """Return the uids of version `seq`'s 三级 items in a fixed random order (the same on every database)."""
    r = NodeRevision
    stmt = (
        select(Node.uid)
        .join(r, r.node_id == Node.id)
        .where(r.catalog_id == catalog_id, r.level == int(Level.ITEM), in_version(seq))
        .order_by(Node.uid)
    )
    uids = list(session.scalars(stmt))
    random.Random(SEED).shuffle(uids)
    return uids


def subtree(session: Session, catalog_id: int, seq: int, items: Sequence[str]) -> dict[str, NodeState]:
    """Return the states of `items` and all their children in version `seq`."""
    found = store.load_nodes(session, catalog_id, seq, uids=items, parent_uids=items)
    return {uid: node.state for uid, node in found.items()}


def _states(session: Session, catalog_id: int, seq: int) -> dict[str, NodeState]:
    return {uid: node.state for uid, node in store.load_version(session, catalog_id, seq).items()}


def second_version(
    session: Session, catalog: Catalog, states: dict[str, NodeState], level: Level, mix: Mix
) -> float:
    """Merge a draft of `mix` changes among `states` as version 2, publish it; return the merge's seconds."""
    changes = plan(catalog.slug, states, level, mix)
    draft_id = approved_draft(session, catalog, changes, f"基准第2版：{mix.total} 处变动")
    started = time.perf_counter()
    outcome = merging.merge_draft(session, draft_id, actor=SYSTEM, label="第2版")
    seconds = time.perf_counter() - started
    if not outcome.merged:
        raise RuntimeError(f"{catalog.slug}: the merge found {len(outcome.conflicts)} conflicts")
    version = outcome.version
    version.status, version.doc_number = "published", f"基准财购〔2026〕{version.seq}号"
    version.issued_on, version.published_at = date(2026, 9, 1), datetime(2026, 9, 8, 1, 30, tzinfo=UTC)
    session.execute(  # what publishing does to the older versions, without indexing them for search
        update(Version)
        .where(Version.catalog_id == catalog.id, Version.seq < version.seq, Version.status == "published")
        .values(status="superseded")
    )
    session.commit()
    return seconds


def plan(tag: str, states: dict[str, NodeState], level: Level, mix: Mix) -> dict[str, NodeState | None]:
    """Return the change set `tag` of `mix` among `states` (the same for the same tag, anywhere)."""
    departments = sorted({s.department for s in states.values() if s.department})
    rng = random.Random(f"{SEED}/{tag}/{mix}")
    return changesets.plan(rng, states, level=level, mix=mix, tag=tag, departments=departments)


def approved_draft(
    session: Session,
    catalog: Catalog,
    changes: dict[str, NodeState | None],
    title: str,
    *,
    approve: bool = True,
) -> int:
    """Write `changes` as a new draft on the catalog's newest version, approved as tests do; return its id."""
    draft, base_version = drafts.new_draft(session, catalog, actor=SYSTEM, department_id=None, title=title)
    base = store.load_nodes(session, catalog.id, base_version.seq, uids=list(changes))
    draft_changes.write_changes(session, draft, changes, base)
    if approve:  # the review workflow is not what is measured
        draft.status = "approved"
    session.commit()
    return draft.id


def _city_catalog(session: Session) -> Catalog:
    """Write the province dataset's capital (jurisdiction, departments, catalog) as generate.py does."""
    place = dataset.province(dataset.ITEMS_AT_FULL_SCALE)[1]
    row = Jurisdiction(code=place.code, name=place.name, level=place.level)
    session.add(row)
    session.flush()
    session.add_all(Department(jurisdiction_id=row.id, code=c, name=n) for c, n in dataset.departments(place))
    session.flush()
    framework = load_framework(Settings().catalogs_dir, generate.FRAMEWORK)
    generate._write_catalog(session, framework, place, row.id, capital=True)
    session.commit()
    return browse.catalog(session, place.slug)
