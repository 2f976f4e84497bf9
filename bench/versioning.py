"""Versioning at province scale (issue 4, item 6): diff, merge and draft opening on a 650,000-node catalog.

    .venv/bin/python bench/versioning.py [--database-url URL ...] [--runs 5] [--open-runs 50]

Works on a copy of the one-catalog dataset (one_catalog.py: 650,161 nodes) that two_versions.py
gives a version 2 differing in 6,500 nodes (1 %: 2,000 edits, 1,500 additions, 1,500 moves,
1,500 withdrawals) and a city catalog (the province dataset's capital, 8,270 三级 items) with a
version 2 differing in 100.

Then, each figure a median of several runs:

1. history.compare_versions(v1, v2) of the 650k catalog against `git diff --no-index --numstat`
   of the two versions' CSV exports (written by our exporter, not timed), the runs alternating
   so that both see the same machine. Goal: ≥ 10× faster.
2. the same diff on the city catalog. Goal: < 50 ms.
3. merge_draft of an approved draft of 1,000 changes (400 edits, 200 additions, 200 moves,
   200 withdrawals) into the 650k catalog, each run on a fresh copy. Goal: < 2 s, one commit.
4. open_draft of a draft of 1,000 changes and of one of 10, each in a fresh session, as a request
   would: the counts by kind and the first page of changes, what the editor shows first.
   Goal: < 10 ms. Reading every change of the same drafts and create_draft are timed beside
   it (no goal).

The figures go to var/bench-results-versioning.json with the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import benchdb
import copies
import dataset
import one_catalog
from sqlalchemy import event, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from two_versions import (
    MERGE_ITEMS,
    MERGE_MIX,
    OPEN_ITEMS,
    SMALL_ITEMS,
    SMALL_MIX,
    approved_draft,
    build,
    item_sample,
    plan,
    subtree,
)

from app.catalog.nodes import Level
from app.db.engine import make_engine, make_sessionmaker
from app.db.models import Version
from app.services.access import CLI as SYSTEM
from app.services.catalogs import browse, history
from app.services.drafts import lifecycle as drafts
from app.services.exports import files as exports
from app.services.merging import merge as merging

DEFAULT_URLS = (
    one_catalog.URL,
    make_url(benchdb.POSTGRES_URL).set(database="guidecat_bench_one").render_as_string(),
)
RESULTS_FILE = benchdb.DATASET_FILE.with_name("bench-results-versioning.json")
GOAL_DIFF_RATIO, GOAL_CITY_MS, GOAL_MERGE_S, GOAL_OPEN_MS = 10.0, 50.0, 2.0, 10.0


# ------------------------------------------------------------------------------------ measuring


def timed_runs(runs: int, work: Callable[[], object]) -> tuple[list[float], object]:
    """Return the seconds of `runs` calls of `work` after one warm-up call, and the last result."""
    result = work()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return times, result


def _comparer(sessions: sessionmaker[Session], slug: str) -> Callable[[], history.Comparison]:
    """Return a call of compare_versions(1, 2) of catalog `slug` in a fresh session, as a request makes."""
    with sessions() as session:
        catalog = browse.catalog(session, slug)
        v1, v2 = (
            session.scalars(select(Version).where(Version.catalog_id == catalog.id, Version.seq == n)).one()
            for n in (1, 2)
        )

    def compare() -> history.Comparison:
        with sessions() as session:
            return history.compare_versions(session, catalog, v1, v2)

    return compare


def _diff_figures(times: list[float], result: object) -> dict[str, Any]:
    assert isinstance(result, history.Comparison)
    kinds = Counter(type(c).__name__ for c in result.changes)
    return _summary(times) | {"changes": dict(sorted(kinds.items())), "nodes": len(history.rows(result))}


def time_diff(sessions: sessionmaker[Session], slug: str, runs: int) -> dict[str, Any]:
    """Time compare_versions(1, 2) of catalog `slug`, each run in a fresh session; count the changes."""
    times, result = timed_runs(runs, _comparer(sessions, slug))
    return _diff_figures(times, result)


def time_diff_and_git(
    sessions: sessionmaker[Session], slug: str, runs: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Time compare_versions(1, 2) and `git diff --no-index --numstat` of the two versions' CSV exports.

    The runs alternate (ours, git, ours, git …) after one warm-up each, so both see the same
    machine: the ratio is the figure, and other work on a shared machine moves both sides.
    The exports are written by our exporter and not timed.
    """
    compare = _comparer(sessions, slug)
    with tempfile.TemporaryDirectory(prefix="guidecat-bench-") as folder:
        with sessions() as session:
            for seq in (1, 2):
                with (Path(folder) / f"v{seq}.csv").open("wb") as out:
                    exports.write(session, exports.find(session, slug, seq), exports.Format.CSV, out)
        command = ["git", "diff", "--no-index", "--numstat", "v1.csv", "v2.csv"]

        def git() -> str:
            # outside any repository: --no-index compares two plain files; exit status 1 means "differ"
            done = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)
            if done.returncode not in (0, 1):
                raise RuntimeError(f"git diff failed: {done.stderr}")
            return done.stdout.strip()

        ours: list[float] = []
        theirs: list[float] = []
        result, numstat = compare(), git()  # warm-ups
        for _ in range(runs):
            started = time.perf_counter()
            result = compare()
            ours.append(time.perf_counter() - started)
            started = time.perf_counter()
            git()
            theirs.append(time.perf_counter() - started)
    return _diff_figures(ours, result), _summary(theirs) | {"numstat": numstat}


