"""Measure the catalog tree page and a 500-item type fragment against the app's hello-world route.

    .venv/bin/python bench/pages.py [--database-url URL] [--seconds 10] [--runs 3]

First the plans: every statement the two pages send is captured in-process and EXPLAINed
with its own parameters; a full scan of node_revisions, nodes (or, on SQLite, versions)
makes the run exit 1. Then the load: one uvicorn worker, wrk on loopback, with the page
cache on (the default) and off (GUIDECAT_PAGE_CACHE_BYTES=0), each route in turn.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import benchdb
import load
import plans
from sqlalchemy.engine import make_url

from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.http import urls

MODES = {"cached": {}, "cold": {"GUIDECAT_PAGE_CACHE_BYTES": "0"}}
HTMX = {"HX-Request": "true"}


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    path: str
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class Figure:
    """One route under one cache mode: medians over the runs, and each run's req/s."""

    rps: float
    p50_ms: float
    p99_ms: float
    vs_hello: float
    errors: int
    runs_rps: list[int]


Summary = dict[str, dict[str, Figure]]  # mode → route → figure


def main(argv: list[str] | None = None) -> int:
    """Check the plans, load the three routes, print and record the figures; return the exit status."""
    args = _parser().parse_args(argv)
    url: str = args.database_url
    record = benchdb.read_dataset(url)
    if record is None:
        print(f"no dataset recorded for {benchdb.display(url)}: run bench/generate.py first", file=sys.stderr)
        return 1
    upgrade(url)  # a dataset built before newer migrations still serves the current app
    targets = _targets(record)
    failures = check_plans(url, targets)
    spec = load.Load(threads=args.threads, connections=args.connections, seconds=args.seconds)
    # other work on the machine shifts every figure: the load averages say whether there was any
    loads = [os.getloadavg()]
    figures = {mode: measure(url, env, targets, spec, runs=args.runs) for mode, env in MODES.items()}
    loads.append(os.getloadavg())
    summary = _summarise(figures)
    _print_summary(url, spec, args.runs, summary)
    print(f"load average (1, 5, 15 min) before: {loads[0]}, after: {loads[1]}")
    _save(url, record, spec, args.runs, summary, failures, loads)
    if failures:
        print(f"FAIL: {len(failures)} plan(s) scan a whole large table", file=sys.stderr)
        return 1
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="load the tree page and a type fragment against /healthz")
    parser.add_argument("--database-url", default=benchdb.SQLITE_URL)
    parser.add_argument("--seconds", type=int, default=10, help="length of each measured wrk run")
    parser.add_argument("--runs", type=int, default=3, help="measured runs per route; medians are reported")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    return parser


def _targets(record: dict[str, Any]) -> list[Target]:
    frag = record["fragment"]
    return [
        Target("hello", "/healthz", {}),
        Target("tree", urls.catalog(record["tree"]["slug"]), {}),
        Target("fragment", urls.type_items(frag["slug"], frag["seq"], frag["type_uid"]), HTMX),
    ]


def check_plans(url: str, targets: list[Target]) -> list[plans.Plan]:
    """Print the plan of every statement the tree page and the fragment run; return the failing ones."""
    pages = [
        plans.Page("tree", targets[1].path, targets[1].headers, 'class="tree"'),
        plans.Page("fragment", targets[2].path, targets[2].headers, 'class="item-list"'),
    ]
    engine = make_engine(url)
    failures: list[plans.Plan] = []
    try:
        for page, statements in plans.capture(url, pages).items():
            print(f"\n== {page}: {len(statements)} statements ==")
            for n, statement in enumerate(statements, start=1):
                plan = plans.explain(engine, page, statement)
                _print_plan(n, plan)
                if plan.full_scans:
                    failures.append(plan)
    finally:
        engine.dispose()
    print(f"\nplan check: {'FAIL' if failures else 'ok'} ({len(failures)} full scans of large tables)")
    return failures


def _print_plan(n: int, plan: plans.Plan) -> None:
    print(f"[{n}] {plans.short_sql(plan.statement.sql)}")
    for line in plan.lines:
        print(f"      {line}")
    for line in plan.full_scans:
        print(f"   !! FULL SCAN: {line}")
    for line in plan.index_scans:
        print(f"   ?? reads a whole index or catalog: {line}")


def measure(
    url: str, env: dict[str, str], targets: list[Target], spec: load.Load, *, runs: int
) -> dict[str, list[load.Result]]:
    """Return `runs` wrk results per target from one uvicorn worker started with `env`."""
    out: dict[str, list[load.Result]] = {t.name: [] for t in targets}
    warmup = load.Load(spec.threads, spec.connections, seconds=2)
    with load.server(url, env) as base:
        for t in targets:  # fills the page cache, the OS file cache and the template cache
            load.wrk(base + t.path, warmup, t.headers)
        # rounds interleave the routes, so drift over time hits all three alike
        for _ in range(runs):
            for t in targets:
                out[t.name].append(load.wrk(base + t.path, spec, t.headers))
    return out


def _summarise(figures: dict[str, dict[str, list[load.Result]]]) -> Summary:
    summary: Summary = {}
    for mode, by_target in figures.items():
        hello = statistics.median(r.requests_per_second for r in by_target["hello"])
        summary[mode] = {name: _figure(results, hello) for name, results in by_target.items()}
    return summary


def _figure(results: list[load.Result], hello_rps: float) -> Figure:
    rps = statistics.median(r.requests_per_second for r in results)
    return Figure(
        rps=round(rps, 1),
        p50_ms=round(statistics.median(r.p50_ms for r in results), 2),
        p99_ms=round(statistics.median(r.p99_ms for r in results), 2),
        vs_hello=round(rps / hello_rps, 3),
        errors=sum(r.errors for r in results),
        runs_rps=[round(r.requests_per_second) for r in results],
    )


def _print_summary(url: str, spec: load.Load, runs: int, summary: Summary) -> None:
    print(
        f"\n{benchdb.display(url)} — wrk -t{spec.threads} -c{spec.connections} -d{spec.seconds}s, "
        f"1 uvicorn worker, median of {runs} runs"
    )
    print(
        f"{'mode':<7} {'route':<9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'÷hello':>7} {'errors':>6}  runs"
    )
    for mode, by_target in summary.items():
        for name, f in by_target.items():
            print(
                f"{mode:<7} {name:<9} {f.rps:>9.0f} {f.p50_ms:>8.2f} {f.p99_ms:>8.2f} "
                f"{f.vs_hello:>7.2f} {f.errors:>6}  {f.runs_rps}"
            )
    for mode, by_target in summary.items():
        ratio = by_target["fragment"].vs_hello
        verdict = "met" if ratio >= 0.5 else "NOT met"
        print(f"goal fragment ≥ 50% of hello-world, {mode}: {ratio:.0%} — {verdict}")


def _save(
    url: str,
    record: dict[str, Any],
    spec: load.Load,
    runs: int,
    summary: Summary,
    failures: list[plans.Plan],
    loads: list[tuple[float, float, float]],
) -> None:
    dialect = make_url(url).get_backend_name()
    path = benchdb.DATASET_FILE.with_name(f"bench-results-{dialect}.json")
    result = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "database": benchdb.display(url),
        "dataset": record,
        "load": asdict(spec) | {"runs": runs},
        "load_average_before_after": loads,
        "summary": {mode: {n: asdict(f) for n, f in by.items()} for mode, by in summary.items()},
        "plan_failures": [plans.short_sql(p.statement.sql) for p in failures],
    }
    path.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"figures recorded in {path}")


if __name__ == "__main__":
    sys.exit(main())
