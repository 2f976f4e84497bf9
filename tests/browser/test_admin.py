"""The admin issues (印发) and then publishes (公开) a version from the page, at 1280 px and at 390 px."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.db.engine import make_engine, make_sessionmaker
from app.db.migrate import upgrade
from app.services.demo import load_demo
from tests.browser.conftest import screenshot, serve
from tests.databases import create_database, drop_database

Browser = Any
CATALOGS = Path(__file__).resolve().parents[2] / "catalogs"
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def admin_server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server on its own copy of the demo (these tests write: they issue and publish versions)."""
    url = create_database(backend, f"guidecat_test_admin_{os.getpid()}", tmp_path_factory.mktemp("admin"))
    upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as s:
        load_demo(s, CATALOGS)
    engine.dispose()
    yield from serve(url)
    drop_database(backend, url)


def _sign_in(page: Any, base: str) -> None:
    page.goto(f"{base}/login?next=/admin")
    page.get_by_label("用户名").fill("admin")
    page.get_by_label("密码").fill("demo-admin")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/admin")


@pytest.mark.parametrize(("width", "seq"), [("desktop", 3), ("phone", 4)])
def test_admin_issues_then_publishes_a_version(
    browser: Browser, admin_server: str, backend: str, width: str, seq: int
) -> None:
    context = browser.new_context(viewport=VIEWPORTS[width], locale="zh-CN", is_mobile=width == "phone")
    page = context.new_page()
    _sign_in(page, admin_server)
    section = page.locator("#catalog-shifanshi")
    section.get_by_label("新版本名称").fill(f"第{seq}版（浏览器测试）")
    section.get_by_role("button", name="新建编制中版本").click()
    row = page.locator(f"#version-shifanshi-{seq}")
    row.wait_for()
    assert "✎ 编制中" in row.inner_text()
    assert page.locator("#flash").inner_text().startswith(f"✓ 已新建第{seq}版")

    row.get_by_label("文号").fill("示财购 2026 1号")  # a wrong form: refused in place, in Chinese
    row.get_by_role("button", name="印发").click()
    error = page.locator(f"#err-issue-shifanshi-{seq}")
    error.wait_for()
    assert "格式不正确，应形如“示财购〔2025〕12号”" in error.inner_text()
    assert page.url.endswith("/admin")  # the page stayed; only the catalog's section was replaced

    row.get_by_label("文号").fill(f"示财购〔2026〕{seq}号")
    row.get_by_role("button", name="印发").click()
    confirm = row.get_by_role("button", name="确认印发")  # first, what it fixes for ever
    confirm.wait_for()
    assert f"文号：示财购〔2026〕{seq}号" in row.inner_text()
    assert "公开期限：" in row.inner_text()
    screenshot(page, f"admin-issue-confirm-{width}-{backend}")
    confirm.click()
    page.locator(f"#version-shifanshi-{seq}.changed").wait_for()
    toast = page.locator("#flash .toast").inner_text()
    assert toast.startswith(f"✓ 第{seq}版已印发（示财购〔2026〕{seq}号）")
    text = row.inner_text()
    assert "▣ 已印发" in text
    assert re.search(r"还剩 \d+ 个工作日", text), text
    assert row.evaluate("el => el === document.activeElement")  # focus follows the change
    screenshot(page, f"admin-issue-publish-issued-{width}-{backend}")

    row.get_by_role("button", name="立即公开").click()
    row.get_by_role("button", name="确认公开").click()
    page.wait_for_function(
        f"document.querySelector('#version-shifanshi-{seq}').innerText.includes('✓ 已公开')"
    )
    assert "公众现在可以查看" in page.locator("#flash").inner_text()
    assert "已按期公开" in row.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[width]["width"]
    screenshot(page, f"admin-issue-publish-{width}-{backend}")
    public = context.new_page()
    public.goto(f"{admin_server}/catalogs/shifanshi")
    assert f"第{seq}版（浏览器测试）" in public.content()  # the public now sees the published version
    context.close()
