"""Whole catalogs in and out at province scale (issue 3, item 5). This file holds the export part.

    .venv/bin/python bench/io.py [--database-url URL ...] [--runs 3]

Export: `guidecat export --format csv` of every item of the dataset (each catalog's newest
public version, one after another into one stream) against the database's own CSV dump of
the same rows: `sqlite3 -csv` and `psql` running `\\copy (…) to '/dev/null' csv`, one select
per version, of the stored columns the export reads, in the same order and by the same plan.
A second, informational baseline has SQL itself write our exact rows (the level names by
self-joins). Each of our runs is a child process timed around the export alone (measure.py);
rounds interleave with the baselines', so load from anything else on the machine hits all
alike. Medians are reported. Goal: ≤ 2× the stored-columns dump's time, peak RSS < 200 MB.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

import benchdb
import measure
import plans
from sqlalchemy import event, select
from sqlalchemy.engine import make_url

from app.db.engine import make_engine, make_sessionmaker
from app.db.models import Catalog
from app.services import exports

SCRIPT = Path(__file__).resolve()
GOAL_RATIO = 2.0
GOAL_RSS_MB = 200

# ---------------------------------------------------------------------------------------- export

_NOTE = {"sqlite": "json_extract(r.attrs, '$.note')", "postgresql": "r.attrs ->> 'note'"}


def _in_version(alias: str, seq: int) -> str:
    # the scanned table takes `+ 0` as in app.db.export_query: the same plan, code index, no sort
    start = f"{alias}.valid_from + 0" if alias == "r" else f"{alias}.valid_from"
    return f"{start} <= {seq} AND ({alias}.valid_to IS NULL OR {alias}.valid_to > {seq})"


def _items(catalog_id: int, seq: int) -> str:
    return f" WHERE r.catalog_id = {catalog_id} AND {_in_version('r', seq)} AND r.level + 0 IN (3, 4)"


def flat_sql(dialect: str, catalog_id: int, seq: int) -> str:
    """Return the baseline for one version: the stored columns the export reads, same rows, same order."""
    return (
        f"SELECT r.code, r.level, r.name, r.description, d.name, {_NOTE[dialect]}, n.uid"
        " FROM node_revisions r JOIN nodes n ON n.id = r.node_id"
        " LEFT JOIN departments d ON d.id = r.department_id"
        f"{_items(catalog_id, seq)} ORDER BY r.code, r.node_id"
    )


def same_rows_sql(dialect: str, catalog_id: int, seq: int) -> str:
    """Return SQL writing our exact CSV rows for one version, the level names joined from the ancestors."""

    def up(alias: str, child: str) -> str:
        on = f"{alias}.node_id = {child}.parent_id AND {_in_version(alias, seq)}"
        return f" LEFT JOIN node_revisions {alias} ON {on}"

    return (
        "SELECT row_number() OVER (ORDER BY r.code, r.node_id), r.code,"
        " CASE r.level WHEN 3 THEN g.name ELSE gg.name END, CASE r.level WHEN 3 THEN p.name ELSE g.name END,"
        " CASE r.level WHEN 3 THEN r.name ELSE p.name END, CASE r.level WHEN 4 THEN r.name ELSE '' END,"
        f" r.description, coalesce(d.name, ''), coalesce({_NOTE[dialect]}, ''), n.uid"
        " FROM node_revisions r JOIN nodes n ON n.id = r.node_id"
        " LEFT JOIN departments d ON d.id = r.department_id"
        f"{up('p', 'r')}{up('g', 'p')}{up('gg', 'g')}{_items(catalog_id, seq)} ORDER BY r.code, r.node_id"
    )


class _Sink:
    """A binary stream that counts the lines written to it and keeps nothing."""

    def __init__(self) -> None:
        self.lines = 0

    def write(self, data: bytes) -> int:
        self.lines += data.count(b"\n")
        return len(data)


def export_everything(url: str) -> int:
    """Export every catalog's newest public version as CSV into one sink; return the item rows written."""
    engine = make_engine(url)
    sink = _Sink()
    try:
        with make_sessionmaker(engine)() as session:
            slugs = list(session.scalars(select(Catalog.slug).order_by(Catalog.id)))
            for slug in slugs:
                exports.write(session, exports.find(session, slug), exports.Format.CSV, sink)  # type: ignore[arg-type]
    finally:
        engine.dispose()
    return sink.lines - len(slugs)  # one header line per catalog


def versions(url: str) -> list[tuple[int, int]]:
    """Return (catalog id, seq) of the version the export picks in each catalog, in catalog order."""
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            slugs = list(session.scalars(select(Catalog.slug).order_by(Catalog.id)))
            targets = [exports.find(session, slug) for slug in slugs]
            return [(t.catalog.id, t.version.seq) for t in targets]
    finally:
        engine.dispose()


def bench_export_sqlite(url: str, *, runs: int) -> dict[str, Any]:
    """Measure the CSV export against `sqlite3 -csv` of the same per-version selects; return the figures."""
    command = ["sqlite3", "-csv", str(benchdb.sqlite_path(url))]
    scripts = {
        "sqlite3 -csv, stored columns": [flat_sql("sqlite", c, s) + ";" for c, s in versions(url)],
        "sqlite3 -csv, our exact rows": [same_rows_sql("sqlite", c, s) + ";" for c, s in versions(url)],
    }
    return _bench_export(url, command, scripts, runs=runs)


