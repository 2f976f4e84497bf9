"""The finance admin loads a year's holiday notice from the calendar page, in real Chromium.

A file with mistakes is refused with every problem listed; a good one is previewed as month grids
and loaded only when confirmed. The year is 2099, FICTIONAL, so the test means the same whatever
chinesecalendar version is installed and whatever today's date is.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import screenshot
from tests.browser.pages import login, writable_demo_server
from tests.browser.test_accessibility import blocking_violations, report

Browser = Any
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _year_file(
    folder: Path,
    name: str,
    holidays: dict[str, list[str]],
    make_up: list[str],
    source: str = "虚构测试数据（FICTIONAL）",
) -> Path:
    doc = {
        "year": 2099,
        "source": source,
        "holidays": [{"name": holiday, "days": days} for holiday, days in holidays.items()],
        "make_up_workdays": make_up,
    }
    path = folder / name
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def calendar_server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from writable_demo_server(backend, tmp_path_factory.mktemp("calendar"), "calendar")


def test_admin_previews_then_loads_a_year(
    browser: Browser, calendar_server: str, backend: str, tmp_path: Path
) -> None:
    # a source and a holiday name too long to store: both are listed (the parser itself stops at its
    # first mistake, so the two are of the kind checked after it)
    bad = _year_file(
        tmp_path, "bad.json", {"虚构元旦": ["2099-01-01"], "长" * 33: ["2099-05-01"]}, [], "长" * 301
    )
    good = _year_file(
        tmp_path,
        "2099.json",
        {"虚构元旦": ["2099-01-01", "2099-01-02"], "虚构春节": ["2099-01-21"]},
        ["2099-01-04"],
    )
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    login(page, calendar_server, "admin", next="/admin")
    page.get_by_role("navigation", name="管理").get_by_role("link", name="工作日历").click()
    page.wait_for_url(f"{calendar_server}/admin/calendar")
    assert page.locator("table.calendar-month").count() == 12
    found = blocking_violations(page)
    assert not found, f"axe found serious violations on the calendar page:\n{report(found)}"

    page.locator("#calendar-file").set_input_files(str(bad))
    page.get_by_role("button", name="预览").click()
    error = page.locator("#err-load-calendar")
    error.wait_for()
    problems = error.locator("li").all_inner_texts()
    assert problems == [
        "2099年节假日安排：来源不能超过300个字",
        f"2099年节假日安排：节日名称“{'长' * 33}”超过32个字",
    ]
    assert page.url.endswith("/admin/calendar")  # refused in place

    page.locator("#calendar-file").set_input_files(str(good))
    page.get_by_role("button", name="预览").click()
    confirm = page.get_by_role("button", name="确认载入")
    confirm.wait_for()
    assert "确认载入2099年工作日历？" in page.locator(".confirm").inner_text()
    january = page.locator("table.calendar-month", has=page.locator("caption", has_text="2099年1月"))
    assert january.locator("td.cal-rest").first.inner_text().split() == ["1", "休", "虚构元旦"]
    assert january.locator("td.cal-make_up").inner_text().split() == ["4", "班"]
    screenshot(page, f"admin-calendar-preview-desktop-{backend}")
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, f"admin-calendar-preview-phone-{backend}")
    page.set_viewport_size(DESKTOP)

    confirm.click()
    page.locator("#year-2099.changed").wait_for()
    assert (
        page.locator("#flash .toast")
        .inner_text()
        .startswith("✓ 已载入2099年工作日历：放假 3 天，调休上班 1 天")
    )
    assert "2099年1月" in page.locator("table.calendar-month caption").first.inner_text()
    screenshot(page, f"admin-calendar-loaded-desktop-{backend}")
    page.reload()
    assert "admin" in page.locator("#year-2099").inner_text()  # who loaded it, after a reload too
    context.close()
