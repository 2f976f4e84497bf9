"""While a large XLSX is being built, does the event loop stay free? The fragment's p99, quiet and loaded.

    .venv/bin/python bench/loop.py [--database-url URL] [--seconds 8] [--rounds 3] [--renamed 6000]
    .venv/bin/python bench/loop.py --measure-only   # serve and measure a copy made before (e.g. other code)

On a copy of the province dataset (generate.py), the largest catalog gets a version 2 in which
`--renamed` of its items are renamed, so that its 新旧对照表 as XLSX
(`/api/v1/catalogs/{slug}/diff?from=1&to=2&format=xlsx`) is one large workbook built whole in
one request. One uvicorn worker serves. wrk loads the cached 500-item type fragment (the hottest
public route, as pages.py does) with a few connections, first quietly, then while two clients
ask for the workbook back to back (and, third, for the catalog's whole version as a streamed
XLSX). Prints each phase's p50 and p99, the loaded p99 ÷ the quiet p99 (goal ≤ 2×) and how many
workbooks were built meanwhile; records them in var/bench-loop-<dialect>.json.

`--measure-only` imports nothing of the app but app.config, so the same script can measure the
app of another checkout: `PYTHONPATH=../other .venv/bin/python bench/loop.py --measure-only`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import urllib.request
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import benchdb
import load

from app.config import PROJECT_ROOT

HTMX = {"HX-Request": "true"}
FRAGMENT_CATALOG = "bench-980100"  # generate.py gives its type A06 exactly 500 items (pages.py's fragment)
LABEL = "bench-loop 调整"


@dataclass(frozen=True, slots=True)
class Phase:
    name: str
    p50_ms: float
    p99_ms: float
    rps: float
    errors: int
    built: int  # workbooks finished while wrk ran


def main(argv: list[str] | None = None) -> int:
    """Prepare the copy (unless --measure-only), measure the three phases, print and record; return 0 or 1."""
    args = _parser().parse_args(argv)
    source = args.database_url
    path = benchdb.sqlite_path(source)
    # an absolute file for the copy: another checkout's app resolves relative paths from its own root
    target = f"sqlite:///{path.with_name(path.stem + '-loop.db')}" if path else f"{source}_loop"
    if not args.measure_only:
        if benchdb.read_dataset(source) is None:
            print(f"no dataset in {benchdb.display(source)}: run bench/generate.py first", file=sys.stderr)
            return 1
        _prepare(source, target, _largest_catalog(source), args.renamed)
    big = _largest_catalog(target)
    fragment = f"/catalogs/{FRAGMENT_CATALOG}/versions/1/types/{_type_uid(target, FRAGMENT_CATALOG, 'A06')}"
    loads = {
        "quiet": None,
        "diff.xlsx": f"/api/v1/catalogs/{big}/diff?from=1&to=2&format=xlsx",
        "nodes.xlsx": f"/api/v1/catalogs/{big}/versions/2/nodes?format=xlsx",
    }
    rounds: dict[str, list[Phase]] = {name: [] for name in loads}
    with load.server(target, {"GUIDECAT_SCHEDULER": "0"}) as base:
        _get(base + fragment, HTMX)  # warm the cache: the quiet figure is a cache hit
        for heavy in loads.values():
            if heavy is not None:
                _get(base + heavy, {})  # once before timing: the first build warms the database pages
        for _ in range(args.rounds):
            for name, heavy in loads.items():
                rounds[name].append(_phase(base, fragment, name, heavy, args.seconds))
    phases = {name: _median(name, runs) for name, runs in rounds.items()}
    _report(phases, target)
    return 0


def _phase(base: str, fragment: str, name: str, path: str | None, seconds: int) -> Phase:
    stop, built = threading.Event(), [0]

    def build_again() -> None:
        while not stop.is_set():
            _get(base + path, {}) if path is not None else None
            built[0] += 1

    clients = [threading.Thread(target=build_again) for _ in range(2 if path else 0)]
    for client in clients:
        client.start()
    result = load.wrk(base + fragment, load.Load(threads=1, connections=4, seconds=seconds), HTMX)
    stop.set()
    for client in clients:
        client.join()
    return Phase(name, result.p50_ms, result.p99_ms, result.requests_per_second, result.errors, built[0])


def _median(name: str, runs: list[Phase]) -> Phase:
    return Phase(
        name,
        statistics.median(r.p50_ms for r in runs),
        statistics.median(r.p99_ms for r in runs),
        statistics.median(r.rps for r in runs),
        sum(r.errors for r in runs),
        sum(r.built for r in runs),
    )


def _report(phases: dict[str, Phase], target: str) -> None:
    quiet = phases["quiet"].p99_ms
    print(f"{'phase':<12} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8} {'built':>6} {'p99 ÷ quiet':>12}")
    for phase in phases.values():
        ratio = phase.p99_ms / quiet if quiet else float("nan")
        print(
            f"{phase.name:<12} {phase.p50_ms:>8.2f} {phase.p99_ms:>8.2f} {phase.rps:>8.0f} {phase.built:>6} "
            f"{ratio:>11.2f}×"
        )
    worst = max(p.p99_ms for p in phases.values()) / quiet if quiet else float("nan")
    print(f"goal: p99 under load ≤ 2× quiet — worst {worst:.2f}×: {'met' if worst <= 2 else 'NOT met'}")
    record = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": benchdb.display(target),
        "phases": [asdict(p) for p in phases.values()],
    }
    dialect = "sqlite" if target.startswith("sqlite") else "postgresql"
    out = PROJECT_ROOT / "var" / f"bench-loop-{dialect}.json"
    out.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")


def _get(url: str, headers: dict[str, str]) -> bytes:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=300) as response:
        return bytes(response.read())


def _largest_catalog(url: str) -> str:
    return _one(
        url,
        "SELECT c.slug FROM catalogs c JOIN nodes n ON n.catalog_id = c.id "
        "GROUP BY c.slug ORDER BY count(*) DESC, c.slug LIMIT 1",
    )


def _type_uid(url: str, slug: str, code: str) -> str:
    return _one(
        url,
        "SELECT n.uid FROM nodes n JOIN node_revisions r ON r.node_id = n.id "
        "JOIN catalogs c ON c.id = n.catalog_id "
        "WHERE c.slug = :slug AND r.code = :code AND r.valid_from <= 1",
        slug=slug,
        code=code,
    )


def _one(url: str, query: str, **params: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text(query), params).scalars().first())
    finally:
        engine.dispose()


def _prepare(source: str, target: str, slug: str, renamed: int) -> None:
    """Copy the dataset and give catalog `slug` a published version 2 with `renamed` items renamed."""
    import copies
    from sqlalchemy import select

    from app.catalog.nodes import Level
    from app.db import queries, store
    from app.db.engine import make_engine, make_sessionmaker
    from app.db.models import Version
    from app.services.catalogs import authoring
    from app.workflow.states import VersionState

    copies.make_copy(source, target)
    engine = make_engine(target)
    try:
        with make_sessionmaker(engine)() as session:
            catalog = queries.catalog_by_slug(session, slug)
            assert catalog is not None
            v1 = session.scalars(
                select(Version).where(Version.catalog_id == catalog.id, Version.seq == 1)
            ).one()
            v2 = authoring.open_next_version(session, catalog, LABEL)
            current = store.load_version(session, catalog.id, v2.seq)
            desired = {uid: n.state for uid, n in current.items()}
            items = sorted(uid for uid, s in desired.items() if s.level >= Level.ITEM)[:renamed]
            for uid in items:
                state = desired[uid]
                desired[uid] = type(state)(**{**_fields(state), "name": (state.name + "（调整）")[:100]})
            authoring.write_states(session, catalog, v2.seq, desired, current)
            v1.status, v2.status = VersionState.SUPERSEDED, VersionState.PUBLISHED
            v2.doc_number, v2.issued_on, v2.published_at = (
                "测财购〔2026〕1号",
                v1.issued_on,
                datetime.now(UTC),
            )
            session.commit()
    finally:
        engine.dispose()
    print(f"prepared {benchdb.display(target)}: {slug} version 2 renames {renamed} items", flush=True)


def _fields(state: object) -> dict[str, object]:
    return {name: getattr(state, name) for name in state.__slots__}  # type: ignore[attr-defined]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--database-url", default=benchdb.SQLITE_URL)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--renamed", type=int, default=6000)
    parser.add_argument("--measure-only", action="store_true")
    return parser


if __name__ == "__main__":
    Path(PROJECT_ROOT / "var").mkdir(exist_ok=True)
    sys.exit(main())
