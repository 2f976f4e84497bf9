"""Timing one run in a process of its own: wall and CPU seconds, peak RSS, and recording the figures.

A run of ours is a child Python process that times its work alone (not the imports) and
reports on stdout; a baseline (sqlite3, psql) is timed from outside, its CPU from wait4.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import benchdb

RESULTS_FILE = benchdb.DATASET_FILE.with_name("bench-results-io.json")


@dataclass(frozen=True, slots=True)
class Run:
    """One timed run: wall and CPU seconds, rows written; peak RSS for our own runs only."""

    seconds: float
    cpu: float
    rows: int = 0
    rss_mb: float = 0.0
    rss_before_mb: float = 0.0  # after the imports, before the work


def peak_rss_mb() -> float:
    """Return this process's peak resident set since its exec (VmHWM), in MB.

    Not getrusage: a child's ru_maxrss also counts the parent's memory it was forked with.
    """
    status = Path("/proc/self/status")
    for line in status.read_text().splitlines() if status.is_file() else []:
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(work: Callable[[], int]) -> None:
    """In a child: run `work` (it returns the rows it wrote), print its Run as JSON on stdout."""
    before = peak_rss_mb()
    wall, cpu = time.perf_counter(), time.process_time()
    rows = work()
    seconds, cpu = time.perf_counter() - wall, time.process_time() - cpu
    run = Run(seconds, cpu, rows, rss_mb=peak_rss_mb(), rss_before_mb=before)
    print(json.dumps(asdict(run)))


def run_child(script: Path, *args: str) -> Run:
    """Return the Run that `script` (calling `report` when given `args`) prints."""
    done = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{script.name} {' '.join(args)} failed:\n{done.stderr}")
    return Run(**json.loads(done.stdout.splitlines()[-1]))


def run_command(command: list[str], stdin: Path) -> Run:
    """Return one run of `command` reading `stdin`, its output thrown away."""
    started = time.perf_counter()
    with stdin.open("rb") as source, open(os.devnull, "wb") as devnull:
        proc = subprocess.Popen(command, stdin=source, stdout=devnull)
        _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise RuntimeError(f"{command[0]} failed with status {status}")
    return Run(time.perf_counter() - started, usage.ru_utime + usage.ru_stime)


def median(runs: list[Run]) -> dict[str, float]:
    """Return the median times of `runs`, their largest peak RSS and row count."""
    return {
        "seconds": round(statistics.median(r.seconds for r in runs), 3),
        "cpu": round(statistics.median(r.cpu for r in runs), 3),
        "rss_mb": round(max(r.rss_mb for r in runs), 1),
        "rss_before_mb": round(max(r.rss_before_mb for r in runs), 1),
        "rows": max(r.rows for r in runs),
    }


def save(url: str, part: str, figures: dict[str, Any]) -> None:
    """Record `part` ("export", "import") of the database's figures in var/bench-results-io.json."""
    records: dict[str, Any] = {}
    if RESULTS_FILE.is_file():
        records = json.loads(RESULTS_FILE.read_text(encoding="utf-8"))
    record = records.setdefault(benchdb.display(url), {})
    record.update(
        at=datetime.now(UTC).isoformat(timespec="seconds"),
        machine=f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        dataset=benchdb.read_dataset(url),
        load_average=os.getloadavg(),
    )
    record[part] = figures
    RESULTS_FILE.write_text(json.dumps(records, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"figures saved to {RESULTS_FILE}")