def time_merges(work: str, runs: int) -> dict[str, Any]:
    """Time merge_draft of a 1,000-change approved draft into the 650k catalog, each run on a fresh copy."""
    target = copies.copy_url(work, "merge")
    outcomes = []
    for _ in range(runs):
        copies.make_copy(work, target)
        outcomes.append(_merge_once(target))
    copies.drop_copy(target)
    return _summary([o["seconds"] for o in outcomes]) | {"outcomes": outcomes}


def _merge_once(url: str) -> dict[str, Any]:
    engine = make_engine(url)
    commits: list[int] = []
    try:
        with make_sessionmaker(engine)() as session:
            one = browse.catalog(session, one_catalog.SLUG)
            items = item_sample(session, one.id, 2)[MERGE_ITEMS]
            changes = plan("merge", subtree(session, one.id, 2, items), Level.SUBITEM, MERGE_MIX)
            draft_id = approved_draft(session, one, changes, "合并基准")
            event.listen(session, "after_commit", lambda _s: commits.append(1))
            started = time.perf_counter()
            outcome = merging.merge_draft(session, draft_id, actor=SYSTEM)
            seconds = time.perf_counter() - started
    finally:
        engine.dispose()
    if not outcome.merged or outcome.written is None:
        raise RuntimeError(f"the merge found {len(outcome.conflicts)} conflicts")
    w = outcome.written
    return {
        "seconds": round(seconds, 4),
        "commits": len(commits),
        "added": w.added,
        "changed": w.changed,
        "removed": w.removed,
    }


def time_drafts(sessions: sessionmaker[Session], runs: int) -> dict[str, Any]:
    """Time open_draft on drafts of 1,000 and of 10 changes, and create_draft, each in a fresh session.

    Opening is what the editor's first screen asks for: the counts by kind and the first page
    (drafts.PAGE changes); `_all` is the same draft with every change decoded (no goal).
    """
    with sessions() as session:
        one = browse.catalog(session, one_catalog.SLUG)
        items = item_sample(session, one.id, 2)
        sizes = {"open_1000": (OPEN_ITEMS, MERGE_MIX), "open_10": (SMALL_ITEMS, SMALL_MIX)}
        ids = {
            name: approved_draft(
                session,
                one,
                plan(name, subtree(session, one.id, 2, items[part]), Level.SUBITEM, mix),
                name,
                approve=False,
            )
            for name, (part, mix) in sizes.items()
        }
    figures: dict[str, Any] = {}
    opened = [(f"{name}{suffix}", draft_id, limit) for name, draft_id in ids.items()
              for suffix, limit in (("", drafts.PAGE), ("_all", None))]  # fmt: skip
    for name, draft_id, limit in opened:

        def open_it(draft_id: int = draft_id, limit: int | None = limit) -> tuple[int, int]:
            with sessions() as session:
                view = drafts.open_draft(session, draft_id, limit=limit, actor=SYSTEM)
                return view.counts.total, len(view.changes)

        times, result = timed_runs(runs, open_it)
        assert isinstance(result, tuple)
        total, shown = result
        figures[name] = _summary(times) | {"changes": total, "shown": shown}

    def create() -> int:
        with sessions() as session:
            return drafts.create_draft(session, one_catalog.SLUG, actor=SYSTEM, title="基准").id

    figures["create"] = _summary(timed_runs(runs, create)[0])
    return figures


def _summary(times: list[float]) -> dict[str, Any]:
    return {
        "median_s": round(statistics.median(times), 5),
        "min_s": round(min(times), 5),
        "max_s": round(max(times), 5),
        "runs": len(times),
    }


# ------------------------------------------------------------------------------------ reporting


def measure_database(source: str, *, runs: int, open_runs: int) -> dict[str, Any]:
    """Build the versions on a copy of `source`, measure everything, print the table; return the figures."""
    load_before = os.getloadavg()
    work, built = build(source)
    engine = make_engine(work)
    try:
        sessions = make_sessionmaker(engine)
        city = dataset.province(dataset.ITEMS_AT_FULL_SCALE)[1].slug
        diff, git = time_diff_and_git(sessions, one_catalog.SLUG, runs)
        figures: dict[str, Any] = {
            "build": built,
            "diff": diff,
            "git_diff": git,
            "city_diff": time_diff(sessions, city, max(runs, 20)),
            "drafts": time_drafts(sessions, open_runs),
        }
    finally:
        engine.dispose()  # the merge copies use `work` as a template: no session may stay open on it
    figures["merge"] = time_merges(work, runs)
    figures["load_average"] = {"before": load_before, "after": os.getloadavg()}
    copies.drop_copy(work)
    _print(source, figures)
    return figures


