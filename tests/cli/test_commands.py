"""`guidecat` as a person runs it: real processes, DATABASE_URL honoured, clear errors without tracebacks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.databases import create_database, drop_database
from tests.paths import ROOT

GUIDECAT = [sys.executable, "-m", "app.cli"]


def run(*args: str, url: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run(
        [*GUIDECAT, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture
def fresh_url(backend: str, tmp_path: Path) -> Iterator[str]:
    url = create_database(backend, f"guidecat_test_cli_{os.getpid()}", tmp_path)
    yield url
    drop_database(backend, url)


def test_upgrade_then_demo_load_is_idempotent(fresh_url: str) -> None:
    up = run("db", "upgrade", url=fresh_url)
    assert up.returncode == 0, up.stderr
    first = run("demo", "load", "--if-empty", "--print-logins", url=fresh_url)
    assert first.returncode == 0, first.stderr
    assert "已载入示范目录 shifanshi" in first.stdout
    assert "admin" in first.stdout
    assert "finance_admin" in first.stdout
    assert "minzheng" in first.stdout
    assert "dept_editor" in first.stdout
    second = run("demo", "load", "--print-logins", url=fresh_url)
    assert second.returncode == 0, second.stderr
    assert "已存在，未重复载入" in second.stdout
    assert "reviewer" in second.stdout  # the logins are printed every time `make run` starts


def test_unreachable_database_is_a_message_not_a_traceback() -> None:
    result = run("db", "upgrade", url="postgresql+psycopg://nobody@127.0.0.1:1/nowhere", timeout=60)
    assert result.returncode == 1
    assert result.stderr.startswith("错误：")
    assert "Traceback" not in result.stderr


def test_usage_errors_exit_2_with_usage() -> None:
    result = run("demo", "unload", url="sqlite:///:memory:")
    assert result.returncode == 2
    assert "usage: guidecat demo" in result.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_over_real_http(fresh_url: str) -> None:
    assert run("db", "upgrade", url=fresh_url).returncode == 0
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": fresh_url}
    server = subprocess.Popen(
        [*GUIDECAT, "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        body = ""
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    body = response.read().decode()
                break
            except OSError:
                time.sleep(0.1)
        assert "政府购买服务指导性目录" in body
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_diff_user_and_token_commands(fresh_url: str) -> None:
    assert run("db", "upgrade", url=fresh_url).returncode == 0
    assert run("demo", "load", url=fresh_url).returncode == 0
    text = run("diff", "--catalog", "shifanshi", "--from", "1", "--to", "2", url=fresh_url)
    assert text.returncode == 0, text.stderr
    assert (
        "更名\tA01001 义务教育阶段课后服务 → A01001 义务教育阶段课后延时服务（名称、说明）\t教育局"
        in text.stdout
    )
    table = run(
        "diff", "--catalog", "shifanshi", "--from", "1", "--to", "2", "--format", "csv", url=fresh_url
    )
    rows = [line.split(",") for line in table.stdout.splitlines()]
    assert rows[0] == [
        "变动类型",
        "原目录编码",
        "原名称",
        "新目录编码",
        "新名称",
        "购买主体",
        "调整内容",
        "uid",
    ]
    assert all(len(r) == 8 for r in rows)
    assert {r[0] for r in rows[1:]} >= {"新增", "撤销", "移动", "更名", "内容调整"}
    missing = run("diff", "--catalog", "shifanshi", "--from", "1", "--to", "9", url=fresh_url)
    assert (missing.returncode, missing.stderr.strip()) == (
        1,
        "错误：目录“示范市政府购买服务指导性目录”没有第9版",
    )

    env = {**os.environ, "DATABASE_URL": fresh_url}
    add = subprocess.run(
        [*GUIDECAT, "user", "add", "wangfang", "--role", "dept_editor", "--department", "106"],
        cwd=ROOT,
        env=env,
        input="a-long-password\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert add.returncode == 0, add.stderr
    no_dept = subprocess.run(
        [*GUIDECAT, "user", "add", "lisi", "--role", "dept_editor"],
        cwd=ROOT,
        env=env,
        input="a-long-password\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert (no_dept.returncode, no_dept.stderr.strip()) == (1, "错误：部门经办人必须指定所属部门")
    token = run("token", "create", "wangfang", url=fresh_url)
    assert token.returncode == 0
    assert token.stdout.startswith("gc_")
    assert len(token.stdout.strip()) > 40
    assert run("token", "create", "nobody", url=fresh_url).returncode == 1
    number = token.stderr.split("令牌编号 ")[1].split("（")[0]
    assert run("token", "revoke", number, url=fresh_url).returncode == 0
    disabled = run("user", "disable", "wangfang", url=fresh_url)
    assert (disabled.returncode, "已停用用户 wangfang" in disabled.stdout) == (0, True)
    reset = subprocess.run(
        [*GUIDECAT, "user", "reset-password", "wangfang"],
        cwd=ROOT,
        env=env,
        input="short\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert (reset.returncode, reset.stderr.strip()) == (1, "错误：密码至少 8 位")


def test_without_a_configured_key_each_installation_makes_its_own(tmp_path: Path) -> None:
    from app.config import _local_secret

    path = tmp_path / "var" / "secret_key"
    first = _local_secret(path)
    assert len(first) > 40
    assert _local_secret(path) == first  # every worker and every restart reads the same key
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert first != _local_secret(tmp_path / "other" / "secret_key")


def test_publish_static_writes_public_versions_and_refuses_others(fresh_url: str, tmp_path: Path) -> None:
    from app.db.engine import make_engine, make_sessionmaker
    from tests.factories import ELDERLY, Item, published_catalog

    assert run("db", "upgrade", url=fresh_url).returncode == 0
    engine = make_engine(fresh_url)
    with make_sessionmaker(engine)() as session:
        published_catalog(session, ELDERLY, later=[Item("n1", "A06", "老年助餐服务点运营")], status="issued")
    engine.dispose()
    refused = run(
        "publish-static", "--catalog", "ceshi", "--version", "2", "--out", str(tmp_path / "x"), url=fresh_url
    )
    assert refused.returncode == 1
    assert refused.stderr.startswith("错误：第2版（2025年版）尚未公开，不能发布为静态网站")
    assert "Traceback" not in refused.stderr
    unknown = run("publish-static", "--catalog", "nowhere", "--out", str(tmp_path / "x"), url=fresh_url)
    assert (unknown.returncode, unknown.stderr.strip()) == (1, "错误：没有找到目录“nowhere”")
    out = tmp_path / "site"
    done = run("publish-static", "--catalog", "ceshi", "--out", str(out), url=fresh_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"已发布静态网站到 {out}：")
    pages = [p.read_text("utf-8") for p in (out / "catalogs" / "ceshi").rglob("index.html")]
    assert any("社区居家养老服务" in page for page in pages)
    assert not any("老年助餐服务点运营" in page for page in pages)
    assert not (out / "catalogs" / "ceshi" / "versions" / "2").exists()
    assert (out / "api" / "v1" / "catalogs" / "ceshi" / "versions" / "1" / "nodes.csv").read_bytes()[:3] == (
        b"\xef\xbb\xbf"
    )


def test_search_update_and_reindex(fresh_url: str) -> None:
    from app.db.engine import make_engine, make_sessionmaker
    from tests.factories import ELDERLY, published_catalog

    assert run("db", "upgrade", url=fresh_url).returncode == 0
    engine = make_engine(fresh_url)
    with make_sessionmaker(engine)() as session:
        published_catalog(session, ELDERLY)
    engine.dispose()
    update = run("search", "update", url=fresh_url)  # the factory publishes without indexing
    assert update.returncode == 0, update.stderr
    assert update.stdout.strip() == f"已为尚未编入索引的已公开版本建立索引：{len(ELDERLY)} 个条目"
    again = run("search", "update", url=fresh_url)
    assert again.stdout.strip() == "已为尚未编入索引的已公开版本建立索引：0 个条目"
    done = run("search", "reindex", url=fresh_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("已重建全部已公开版本的搜索索引：")
    assert int(done.stdout.split("：")[1].split(" ")[0]) >= len(ELDERLY)
    one = run("search", "reindex", "--catalog", "ceshi", url=fresh_url)
    assert one.returncode == 0, one.stderr
    assert "目录 ceshi 的" in one.stdout
    missing = run("search", "reindex", "--catalog", "nowhere", url=fresh_url)
    assert (missing.returncode, missing.stderr.strip()) == (1, "错误：没有找到目录“nowhere”")
