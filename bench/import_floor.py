"""How fast could an import be with the draft's storage as it is? The bare writes, timed.

    .venv/bin/python bench/import_floor.py [--runs 3]

An import of a whole file into an empty catalog writes, at the least, one `nodes` row and one
`draft_changes` row (its proposed state as JSON) per item. This times only that, on SQLite,
through the sqlite3 module with no validation, screening or planning: read the CSV that
`io.py --part import` uses (var/bench-import.csv), make each row's state JSON as the app
does (`draft_store.state_json`), insert the nodes, read their ids back, insert the changes,
commit, into a freshly migrated database, in a child process per run. Beside it, the
`sqlite3` command-line tool's `.import` of the same file into a plain table, as in io.py.

If this floor alone is over four times `.import`, no tuning of the import's Python code can
meet issue 3's import goal on SQLite: the storage shape of a draft has to change.
"""

from __future__ import annotations

import argparse
import csv
import json
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from app.catalog.nodes import Level, NodeState
from app.db.draft_store import state_json
from app.db.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
CSV_FILE = ROOT / "var" / "bench-import.csv"
SCRIPT = Path(__file__).resolve()
GOAL = 4.0


def child(path: str) -> None:
    """Write each row of CSV_FILE as a node and an 'add' change into the database at `path`; print timings."""
    spent: dict[str, float] = {}
    start = time.perf_counter()
    with CSV_FILE.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))[1:]
    spent["read the CSV"] = time.perf_counter() - start
    mark = time.perf_counter()
    payloads = [
        state_json(
            NodeState(
                r[9],
                "0" * 16,
                Level.SUBITEM if r[5] else Level.ITEM,
                r[1],
                r[5] or r[4],
                r[6],
                r[7],
                n * 10,
                {},
            )
        )
        for n, r in enumerate(rows, 1)
    ]
    spent["make the state JSON"] = time.perf_counter() - mark
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA cache_size=-65536")
    db.execute("INSERT INTO jurisdictions (code, name, level) VALUES ('999999', '基准', 'city')")
    db.execute(
        "INSERT INTO catalogs (jurisdiction_id, slug, name, framework, publication_period_days) "
        "VALUES (1, 'floor', '基准', 'six_class', 10)"
    )
    db.execute("INSERT INTO versions (catalog_id, seq, label, status) VALUES (1, 1, '基准', 'assembling')")
    db.execute(
        "INSERT INTO drafts (catalog_id, base_version_id, title, status, lock_version) "
        "VALUES (1, 1, '基准', 'editing', 1)"
    )
    mark = time.perf_counter()
    db.executemany("INSERT INTO nodes (catalog_id, uid) VALUES (1, ?)", ((r[9],) for r in rows))
    spent["insert nodes"] = time.perf_counter() - mark
    mark = time.perf_counter()
    ids = dict(db.execute("SELECT uid, id FROM nodes WHERE catalog_id = 1").fetchall())
    spent["read node ids"] = time.perf_counter() - mark
    mark = time.perf_counter()
    db.executemany(
        "INSERT INTO draft_changes (draft_id, node_id, kind, base_revision_id, fields) "
        "VALUES (1, ?, 'add', NULL, ?)",
        ((ids[r[9]], p) for r, p in zip(rows, payloads, strict=True)),
    )
    spent["insert draft changes"] = time.perf_counter() - mark
    mark = time.perf_counter()
    db.commit()
    spent["commit"] = time.perf_counter() - mark
    spent["total"] = time.perf_counter() - start
    print(json.dumps(spent))


def main(argv: list[str] | None = None) -> int:
    """Run the floor and `.import` alternately; print medians and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child)
        return 0
    if not CSV_FILE.is_file():
        print(
            f"{CSV_FILE} is missing: run bench/one_catalog.py, then bench/io.py --part import",
            file=sys.stderr,
        )
        return 1
    floors: list[dict[str, float]] = []
    tool: list[float] = []
    with tempfile.TemporaryDirectory(prefix="guidecat-floor-") as folder:
        for n in range(args.runs):
            db = Path(folder) / f"floor-{n}.db"
            upgrade(f"sqlite:///{db}")
            done = subprocess.run(
                [sys.executable, str(SCRIPT), "--child", str(db)], capture_output=True, text=True, check=True
            )
            floors.append(json.loads(done.stdout.strip().splitlines()[-1]))
            plain = Path(folder) / f"plain-{n}.db"
            started = time.perf_counter()
            subprocess.run(
                ["sqlite3", str(plain)], input=f".mode csv\n.import {CSV_FILE} t\n", text=True, check=True
            )
            tool.append(time.perf_counter() - started)
    median = {k: statistics.median(f[k] for f in floors) for k in floors[0]}
    base = statistics.median(tool)
    print(f"bare writes of an import of {CSV_FILE.name} into a fresh SQLite database, median of {args.runs}:")
    for label, seconds in median.items():
        print(f"    {label:<24} {seconds:7.2f} s")
    writes = median["total"] - median["read the CSV"] - median["make the state JSON"]
    print(f"sqlite3 .import of the same file: {base:.2f} s")
    ratio, alone = median["total"] / base, writes / base
    print(f"floor ÷ .import: {ratio:.2f}× (the writes alone: {alone:.2f}×); goal ≤ {GOAL:.0f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
