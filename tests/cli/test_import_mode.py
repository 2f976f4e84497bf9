"""`guidecat import … --mode`: a file adds and updates by default; it replaces a department's list only
when asked, saying how many items that withdraws."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db.models import DraftChange
from app.services.demo import load_demo
from tests.paths import CATALOGS, ROOT
from tests.services.imports.workbooks import Row, department_xlsx

BATHING = Row("基本公共服务", "养老服务", "老年人助浴上门服务", "为失能老年人提供上门助浴和皮肤护理服务。")


def guidecat(*args: str, settings: Settings) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": settings.database_url}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip


@pytest.fixture
def civil_file(session: Session, tmp_path: Path) -> Path:
    """The demo loaded, and 民政局's one-row file on disk."""
    load_demo(session, CATALOGS)
    path = tmp_path / "民政局新增.xlsx"
    path.write_bytes(department_xlsx("民政局2026年政府购买服务目录（新增）", [BATHING]))
    return path


def test_by_default_a_file_withdraws_nothing(civil_file: Path, settings: Settings) -> None:
    dry = guidecat(
        "import", str(civil_file), "--catalog", "shifanshi", "--department", "106", "--dry-run",
        settings=settings,
    )  # fmt: skip
    assert dry.returncode == 0, dry.stderr
    assert "校验通过：1 行；新增 1，修改 0，撤销 0（只新增和修改）（试导入，未写入）" in dry.stdout


def test_replace_says_how_many_it_withdraws_and_writes_them_when_asked(
    civil_file: Path, settings: Settings, session: Session
) -> None:
    args = ["import", str(civil_file), "--catalog", "shifanshi", "--department", "106", "--mode", "replace"]
    dry = guidecat(*args, "--dry-run", settings=settings)
    assert dry.returncode == 0, dry.stderr
    assert "新增 1，修改 0，撤销 108（替换本部门全部条目）（试导入，未写入）" in dry.stdout
    made = guidecat(*args, settings=settings)
    assert made.returncode == 0, made.stderr
    assert "已生成草稿 #" in made.stdout
    withdrawn = select(func.count()).where(DraftChange.kind == "delete")
    assert session.scalar(withdrawn) == 108


def test_an_unknown_mode_is_a_usage_error(civil_file: Path, settings: Settings) -> None:
    wrong = guidecat("import", str(civil_file), "--catalog", "shifanshi", "--mode", "all", settings=settings)
    assert wrong.returncode == 2
    assert "add_update" in wrong.stderr
    assert "Traceback" not in wrong.stderr
