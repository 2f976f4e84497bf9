"""Write one catalog of ≈650,000 items: the export benchmark's "whatever the size" case.

    .venv/bin/python bench/one_catalog.py [--database-url sqlite:///var/bench-one.db] [--force]

The province dataset (generate.py) spreads 650,000 items over 100 catalogs, so no single
export there is larger than 17,000 rows. This one puts them all in one catalog: under each
of the framework's types 985 三级 items, each with ten 四级 sub-items (650,100 rows), so a
single export streams them all and exercises the sub-item ancestry at scale. Written
through the project's storage (create_catalog, app.db.store), one type per flush.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Iterator

import benchdb
import dataset
from generate import ISSUED_ON, PUBLISHED_AT
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalog.codes import child_code
from app.catalog.frameworks import Framework
from app.catalog.nodes import Level, NodeState
from app.config import Settings
from app.db import store
from app.db.engine import make_engine, make_sessionmaker
from app.db.migrate import upgrade
from app.db.models import Catalog, Department, Jurisdiction
from app.formats.frameworks import load_framework
from app.services.catalogs.authoring import create_catalog, stable_uid

URL = "sqlite:///var/bench-one.db"
SLUG = "bench-one"
ITEMS_PER_TYPE = 985
SUBITEMS_PER_ITEM = 10
DEPARTMENTS = 200


def main(argv: list[str] | None = None) -> int:
    """Build the one-catalog dataset and record it in var/bench-dataset.json; return the exit status."""
    parser = argparse.ArgumentParser(description="write one catalog of ≈650,000 items")
    parser.add_argument("--database-url", default=URL)
    parser.add_argument("--force", action="store_true", help="drop what the database holds and rebuild")
    args = parser.parse_args(argv)
    url: str = args.database_url
    benchdb.prepare(url, force=args.force)
    benchdb.forget_dataset(url)
    upgrade(url)
    engine = make_engine(url)
    started = time.perf_counter()
    try:
        with make_sessionmaker(engine)() as session:
            if session.scalar(select(Catalog.id).limit(1)) is not None:
                print(f"{benchdb.display(url)} already holds catalogs; pass --force", file=sys.stderr)
                return 1
            rows = _write(session, load_framework(Settings().catalogs_dir, "six_class"))
    finally:
        engine.dispose()
    seconds = time.perf_counter() - started
    print(f"wrote {rows:,} items in one catalog in {seconds:.1f} s")
    record = {"database": benchdb.display(url), "seed": dataset.SEED, "single_catalog": SLUG, "items": rows}
    benchdb.write_dataset(url, record | {"generated_seconds": round(seconds, 1)})
    return 0


def _write(session: Session, framework: Framework) -> int:
    place = Jurisdiction(code="970000", name="单目录省", level="province")
    session.add(place)
    session.flush()
    session.add_all(
        Department(jurisdiction_id=place.id, code=f"{n:03d}", name=f"{dataset._BUREAUS[n % 30]}{n}")
        for n in range(1, DEPARTMENTS + 1)
    )
    catalog, version = create_catalog(
        session, jurisdiction_id=place.id, slug=SLUG, name="单目录省政府购买服务指导性目录",
        framework=framework, first_label="2026年版",
    )  # fmt: skip
    departments = store.department_ids(session, place.id)
    node_ids = {uid: n.node_id for uid, n in store.load_version(session, catalog.id, 1).items()}
    rng = random.Random(dataset.SEED)
    written = 0
    for cls in framework.classes:
        for typ in cls.types:
            states = list(_states(rng, typ.code, sorted(departments)))
            ids = node_ids | store.create_nodes(session, catalog.id, [s.uid for s in states])
            written += store.insert_revisions(
                session, catalog.id, 1, states, node_ids=ids, department_ids=departments
            )
    version.status, version.doc_number = "published", "单财购〔2026〕1号"
    version.issued_on, version.published_at = ISSUED_ON, PUBLISHED_AT
    session.commit()
    return written


def _states(rng: random.Random, type_code: str, department_codes: list[str]) -> Iterator[NodeState]:
    type_uid = stable_uid(SLUG, "type", type_code)
    for n in range(1, ITEMS_PER_TYPE + 1):
        code = child_code(type_code, Level.ITEM, n)
        item = _state(rng, type_uid, Level.ITEM, code, department_codes, n)
        yield item
        for k in range(1, SUBITEMS_PER_ITEM + 1):
            yield _state(
                rng, item.uid, Level.SUBITEM, child_code(code, Level.SUBITEM, k), department_codes, k
            )


def _state(
    rng: random.Random, parent: str, level: Level, code: str, department_codes: list[str], n: int
) -> NodeState:
    name, description = dataset._wording(rng)
    return NodeState(
        uid=stable_uid(SLUG, "item", code),
        parent=parent,
        level=level,
        code=code,
        name=name,
        description=description,
        department=rng.choice(department_codes),
        sort_key=n * 10,
    )


if __name__ == "__main__":
    sys.exit(main())
