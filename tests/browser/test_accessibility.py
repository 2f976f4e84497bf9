"""axe-core (vendored) in headless Chromium: no serious or critical violations on the public pages."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.services.catalogs.authoring import stable_uid
from tests.browser.conftest import ROOT

Browser = Any
AXE = ROOT / "static" / "axe-core-4.14.1.min.js"
BLOCKING = ("serious", "critical")
ITEM = stable_uid("shifanshi", "item", "i0233")  # renamed in 2025: a history with two entries
WITHDRAWN = stable_uid("shifanshi", "item", "i0067")

PAGES = {
    "home": "/",
    "catalog": "/catalogs/shifanshi",
    "item": f"/catalogs/shifanshi/items/{ITEM}",
    "withdrawn-item": f"/catalogs/shifanshi/items/{WITHDRAWN}",
    "changes": "/catalogs/shifanshi/changes",
    "search": "/search?q=养老",  # the search page of issue 9.1, with results
}
# Not the print view: axe takes ~40 s over its 1,800-row table, and it is not one of the pages
# people browse; tests/browser/test_visitor_journey.py checks how it prints.


def blocking_violations(page: Any) -> list[dict[str, Any]]:
    """Run axe on the page as it stands and return its serious and critical violations."""
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate("async () => await axe.run(document)")
    return [v for v in result["violations"] if v["impact"] in BLOCKING]


def report(violations: list[dict[str, Any]]) -> str:
    """Return the violations as readable lines: rule, impact, help and the offending elements."""
    lines = []
    for v in violations:
        targets = [json.dumps(n["target"], ensure_ascii=False) for n in v["nodes"][:5]]
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} — {', '.join(targets)}")
    return "\n".join(lines)


@pytest.mark.parametrize("name", PAGES)
def test_public_page_has_no_serious_violations(browser: Browser, demo_server: str, name: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    response = page.goto(f"{demo_server}{PAGES[name]}")
    assert response.status == 200
    if name == "catalog":  # the items arrive by htmx: check them too
        page.locator("a.type-toggle", has_text="养老服务").first.click()
        page.locator(".item-list .item").first.wait_for()
    found = blocking_violations(page)
    page.close()
    assert not found, f"axe found serious violations on {name}:\n{report(found)}"


def test_axe_does_find_a_violation(browser: Browser, demo_server: str) -> None:
    # the check can fail: an image without a text alternative is a critical violation
    page = browser.new_page()
    page.goto(f"{demo_server}/")
    page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=\"/x.png\">')")
    found = blocking_violations(page)
    page.close()
    assert [v["id"] for v in found] == ["image-alt"]