@dataclass(frozen=True, slots=True)
class Verdict:
    """One line of the printed table: a figure of ours, what it is compared with, its goal."""

    what: str
    ours: str
    beside: str
    goal: str
    met: bool | None  # None: no goal


def verdicts(f: dict[str, Any]) -> list[Verdict]:
    """Return the table's lines for the figures `f` of one database."""
    diff, git, city, merge, dr = f["diff"], f["git_diff"], f["city_diff"], f["merge"], f["drafts"]
    ratio = git["median_s"] / diff["median_s"]
    commits = sorted({o["commits"] for o in merge["outcomes"]})
    one_commit = commits == [1]
    return [
        Verdict("diff 650k, v1→v2 (6,500 nodes)", _s(diff), f"git {_s(git)}: {ratio:.1f}×",
                f"≥ {GOAL_DIFF_RATIO:.0f}× faster", ratio >= GOAL_DIFF_RATIO),
        Verdict("diff city, v1→v2 (100 nodes)", _ms(city), "", f"< {GOAL_CITY_MS:.0f} ms",
                city["median_s"] * 1000 < GOAL_CITY_MS),
        Verdict("merge 1,000 changes into 650k", _s(merge), f"commits: {commits}",
                f"< {GOAL_MERGE_S:.0f} s, 1 commit", merge["median_s"] < GOAL_MERGE_S and one_commit),
        *(
            Verdict(f"open draft, {dr[k]['changes']:,} changes", _ms(dr[k]), f"first {dr[k]['shown']}",
                    f"< {GOAL_OPEN_MS:.0f} ms", dr[k]["median_s"] * 1000 < GOAL_OPEN_MS)
            for k in ("open_1000", "open_10")
        ),
        *(
            Verdict(f"read draft, all {dr[k]['changes']:,}", _ms(dr[k]), "", "—", None)
            for k in ("open_1000_all", "open_10_all")
        ),
        Verdict("create draft", _ms(dr["create"]), "", "—", None),
    ]  # fmt: skip


def _print(source: str, f: dict[str, Any]) -> None:
    print(f"\n{benchdb.display(source)} — versioning, medians; load average {f['load_average']}")
    print(f"{'':<32} {'ours':>10} {'beside':>22} {'goal':>18}  met")
    for v in verdicts(f):
        met = "" if v.met is None else ("met" if v.met else "NOT met")
        print(f"{v.what:<32} {v.ours:>10} {v.beside:>22} {v.goal:>18}  {met}")
    diff, city, build = f["diff"], f["city_diff"], f["build"]
    print(f"diff found {diff['changes']} on {diff['nodes']:,} nodes; git: {f['git_diff']['numstat']}")
    print(f"city diff found {city['changes']}")
    print(f"building v2: merge_draft of 6,500 changes took {build['merge_6500_seconds']:.2f} s (one run)")


def _s(figures: dict[str, Any]) -> str:
    return f"{figures['median_s']:.3f} s"


def _ms(figures: dict[str, Any]) -> str:
    return f"{figures['median_s'] * 1000:.1f} ms"


def save(source: str, figures: dict[str, Any]) -> None:
    """Record the database's figures in var/bench-results-versioning.json beside the other database's."""
    records: dict[str, Any] = {}
    if RESULTS_FILE.is_file():
        records = json.loads(RESULTS_FILE.read_text(encoding="utf-8"))
    records[benchdb.display(source)] = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "dataset": benchdb.read_dataset(source),
        **figures,
    }
    RESULTS_FILE.write_text(json.dumps(records, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"figures saved to {RESULTS_FILE}")


def main(argv: list[str] | None = None) -> int:
    """Measure each one-catalog database that exists; return the exit status (1: one is missing)."""
    parser = argparse.ArgumentParser(description="measure diff, merge and drafts on a 650k-node catalog")
    parser.add_argument("--database-url", action="append", help="default: both one-catalog databases")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--open-runs", type=int, default=50, help="runs of open_draft and create_draft")
    args = parser.parse_args(argv)
    status = 0
    for url in args.database_url or DEFAULT_URLS:
        if benchdb.read_dataset(url) is None:
            print(
                f"no dataset recorded for {benchdb.display(url)}: run bench/one_catalog.py", file=sys.stderr
            )
            status = 1
            continue
        save(url, measure_database(url, runs=args.runs, open_runs=args.open_runs))
    return status


if __name__ == "__main__":
    sys.exit(main())
