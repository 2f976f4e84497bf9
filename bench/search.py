"""Search at province scale (issue 9): p50/p95 of a search over the 650,000-item dataset.

    .venv/bin/python bench/search.py [--database-url URL ...] [--rounds 5] [--keep]

Works on a copy of the province dataset (generate.py; var/bench.db and guidecat_bench),
`bench-search` beside it, migrated to head; the index is built with
`app.services.search_index.reindex` (timed) and, on PostgreSQL, the copy ANALYZEd. `--keep` reuses
a copy that is already indexed.

Each measured call is `search.search(session, SearchQuery(...))` as the API and the page make
it: the capped count, the first page of 50 grouped by type, highlights and catalog lookups,
in a session of its own. Query kinds, each over every term of its list and two scopes (one
jurisdiction's catalog, rotating over all 100; and the whole province):

- two: two-character words (养老, 保洁, …), answered by the bigram index;
- four: four-character phrases (心理疏导, 养老服务, …), by the trigram index;
- pinyin: full pinyin (yanglao) and initials (ylfw), three letters or more by the trigram
  index, two (yl) by the bigram index;
- common: 服务, a word in nearly every item (≈650k hits): the cap at work.

Goal: p95 < 50 ms for two, four and pinyin on both databases. Figures go to
var/bench-results-search.json with the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from typing import Any

import benchdb
import copies
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from app.db.engine import make_engine, make_sessionmaker
from app.db.models import Catalog, Jurisdiction, SearchVersion
from app.services.search import index as search_index
from app.services.search import query as search
from app.services.search.query import SearchQuery

RESULTS_FILE = benchdb.DATASET_FILE.with_name("bench-results-search.json")
KINDS: dict[str, tuple[str, ...]] = {
    "two": ("养老", "保洁", "评估", "培训", "监测", "咨询", "调解", "宣传", "巡查", "康复", "照料", "助残"),
    "four": (
        "心理疏导", "法律援助", "档案整理", "绩效评价", "安全检查", "就业指导",
        "健康管理", "养老服务", "社区儿童", "专项服务", "困难群众", "行业规范",
    ),
    "pinyin": (
        "yanglao", "baojie", "pinggu", "peixun", "xinlishudao", "falvyuanzhu",
        "ylfw", "bjfw", "xlsd", "yl", "bj", "pg",
    ),
    "common": ("服务",),
}  # fmt: skip
GOAL_MS = 50.0
GOAL_KINDS = ("two", "four", "pinyin")


def main(argv: list[str] | None = None) -> int:
    """Measure each database; print the table and record it; return 1 if a goal is missed."""
    parser = argparse.ArgumentParser(description="search latency on the province dataset")
    parser.add_argument("--database-url", action="append", default=None)
    parser.add_argument("--rounds", type=int, default=5, help="times each (term, scope) query is asked")
    parser.add_argument("--keep", action="store_true", help="reuse an indexed copy")
    args = parser.parse_args(argv)
    sources = args.database_url or [benchdb.SQLITE_URL, benchdb.POSTGRES_URL]
    results: dict[str, Any] = {"measured_at": datetime.now(UTC).isoformat(timespec="seconds")}
    results["load_before"] = os.getloadavg()
    results["machine"] = {"python": platform.python_version(), "cpus": os.cpu_count()}
    status = 0
    for source in sources:
        if benchdb.read_dataset(source) is None:
            print(f"skipped {benchdb.display(source)}: no dataset recorded (run generate.py)")
            continue
        figures = _measure(source, rounds=args.rounds, keep=args.keep)
        results[benchdb.display(source)] = figures
        status = max(status, _print(benchdb.display(source), figures))
    results["load_after"] = os.getloadavg()
    recorded: dict[str, Any] = {}
    if RESULTS_FILE.is_file():  # one run per database may be recorded by separate invocations
        recorded = json.loads(RESULTS_FILE.read_text(encoding="utf-8"))
    key = ",".join(benchdb.display(s) for s in sources)
    recorded[key] = results
    RESULTS_FILE.write_text(json.dumps(recorded, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"recorded in {RESULTS_FILE}")
    return status


def _measure(source: str, *, rounds: int, keep: bool) -> dict[str, Any]:
    target = copies.copy_url(source, "search")
    figures: dict[str, Any] = {"copy": benchdb.display(target)}
    if not (keep and _indexed(target)):
        copies.make_copy(source, target)
        engine = make_engine(target)
        try:
            with make_sessionmaker(engine)() as session:
                started = time.perf_counter()
                figures["items_indexed"] = search_index.reindex(session)
                figures["reindex_seconds"] = round(time.perf_counter() - started, 1)
        finally:
            engine.dispose()
        if benchdb.sqlite_path(target) is None:
            copies.analyze(target)
    engine = make_engine(target)
    try:
        sessions = make_sessionmaker(engine)
        figures["index_bytes"] = _index_size(sessions)
        scopes = _scopes(sessions)
        for kind, terms in KINDS.items():
            figures[kind] = _time_kind(sessions, terms, scopes, rounds=rounds)
    finally:
        engine.dispose()
    return figures


def _indexed(url: str) -> bool:
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            return session.scalar(select(SearchVersion.version_id).limit(1)) is not None
    except Exception:  # no copy yet, or one from before the search migration
        return False
    finally:
        engine.dispose()


def _scopes(sessions: sessionmaker[Session]) -> list[dict[str, Any]]:
    """Return one scope per jurisdiction (its division code) plus None: the whole province."""
    with sessions() as session:
        codes = list(
            session.scalars(
                select(Jurisdiction.code)
                .join(Catalog, Catalog.jurisdiction_id == Jurisdiction.id)
                .order_by(Jurisdiction.code)
            )
        )
    return [{"jurisdiction": c} for c in codes] + [{}]


def _time_kind(
    sessions: sessionmaker[Session], terms: tuple[str, ...], scopes: list[dict[str, Any]], *, rounds: int
) -> dict[str, Any]:
    province, local = scopes[-1], scopes[:-1]
    asks: list[dict[str, Any]] = []
    for i, term in enumerate(terms):
        # every term province-wide, and in as many jurisdictions as rounds allow, rotating
        asks.append({"q": term} | province)
        asks += [{"q": term} | local[(i * 7 + k * 13) % len(local)] for k in range(3)]
    for ask in asks:  # warm-up: the first call of a term pays for the OS page cache
        _ask(sessions, ask)
    times: list[float] = []
    cpu: list[float] = []
    by_scope: dict[str, list[float]] = {"province": [], "jurisdiction": []}
    hits: list[int] = []
    for _ in range(rounds):
        for ask in asks:
            ms, cpu_ms, total = _ask(sessions, ask)
            times.append(ms)
            cpu.append(cpu_ms)
            by_scope["jurisdiction" if "jurisdiction" in ask else "province"].append(ms)
            hits.append(total)
    return {
        "queries": len(times),
        "p50_ms": round(_pct(times, 50), 2),
        "p95_ms": round(_pct(times, 95), 2),
        "max_ms": round(max(times), 2),
        "cpu_p50_ms": round(_pct(cpu, 50), 2),  # this process only: PostgreSQL's own work is not in it
        "cpu_p95_ms": round(_pct(cpu, 95), 2),
        "province_p95_ms": round(_pct(by_scope["province"], 95), 2),
        "jurisdiction_p95_ms": round(_pct(by_scope["jurisdiction"], 95), 2),
        "hits_median": statistics.median(hits),
        "hits_max": max(hits),
    }


def _ask(sessions: sessionmaker[Session], ask: dict[str, Any]) -> tuple[float, float, int]:
    with sessions() as session:
        started, cpu = time.perf_counter(), time.process_time()
        page = search.search(session, SearchQuery(**ask))
        ms, cpu_ms = (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000
    return ms, cpu_ms, page.total


def _pct(values: list[float], pct: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def _index_size(sessions: sessionmaker[Session]) -> dict[str, int]:
    with sessions() as session:
        if session.get_bind().dialect.name == "postgresql":
            rows = session.execute(
                text(
                    "SELECT relname, pg_total_relation_size(oid) FROM pg_class "
                    "WHERE relname IN ('search_entries', 'ix_search_entries_search_text', "
                    "'ix_search_entries_grams')"
                )
            ).all()
            return {str(name): int(size) for name, size in rows}
        rows = session.execute(
            text(
                "SELECT name, sum(pgsize) FROM dbstat WHERE name LIKE 'search%' "
                "OR name LIKE 'ix_search%' GROUP BY name"
            )
        ).all()
        return {str(name): int(size) for name, size in rows}


def _print(database: str, figures: dict[str, Any]) -> int:
    print(f"\n{database} (copy {figures['copy']})")
    if "reindex_seconds" in figures:
        print(f"  reindex: {figures['items_indexed']} items in {figures['reindex_seconds']} s")
    print(f"  index: {sum(figures['index_bytes'].values()) / 1e6:.0f} MB {figures['index_bytes']}")
    status = 0
    for kind in KINDS:
        f = figures[kind]
        met = f["p95_ms"] < GOAL_MS
        if kind in GOAL_KINDS and not met:
            status = 1
        goal = ("met" if met else "NOT MET") if kind in GOAL_KINDS else "no goal"
        print(
            f"  {kind:<7} n={f['queries']:<4} p50 {f['p50_ms']:7.2f} ms  p95 {f['p95_ms']:7.2f} ms "
            f"(province {f['province_p95_ms']:.2f}, jurisdiction {f['jurisdiction_p95_ms']:.2f}; "
            f"max {f['max_ms']:.2f}; CPU p50 {f['cpu_p50_ms']:.2f}, p95 {f['cpu_p95_ms']:.2f})  "
            f"hits median {f['hits_median']}, max {f['hits_max']}  goal: {goal}"
        )
    return status


if __name__ == "__main__":
    sys.exit(main())
