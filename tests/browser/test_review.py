"""The review desk as a finance reviewer uses it: real Chromium, a real server, a database of its own.

The queue, a draft's diff tree, a comment from the keyboard, a return refused without a reason and
then given one, an approval; the merge page with its conflicts resolved and the merge made.
At 1280 px and at 390 px.
"""

from __future__ import annotations

import os
import re
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.db.engine import make_engine, make_sessionmaker
from app.db.migrate import upgrade
from app.services.review import workflow as review
from tests.browser.conftest import screenshot, serve
from tests.browser.pages import login
from tests.databases import create_database, drop_database
from tests.http.web.test_review import conflict_world, lock_of, review_world, user
from tests.workflow_world import PASSWORD

Browser = Any
Page = Any
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@dataclass(frozen=True)
class Site:
    base: str
    url: str
    draft: int


def _site(backend: str, folder: Path, name: str, build: Callable[[Session], int]) -> Iterator[Site]:
    url = create_database(backend, f"guidecat_test_{name}_{os.getpid()}", folder)
    upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        draft = build(session)
    engine.dispose()
    try:
        for base in serve(url):
            _wait_until_up(base)
            yield Site(base, url, draft)
    finally:
        drop_database(backend, url)


def _wait_until_up(base: str) -> None:
    """Wait for the server a little longer than `serve` does: on a loaded machine it can start slowly."""
    for _ in range(600):
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=2).close()
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"the server at {base} did not start")


@pytest.fixture(scope="module")
def review_site(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    yield from _site(
        backend, tmp_path_factory.mktemp("review"), "review", lambda s: review_world(s).submitted
    )


@pytest.fixture(scope="module")
def merge_site(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    yield from _site(backend, tmp_path_factory.mktemp("merge"), "merge", lambda s: conflict_world(s)[1])


def _resubmit(site: Site) -> None:
    """The department sends the returned draft back (its own step, done here through the service)."""
    engine = make_engine(site.url)
    with make_sessionmaker(engine)() as session:
        mz = user(session, "minzheng")
        review.submit(session, site.draft, actor=mz, lock=lock_of(session, site.draft))
    engine.dispose()


def _no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_the_review_page_fits_a_phone(browser: Browser, review_site: Site, backend: str) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport=PHONE, locale="zh-CN", is_mobile=True)
    login(page, review_site.base, "reviewer", PASSWORD, next=f"/review/drafts/{review_site.draft}")
    expect(page.locator(".dnode.is-moved .badge-moved")).to_have_text("移动")
    _no_sideways_scroll(page)
    screenshot(page, f"review-diff-phone-{backend}")
    page.close()


def test_reviewer_comments_returns_with_a_reason_and_approves(
    browser: Browser, review_site: Site, backend: str
) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport=DESKTOP, locale="zh-CN")
    login(page, review_site.base, "reviewer", PASSWORD, next="/review")
    page.get_by_role("link", name=re.compile(r"2026年民政调整")).click()
    page.wait_for_url(f"**/review/drafts/{review_site.draft}")
    tree = page.locator("#diff")
    expect(tree.locator(".dnode.is-added ins.name")).to_have_text("老年助餐服务点运营")
    expect(tree.locator(".dnode.is-removed del.name")).to_have_text("助餐服务")
    expect(tree.locator(".moved")).to_contain_text("移动：A06 养老服务 → A01 公共教育")
    renamed = tree.locator(".fields div", has_text="名称")
    expect(renamed.locator("del")).to_have_text("社区居家养老服务")
    expect(renamed.locator("ins")).to_have_text("社区居家养老上门服务")
    screenshot(page, f"review-diff-{backend}")

    # filter without leaving the page: only the move is left
    page.get_by_label("只看移动的").check()
    expect(tree.locator(".dnode-line[data-change]")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"show=moves"))
    page.get_by_label("全部修改").check()
    expect(tree.locator(".dnode-line[data-change]")).to_have_count(4)

    # keyboard: j to the first change, c to its comment box
    page.locator("h1").click()
    page.keyboard.press("j")
    expect(tree.locator(".dnode-line[data-change]").first).to_be_focused()
    page.keyboard.press("c")
    box = page.locator("textarea:focus")
    expect(box).to_have_attribute("name", "body")
    box.fill("移入公共教育是否经教育局同意？")
    box.locator("xpath=ancestor::form").get_by_role("button", name="发表评论").click()
    comment = tree.locator(".comment", has_text="移入公共教育是否经教育局同意？")
    expect(comment).to_have_class(re.compile(r"\bjust-changed\b"))
    expect(comment.locator(".who")).to_have_text("reviewer")
    expect(tree.locator(".dnode.is-moved > .item-comments > summary")).to_have_text("评论（1）")
    expect(page.locator("#toast")).to_have_text("评论已发表。")

    # return: refused in place without a reason, then sent back with one
    decision = page.locator("#decision")
    decision.get_by_role("button", name="退回修改").click()
    expect(decision.locator(".form-error")).to_contain_text("退回修改必须说明理由")
    reason = page.get_by_label("退回理由（必填）")
    expect(reason).to_be_focused()
    reason.fill("请说明助餐服务撤销后的替代安排")
    decision.get_by_role("button", name="退回修改").click()
    expect(page.locator("#decision .state")).to_have_text("已退回")
    expect(page.locator("#decision")).to_contain_text("请说明助餐服务撤销后的替代安排")
    expect(page.locator("#toast")).to_have_text("已退回部门修改，理由已随草稿送回。")

    # the department sends it back; the reviewer approves
    _resubmit(review_site)
    page.reload()
    page.locator("#decision").get_by_role("button", name="审核通过").click()
    expect(page.locator("#decision .state")).to_have_text("审核通过")
    expect(page.locator("#decision").get_by_role("link", name="前往合并 →")).to_be_visible()
    page.close()


