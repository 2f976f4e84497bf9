"""Write the benchmark province (≈100 catalogs, 650,000 items) through the project's own storage.

    .venv/bin/python bench/generate.py [--database-url URL] [--scale 0.01] [--force]

Catalogs are created by app.services.catalogs.create_catalog and their items written by
app.db.store, exactly as the app writes them, one catalog per transaction so that memory
holds one catalog's items at a time, never the province's.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import benchdb
import dataset
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.catalog.frameworks import Framework
from app.config import Settings
from app.db import store
from app.db.engine import make_engine, make_sessionmaker
from app.db.migrate import upgrade
from app.db.models import Catalog, Department, Jurisdiction, Node, NodeRevision, Version
from app.formats.frameworks import load_framework
from app.services.catalogs.authoring import create_catalog, stable_uid

FRAMEWORK = "six_class"
ISSUED_ON = date(2026, 3, 2)
PUBLISHED_AT = datetime(2026, 3, 9, 1, 30, tzinfo=UTC)  # 09:30 in China


@dataclass(frozen=True, slots=True)
class Written:
    items: int
    rows: int  # nodes + revisions, the rows the storage layer wrote


def main(argv: list[str] | None = None) -> int:
    """Build the dataset and record it in var/bench-dataset.json; return the exit status."""
    args = _parser().parse_args(argv)
    url: str = args.database_url
    benchdb.prepare(url, force=args.force)
    benchdb.forget_dataset(url)
    upgrade(url)
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            if session.scalar(select(Catalog.id).limit(1)) is not None:
                print(
                    f"{benchdb.display(url)} already holds catalogs; pass --force to rebuild", file=sys.stderr
                )
                return 1
            record = _generate(session, url, round(dataset.ITEMS_AT_FULL_SCALE * args.scale))
            record["scale"] = args.scale
    finally:
        engine.dispose()
    benchdb.write_dataset(url, record)
    frag = record["fragment"]
    print(
        f"fragment target: catalog {frag['slug']} version {frag['seq']} type {frag['type_code']} "
        f"uid {frag['type_uid']} ({frag['items']} items); recorded in {benchdb.DATASET_FILE}"
    )
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="write the benchmark province")
    parser.add_argument("--database-url", default=benchdb.SQLITE_URL)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of 650,000 items (0.01: 6,500)")
    parser.add_argument("--force", action="store_true", help="drop what the database holds and rebuild")
    return parser


def _generate(session: Session, url: str, items_total: int) -> dict[str, Any]:
    framework = load_framework(Settings().catalogs_dir, FRAMEWORK)
    places = dataset.province(items_total)
    started = time.perf_counter()
    jurisdiction_ids = _write_jurisdictions(session, places)
    session.commit()
    items = rows = 0
    for i, place in enumerate(places):
        written = _write_catalog(session, framework, place, jurisdiction_ids[place.code], capital=i == 1)
        session.commit()
        items, rows = items + written.items, rows + written.rows
        if (i + 1) % 10 == 0 or i + 1 == len(places):
            seconds = time.perf_counter() - started
            print(f"  {i + 1:>3}/{len(places)} catalogs, {items:>7} items, {seconds:6.1f} s")
    elapsed = time.perf_counter() - started
    analyzed = _analyze_postgres(session)
    counts = _counts(session)
    print(
        f"generated {items} items ({rows} node and revision rows) in {elapsed:.1f} s: "
        f"{rows / elapsed:,.0f} rows/s, {items / elapsed:,.0f} items/s"
        + (f"; ANALYZE {analyzed:.1f} s" if analyzed else "")
    )
    capital = places[1]
    return {
        "database": benchdb.display(url),
        "seed": dataset.SEED,
        "generated_seconds": round(elapsed, 1),
        "rows_per_second": round(rows / elapsed),
        "counts": counts,
        "fragment": {
            "slug": capital.slug,
            "seq": 1,
            "type_code": dataset.FRAGMENT_TYPE_CODE,
            "type_uid": stable_uid(capital.slug, "type", dataset.FRAGMENT_TYPE_CODE),
            "items": dataset.FRAGMENT_TYPE_ITEMS,
        },
        "tree": {"slug": capital.slug, "items": capital.items},
    }


def _write_jurisdictions(session: Session, places: list[dataset.Place]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for place in places:  # parents come before their children in `places`
        parent = None if place.parent_code is None else ids[place.parent_code]
        row = Jurisdiction(code=place.code, name=place.name, level=place.level, parent_id=parent)
        session.add(row)
        session.flush()
        ids[place.code] = row.id
        session.add_all(
            Department(jurisdiction_id=row.id, code=code, name=name)
            for code, name in dataset.departments(place)
        )
    session.flush()
    return ids


def _write_catalog(
    session: Session, framework: Framework, place: dataset.Place, jurisdiction_id: int, *, capital: bool
) -> Written:
    catalog, version = create_catalog(
        session,
        jurisdiction_id=jurisdiction_id,
        slug=place.slug,
        name=f"{place.name}政府购买服务指导性目录",
        framework=framework,
        first_label="2026年版",
    )
    # one generator per catalog: its content does not depend on how many catalogs came before
    rng = random.Random(f"{dataset.SEED}/{place.code}")
    counts = dataset.type_counts(rng, framework, place, capital=capital)
    departments = store.department_ids(session, jurisdiction_id)
    states = list(dataset.item_states(rng, place, counts, sorted(departments)))
    node_ids = {uid: n.node_id for uid, n in store.load_version(session, catalog.id, 1).items()}
    node_ids |= store.create_nodes(session, catalog.id, [s.uid for s in states])
    written = store.insert_revisions(
        session, catalog.id, 1, states, node_ids=node_ids, department_ids=departments
    )
    version.status = "published"
    version.doc_number = f"{place.name}财购〔2026〕1号"
    version.issued_on = ISSUED_ON
    version.publication_deadline = date(2026, 3, 16)
    version.published_at = PUBLISHED_AT
    return Written(items=written, rows=2 * written)


def _analyze_postgres(session: Session) -> float:
    # autovacuum would analyze the fresh tables within minutes; do it now so plans are stable
    if session.get_bind().dialect.name != "postgresql":
        return 0.0
    started = time.perf_counter()
    session.execute(text("ANALYZE"))
    session.commit()
    return time.perf_counter() - started


def _counts(session: Session) -> dict[str, int]:
    tables = {
        "jurisdictions": Jurisdiction,
        "departments": Department,
        "catalogs": Catalog,
        "versions": Version,
        "nodes": Node,
        "node_revisions": NodeRevision,
    }
    out = {
        name: int(session.scalar(select(func.count()).select_from(model)) or 0)
        for name, model in tables.items()
    }
    out["items"] = int(
        session.scalar(select(func.count()).select_from(NodeRevision).where(NodeRevision.level == 3)) or 0
    )
    return out


if __name__ == "__main__":
    sys.exit(main())