def bench_export_postgres(url: str, *, runs: int) -> dict[str, Any]:
    """Measure the CSV export against psql `\\copy` of the same per-version selects; return the figures."""
    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    command = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", libpq]

    def copy(sql: str) -> str:
        return f"\\copy ({sql}) to '/dev/null' csv"

    scripts = {
        "psql \\copy, stored columns": [copy(flat_sql("postgresql", c, s)) for c, s in versions(url)],
        "psql \\copy, our exact rows": [copy(same_rows_sql("postgresql", c, s)) for c, s in versions(url)],
    }
    return _bench_export(url, command, scripts, runs=runs)


def _bench_export(
    url: str, command: list[str], scripts: dict[str, list[str]], *, runs: int
) -> dict[str, Any]:
    full_scans = check_export_plan(url)
    results: dict[str, list[measure.Run]] = {"ours": [], **{name: [] for name in scripts}}
    with tempfile.TemporaryDirectory(prefix="guidecat-bench-") as folder:
        files = {name: Path(folder) / f"{n}.sql" for n, name in enumerate(scripts)}
        for name, lines in scripts.items():
            files[name].write_text("\n".join(lines) + "\n", encoding="utf-8")
        measure.run_child(SCRIPT, "--child-export", url)  # warm-up: OS file cache, database buffers
        for path in files.values():
            measure.run_command(command, path)
        for _ in range(runs):  # rounds interleave, so drift over time hits every contender alike
            results["ours"].append(measure.run_child(SCRIPT, "--child-export", url))
            for name, path in files.items():
                results[name].append(measure.run_command(command, path))
    summary = {name: measure.median(rs) for name, rs in results.items()}
    _print_export(url, summary, runs)
    all_runs = {name: [_brief(r) for r in rs] for name, rs in results.items()}
    return {"median": summary, "runs": all_runs, "plan_full_scans": full_scans}


def _brief(run: measure.Run) -> dict[str, float]:
    """Return `run` as a dict for the JSON record."""
    return {"seconds": round(run.seconds, 3), "cpu": round(run.cpu, 3), "rss_mb": round(run.rss_mb, 1)}


def check_export_plan(url: str) -> list[str]:
    """Print the plan of the export's row query on the first (the province's) catalog; return full scans."""
    engine = make_engine(url)
    seen: list[plans.Statement] = []

    def record(_c: Any, _cur: Any, sql: str, params: Any, _ctx: Any, _many: bool) -> None:
        seen.append(plans.Statement(sql, params))

    try:
        with make_sessionmaker(engine)() as session:
            slug = session.scalars(select(Catalog.slug).order_by(Catalog.id).limit(1)).one()
            event.listen(engine, "before_cursor_execute", record)
            exports.write(session, exports.find(session, slug), exports.Format.CSV, _Sink())  # type: ignore[arg-type]
            event.remove(engine, "before_cursor_execute", record)
        rows = next(s for s in seen if "ORDER BY node_revisions.code" in s.sql)
        if engine.dialect.name == "postgresql":  # a server-side cursor, planned for its first rows
            rows = plans.Statement(f"DECLARE export_plan CURSOR FOR {rows.sql}", rows.params)
        plan = plans.explain(engine, "export", rows)
    finally:
        engine.dispose()
    print(f"\nexport row query on {slug}: {plans.short_sql(plan.statement.sql)}")
    for line in [*plan.lines, *(f"!! FULL SCAN: {s}" for s in plan.full_scans)]:
        print(f"    {line}")
    return plan.full_scans


def _print_export(url: str, summary: dict[str, dict[str, float]], runs: int) -> None:
    ours = summary["ours"]
    print(f"\n{benchdb.display(url)} — CSV export of {ours['rows']:,.0f} items, median of {runs} runs")
    print(f"{'':<30} {'wall s':>7} {'cpu s':>7} {'peak RSS MB':>13} {'ours ÷ it: wall, cpu':>21}")
    for name, f in summary.items():
        mine = name == "ours"
        ratio = "" if mine else f"{ours['seconds'] / f['seconds']:.2f}×, {ours['cpu'] / f['cpu']:.2f}×"
        rss = f"{f['rss_mb']:.0f} ({f['rss_before_mb']:.0f} idle)" if mine else "—"
        print(f"{name:<30} {f['seconds']:>7.2f} {f['cpu']:>7.2f} {rss:>13} {ratio:>21}")
    flat = next(f for n, f in summary.items() if n.endswith("stored columns"))
    ratio = ours["seconds"] / flat["seconds"]
    print(f"goal ≤ {GOAL_RATIO:.0f}× the stored-columns dump: {ratio:.2f}× — {_met(ratio <= GOAL_RATIO)}")
    print(f"goal peak RSS < {GOAL_RSS_MB} MB: {ours['rss_mb']:.0f} MB — {_met(ours['rss_mb'] < GOAL_RSS_MB)}")


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


# ------------------------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    """Measure each database holding a dataset; return the exit status (1: a plan scans a whole table)."""
    parser = argparse.ArgumentParser(description="measure whole-catalog export (and import) at scale")
    parser.add_argument("--database-url", action="append", help="default: both bench databases")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child-export", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_export:
        measure.report(lambda: export_everything(args.child_export))
        return 0
    status = 0
    for url in args.database_url or [benchdb.SQLITE_URL, benchdb.POSTGRES_URL]:
        if benchdb.read_dataset(url) is None:
            print(f"no dataset recorded for {benchdb.display(url)}: run bench/generate.py", file=sys.stderr)
            status = 1
            continue
        sqlite = make_url(url).get_backend_name() == "sqlite"
        figures = (bench_export_sqlite if sqlite else bench_export_postgres)(url, runs=args.runs)
        measure.save(url, "export", figures)
        status = max(status, 1 if figures["plan_full_scans"] else 0)
    return status


if __name__ == "__main__":
    sys.exit(main())