def test_merge_page_resolves_conflicts_and_merges(browser: Browser, merge_site: Site, backend: str) -> None:
    from playwright.sync_api import expect

    merge_url = f"/review/drafts/{merge_site.draft}/merge"
    phone = browser.new_page(viewport=PHONE, locale="zh-CN", is_mobile=True)
    login(phone, merge_site.base, "reviewer", PASSWORD, next=merge_url)
    expect(phone.locator("h2#conflicts-h")).to_contain_text("待处理 2 个")
    phone.get_by_role("button", name="登记冲突，开始处理").click()
    expect(phone.locator("#merge-body .notice")).to_contain_text("已登记 2 个冲突")
    # keeping both same-named items would break the catalog: only the name conflict offers the draft's side
    expect(phone.get_by_role("button", name="采用草稿", exact=True)).to_have_count(1)
    _no_sideways_scroll(phone)
    screenshot(phone, f"merge-conflict-phone-{backend}")
    phone.close()

    page = browser.new_page(viewport=DESKTOP, locale="zh-CN")
    login(page, merge_site.base, "reviewer", PASSWORD, next=merge_url)
    name = page.locator("article.conflict", has_text="名称两边改法不同")
    expect(name.locator(".side-head")).to_contain_text("社区居家养老上门服务")
    expect(name.locator(".side-draft")).to_contain_text("居家养老综合服务")
    expect(name.locator(".side-base")).to_contain_text("社区居家养老服务")
    page.get_by_label("编辑名称").fill("社区居家养老综合服务")
    name.get_by_role("button", name="采用编辑值").click()
    name = page.locator("article.conflict", has_text="名称两边改法不同")
    expect(name).to_have_class(re.compile(r"\bis-resolved\b"))
    expect(name).to_contain_text("已选择：编辑后的取值——社区居家养老综合服务")
    expect(page.locator("#open-count")).to_have_text("1")
    expect(page.locator("#toast")).to_have_text("冲突处理已记录。")

    group = page.locator(".conflict-group", has_text="A01 公共教育")
    expect(group.get_by_role("button", name="本类全部采用草稿")).to_have_count(0)  # it would be refused
    same = page.locator("article.conflict", has_text="同名")
    expect(same.get_by_role("button", name="采用草稿的这一条，撤销「A01002 老年教育服务」")).to_be_visible()
    same.get_by_label("改名").fill("老年教育课后服务")
    same.get_by_role("button", name="采用编辑值").click()
    expect(page.locator("#open-count")).to_have_text("0")
    renumbered = page.locator(".renumbered")  # the new item another draft's code pushed along
    expect(renumbered).to_contain_text("课后托管延时服务")
    expect(renumbered).to_contain_text("A01002 → A01003")
    summary = page.locator("table.summary-table")
    expect(summary).to_contain_text("老年教育课后服务")
    expect(summary).to_contain_text("社区居家养老综合服务")
    screenshot(page, f"merge-conflict-{backend}")

    page.get_by_role("button", name="✓ 确认合并").click()
    expect(page.locator("#merge-body .done")).to_contain_text("已合并到第2版")
    expect(page.locator("#merge-body")).to_contain_text("新增 2 项、修改 2 项")
    page.close()
