"""Twenty clients editing one draft against two uvicorn workers: nothing lost, nothing but 200 and 409.

A short run here on each database; `bench/concurrency.py --seconds 30` is the long run for the note.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.db.engine import make_engine, make_sessionmaker
from app.db.migrate import upgrade
from app.services.demo import load_demo
from tests.databases import create_database, drop_database
from tests.paths import CATALOGS, ROOT


@pytest.fixture
def demo_db(backend: str, tmp_path: Path) -> str:
    url = create_database(backend, f"guidecat_test_concurrency_{os.getpid()}", tmp_path)
    upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        load_demo(session, CATALOGS)
    engine.dispose()
    yield url  # type: ignore[misc]
    drop_database(backend, url)


def test_twenty_clients_lose_no_acknowledged_edit(demo_db: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "bench/concurrency.py",
            "--database-url",
            demo_db,
            "--seconds",
            "10",
            "--clients",
            "20",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    report = json.loads(result.stdout)
    assert set(report["statuses"]) <= {"200", "409"}, report
    assert report["client_failures"] == {}, report  # no request hung or dropped
    assert report["lost"] == []
    assert report["lock_matches_acknowledged"], report
    assert (
        report["acknowledged"] >= 10
    )  # enough edits went through to mean something (~100 on a quiet machine)
    assert report["statuses"].get("409", 0) > 0  # they really did collide
    assert result.returncode == 0
