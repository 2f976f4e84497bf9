"""Search as a visitor uses it: type a word or pinyin, see the hits marked, open one in its tree."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from tests.browser.conftest import screenshot

Browser = Any


def test_visitor_searches_and_opens_a_hit_in_the_tree(
    browser: Browser, demo_server: str, backend: str
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.goto(f"{demo_server}/search")
    box = page.get_by_label("关键词")
    box.fill("养老")  # no Enter: the results follow the typing
    page.locator("#search-results .hit").first.wait_for()
    assert page.locator("#search-results mark", has_text="养老").count() > 5
    assert "q=%E5%85%BB%E8%80%81" in page.url  # the address can be shared
    box.fill("yl")
    page.locator("#search-results .summary").filter(has_text="找到").wait_for()
    page.wait_for_function(
        "document.querySelector('#search-results').textContent.includes('城乡居民养老保险')"
    )
    hit = page.locator("#search-results a.hit-name").filter(has_text="养老").first
    assert hit.locator("mark").first.inner_text() == "养老"  # yl marks the two characters it spells
    screenshot(page, "search" if backend == "sqlite" else f"search-{backend}")
    name = hit.inner_text().split(" ", 1)[1]
    href = hit.get_attribute("href")
    uid = href.rsplit("#item-", 1)[1]
    hit.click()
    page.wait_for_load_state()
    assert "/types/" in page.url
    assert unquote(page.url).endswith(f"#item-{uid}")
    opened = page.locator(f'.item-list a.item-name[href*="/items/{uid}"]')
    assert opened.is_visible()  # the hit's type is open in the tree and the hit is in it
    assert name in opened.inner_text()
    # and the page is scrolled to it: the anchored item is inside the viewport
    top = page.evaluate(f"document.getElementById('item-{uid}').getBoundingClientRect().top")
    assert 0 <= top < page.viewport_size["height"]
    assert page.evaluate("window.scrollY") > 0
    page.close()


def test_without_javascript_the_form_still_searches(browser: Browser, demo_server: str) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{demo_server}/search")
    page.get_by_label("关键词").fill("保洁")
    with page.expect_navigation():
        page.get_by_role("button", name="搜索").click()
    assert page.locator("#search-results .hit").count() > 3
    assert page.locator("#search-results mark").first.inner_text() == "保洁"
    context.close()
