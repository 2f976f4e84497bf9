"""The public tree as a person uses it: desktop and phone, with and without JavaScript."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import screenshot

Browser = Any


def test_type_expands_in_place_and_closes_again(browser: Browser, demo_server: str, backend: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.goto(f"{demo_server}/catalogs/shifanshi")
    assert page.locator("h1").inner_text() == "示范市政府购买服务指导性目录"
    toggle = page.locator("a.type-toggle", has_text="养老服务").first
    type_li = toggle.locator("xpath=..")
    toggle.click()
    items = type_li.locator(".item-list .item")
    items.first.wait_for()
    assert items.count() > 5
    assert toggle.get_attribute("aria-expanded") == "true"
    assert page.url.endswith("/catalogs/shifanshi")  # expanded in place, no navigation
    screenshot(page, f"public-tree-desktop-{backend}")
    toggle.click()
    assert type_li.locator(".item-list").count() == 0
    assert toggle.get_attribute("aria-expanded") == "false"
    page.close()


def test_phone_width_has_no_sideways_scrolling(browser: Browser, demo_server: str, backend: str) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    page.goto(f"{demo_server}/catalogs/shifanshi")
    page.locator("a.type-toggle", has_text="社会救助").first.click()
    page.locator(".item-list .item").first.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    font_px = float(
        page.evaluate("getComputedStyle(document.querySelector('.item-name')).fontSize").rstrip("px")
    )
    assert font_px >= 14
    screenshot(page, f"public-tree-phone-{backend}")
    page.close()


def test_without_javascript_the_type_is_a_link(browser: Browser, demo_server: str) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{demo_server}/catalogs/shifanshi")
    page.locator("a.type-toggle", has_text="养老服务").first.click()
    page.wait_for_load_state()
    assert "/types/" in page.url
    assert page.locator(".item-list .item").count() > 5
    first_item = page.locator(".item-list .item a.item-name").first
    name = first_item.inner_text()
    first_item.click()
    page.wait_for_load_state()
    assert name.split(" ", 1)[1] in page.locator("h1").inner_text()
    context.close()


def test_changes_and_item_pages_fit_a_phone(browser: Browser, demo_server: str, backend: str) -> None:
    from app.services.catalogs.authoring import stable_uid

    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    for name, path in (
        ("changes", "/catalogs/shifanshi/changes"),
        ("item", f"/catalogs/shifanshi/items/{stable_uid('shifanshi', 'item', 'i0233')}"),
    ):
        page.goto(f"{demo_server}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, name
        screenshot(page, f"public-{name}-phone-{backend}")
    page.close()
