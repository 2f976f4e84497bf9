"""A visitor's journey in headless Chromium: search, open a result, read its history, compare, download."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from tests.browser.conftest import screenshot

Browser = Any
CATALOG = "示范市政府购买服务指导性目录"
ITEM = "社区居家养老上门服务"  # renamed in the 2025 edition: its history has two entries


def _download(page: Any, link: Any, folder: Path) -> bytes:
    """Click `link` as a person would and return the bytes of the file the browser saved."""
    with page.expect_download() as info:
        link.click()
    target = folder / info.value.suggested_filename
    info.value.save_as(target)
    return target.read_bytes()


def test_visitor_searches_and_opens_a_result(browser: Browser, demo_server: str, backend: str) -> None:
    """Search by characters and by pinyin initials via /search?q= (built by the search work, issue 9.1)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.goto(f"{demo_server}/search?q=养老")
    results = page.locator("main a", has_text=ITEM)
    results.first.wait_for()
    page.goto(f"{demo_server}/search?q=yl")  # the pinyin initials of 养老
    result = page.locator("main a", has_text=ITEM).first
    result.wait_for()
    result.click()
    page.wait_for_load_state()
    if "/items/" not in page.url:  # a result opens its type with the item in view; its name opens the item
        target = page.locator(".item-list a.item-name", has_text=ITEM)
        assert target.is_visible()
        target.click()
        page.wait_for_load_state()
    assert page.locator("h1").inner_text() == f"A06001 {ITEM}"
    history = page.locator("table.history tbody tr")
    assert history.count() == 2
    assert "更名" in history.first.inner_text()
    screenshot(page, f"visitor-search-result-{backend}")
    page.close()


def test_visitor_reads_history_compares_versions_and_downloads_the_csv(
    browser: Browser, demo_server: str, backend: str, tmp_path: Path
) -> None:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True
    )
    page = context.new_page()
    page.goto(demo_server)
    page.get_by_role("link", name=CATALOG, exact=True).click()
    page.wait_for_load_state()
    # open an item from the tree and read its history
    page.locator("a.type-toggle", has_text="养老服务").first.click()
    page.locator(".item-list a.item-name", has_text="社区居家养老上门服务").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "A06001 社区居家养老上门服务"
    history = page.locator("table.history tbody tr")
    assert history.count() == 2
    newest = history.nth(0).inner_text()
    assert "2025年版" in newest
    assert "更名" in newest
    assert "社区居家养老服务" in history.nth(0).locator("del").first.inner_text()
    assert "首次列入" in history.nth(1).inner_text()
    screenshot(page, f"visitor-item-history-{backend}")
    # compare two versions through the form
    page.locator("nav.crumbs a", has_text=CATALOG).click()
    page.wait_for_load_state()
    page.get_by_role("link", name="本版与2024年版相比的变动").click()
    page.wait_for_load_state()
    page.get_by_label("旧版本").select_option("1")
    page.get_by_label("新版本").select_option("2")
    page.get_by_role("button", name="比较").click()
    page.wait_for_load_state()
    assert page.url.endswith("/catalogs/shifanshi/changes?from=1&to=2")
    assert "145个目录条目有变动" in page.locator(".change-summary h2").inner_text()
    withdrawn = page.locator("li.change.is-withdrawn", has_text="中小学生暑期托管服务")
    assert withdrawn.locator(".kind").inner_text() == "撤销"
    screenshot(page, f"visitor-changes-{backend}")
    # download the change table and the whole version as CSV; both open as UTF-8 with a BOM
    table = _download(page, page.locator(".downloads a", has_text="CSV"), tmp_path)
    assert table.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(table[3:].decode("utf-8"))))
    assert rows[0][:3] == ["变动类型", "原目录编码", "原名称"]
    assert len(rows) == 1 + 145
    page.go_back()
    page.locator("nav.crumbs a", has_text=CATALOG).click()
    page.wait_for_load_state()
    data = _download(page, page.locator(".downloads a", has_text="CSV"), tmp_path)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data[3:].decode("utf-8")  # strict: any byte that is not UTF-8 fails here
    items = list(csv.reader(io.StringIO(text)))
    assert items[0][:4] == ["序号", "目录编码", "一级目录", "二级目录"]
    assert any(r[4] == "社区居家养老上门服务" for r in items[1:])
    context.close()


def test_comparing_works_without_javascript(browser: Browser, demo_server: str) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{demo_server}/catalogs/shifanshi/changes")
    page.get_by_label("旧版本").select_option("2")
    page.get_by_role("button", name="比较").click()
    page.wait_for_load_state()
    assert page.url.endswith("/catalogs/shifanshi/changes?from=2&to=2")
    assert page.locator("p.empty").inner_text() == "两个版本之间没有变动。"
    context.close()


def test_print_view_paginates_with_the_header_on_every_page(browser: Browser, demo_server: str) -> None:
    page = browser.new_page(locale="zh-CN")
    page.goto(f"{demo_server}/catalogs/shifanshi/versions/2/print")
    assert page.locator("tbody tr").count() > 1800
    page.emulate_media(media="print")
    assert page.locator("nav.screen-only").is_hidden()
    assert page.locator("thead .running-head").is_visible()  # 文号 and date repeat with the header
    pdf = page.pdf(prefer_css_page_size=True)
    page.close()
    assert pdf.startswith(b"%PDF")
    pages = pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page>") + pdf.count(b"/Type /Page ")
    assert pages > 20  # 1,800 rows do not fit a few pages
