"""`make bench`: build the datasets that are missing, then measure the pages and the search on each database.

    .venv/bin/python bench/run_all.py [--seconds 10] [--runs 3]
    BENCH_PG=1 .venv/bin/python bench/run_all.py   # PostgreSQL too (guidecat_bench on 127.0.0.1)

The databases are fixed (var/bench.db and guidecat_bench) on purpose: building one drops
what it held, so this script never takes a URL from the environment.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import benchdb

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    """Run generate (where no dataset is recorded) and pages on each database; return the worst status."""
    parser = argparse.ArgumentParser(description="build the benchmark datasets and measure the pages")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--no-search", action="store_true", help="skip search.py (it indexes a copy: minutes)"
    )
    args = parser.parse_args(argv)
    databases = [benchdb.SQLITE_URL]
    if os.environ.get("BENCH_PG") == "1":
        databases.append(benchdb.POSTGRES_URL)
    status = 0
    for url in databases:
        if benchdb.read_dataset(url) is None and _run("generate.py", "--database-url", url, "--force") != 0:
            return 1
        pages = _run(
            "pages.py", "--database-url", url, "--seconds", str(args.seconds), "--runs", str(args.runs)
        )
        status = max(status, pages)
        if not args.no_search:
            status = max(status, _run("search.py", "--database-url", url, "--rounds", str(args.runs)))
    return status


def _run(script: str, *args: str) -> int:
    print(f"\n### {script} {' '.join(args)}", flush=True)
    return subprocess.run([sys.executable, str(HERE / script), *args], check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
