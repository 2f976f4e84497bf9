"""The whole workflow as people do it, end to end in headless Chromium (issue 8, item 6).

民政局's editor adds three items (one blocked by screening), fixes it and submits; the finance
reviewer comments and returns it; the editor fixes and resubmits; the reviewer approves and
merges it. Meanwhile 教育局's editor (added on the admin page: the demo has one department
editor only) proposes an item under the same type, whose code clashes with 民政局's: the
reviewer resolves the conflict on the merge page and merges. The finance admin issues the new
version with its 文号 and publishes it; the public catalog page shows the new items.

Every step goes through the pages with real clicks and typing; a screenshot is saved after each
one (var/screenshots/journey-NN-step-backend.png, kept as CI artefacts).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import screenshot
from tests.browser.pages import login, writable_demo_server

Browser = Any
Page = Any
Locator = Any
DESKTOP = {"width": 1280, "height": 900}

SECOND_EDITOR = "jiaoyu"
SECOND_PASSWORD = "jiaoyu-2026-pw"
TYPE = "养老服务"  # the 二级目录 both departments add to
CANTEEN = ("社区老年食堂运营服务", "为社区老年人提供堂食、送餐和营养配餐服务。")
DISPATCH = ("养老机构劳务派遣服务", "为养老机构提供护理服务。")  # 劳务派遣: 第十条第（五）项 blocks it
DISPATCH_FIXED = "养老机构专业护理服务"
PATROL = ("老年人居家安全巡访服务", "定期上门巡访独居老年人。")
PATROL_FIXED = "独居老年人居家安全巡访服务"
COMMENT = "服务对象不明确：是否仅限独居老年人？"
REASON = "“老年人居家安全巡访服务”请在名称中写明服务对象（独居老年人）。"
EDUCATION = ("老年教育课程开发服务", "为社区老年学校开发健康养生、智能手机使用等老年教育课程。")


def _beijing_today() -> date:
    """Return today in Beijing: the day the server puts in its forms and counts deadlines from."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


@pytest.fixture(scope="module")
def journey_server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from writable_demo_server(backend, tmp_path_factory.mktemp("journey"), "journey")


@dataclass
class Story:
    """The journey's shared state: the server, the backend, and the number of the next screenshot."""

    browser: Browser
    base: str
    backend: str
    step: int = 0

    def person(self, username: str, password: str | None = None, *, next: str = "/desk") -> Page:
        """Return a page of a fresh browser context (cookies of its own) signed in as `username`."""
        context = self.browser.new_context(viewport=DESKTOP, locale="zh-CN")
        page = context.new_page()
        login(page, self.base, username, password, next=next)
        return page

    def shot(self, page: Page, name: str) -> None:
        self.step += 1
        screenshot(page, f"journey-{self.step:02d}-{name}-{self.backend}")


def _expect(target: Any) -> Any:
    from playwright.sync_api import expect

    return expect(target)


def _type(page: Page, name: str) -> Locator:
    """Return the editor's 二级目录 named exactly `name`."""
    return page.locator("li.etype", has=page.locator(".type-name", has_text=re.compile(f"^{name}$")))


def _item(page: Page, name: str) -> Locator:
    """Return the editor's item row named exactly `name`."""
    own_name = f"div[contains(@class, 'row')]/span[@class='item-name'][.={name!r}]"
    return page.locator(f"xpath=//li[contains(@class, 'item-row')][{own_name}]")


def _toast(page: Page, text: str) -> None:
    _expect(page.locator("#editor-toast")).to_contain_text(text)


def _new_draft(page: Page, title: str) -> int:
    """Open a new draft from the desk's 新建草稿 form; return its id."""
    page.get_by_label("草稿名称（可选）").fill(title)
    page.get_by_role("button", name="新建草稿").click()
    page.wait_for_url(re.compile(r"/drafts/\d+$"))
    page.locator("#summary").wait_for()
    return int(page.url.rsplit("/", 1)[1])


def _add(page: Page, type_name: str, name: str, description: str, *, blocked: str | None = None) -> None:
    """Add an item under `type_name`, watching the live screening as a person does while typing."""
    owner = _type(page, type_name)
    owner.get_by_role("button", name=f"在“{type_name}”下新增三级目录").click()
    owner.get_by_label("新三级目录名称").fill(name)
    owner.get_by_label("服务内容").fill(description)
    live = owner.locator(".screening")
    if blocked:
        _expect(live.locator(".finding-block")).to_contain_text(f"✖ 阻止送审：名称命中“{blocked}”")
    else:
        _expect(live).to_contain_text("✓ 未发现负面清单问题")
    owner.get_by_role("button", name="添加").click()
    _toast(page, f"已新增“{name}”")
    _expect(_item(page, name).locator(".mark-added")).to_have_text("新增")


def _edit(page: Page, name: str, *, new_name: str | None = None, description: str | None = None) -> None:
    """Edit an item in place and save it."""
    _item(page, name).get_by_role("button", name=f"编辑“{name}”").click()
    form = page.locator("li.item-row.editing")
    if new_name is not None:
        form.get_by_label("名称").fill(new_name)
    if description is not None:
        form.get_by_label("服务内容").fill(description)
    _expect(form.locator(".screening")).to_contain_text("✓ 未发现负面清单问题")
    form.get_by_role("button", name="保存").click()
    _toast(page, f"已保存“{new_name or name}”")


def _submit(page: Page) -> None:
    """Send the draft to review through the confirmation dialog."""
    summary = page.locator("#summary")
    summary.get_by_role("button", name="送审…").click()
    dialog = page.locator("#editor-dialog")
    _expect(dialog).to_contain_text("没有阻止送审的负面清单问题")
    dialog.get_by_role("button", name="确认送审").click()
    _toast(page, "已送审")
    _expect(summary.locator(".state")).to_contain_text("已送审")
    _expect(page.locator(".edit-btn")).to_have_count(0)  # read-only while in review


def _codes(page: Page, names: tuple[str, ...]) -> list[str]:
    return [_item(page, n).locator(":scope > .row > .code").inner_text() for n in names]


def _next_code(codes: list[str]) -> str:
    """Return the code after the highest of `codes` (same prefix and width): the first free one."""
    top = max(codes)
    digits = re.search(r"\d+$", top)
    assert digits, top
    n = digits.group(0)
    return top[: -len(n)] + str(int(n) + 1).zfill(len(n))


def test_a_catalog_change_from_department_to_public(
    browser: Browser, journey_server: str, backend: str
) -> None:
    story = Story(browser, journey_server, backend)

    # -- setup through the admin page: a second department's editor (the demo has only 民政局's)
    sysadmin = story.person("sysadmin", next="/admin/users")
    users = sysadmin.locator("#admin-users form.add-form")
    users.get_by_label("用户名", exact=True).fill(SECOND_EDITOR)
    users.get_by_label("姓名", exact=True).fill("教育局经办人")
    users.get_by_label("角色", exact=True).select_option(label="部门经办人")
    users.get_by_label("所属部门（部门经办人必选）").select_option(label="102 教育局")
    users.get_by_label("初始密码（至少 8 位）").fill(SECOND_PASSWORD)
    users.get_by_role("button", name="添加用户").click()
    row = sysadmin.locator(f"#user-{SECOND_EDITOR}")
    _expect(row).to_contain_text("✓ 刚刚更新")
    _expect(row).to_contain_text("部门经办人")
    _expect(row).to_contain_text("教育局")
    story.shot(sysadmin, "second-editor-added")
    sysadmin.context.close()

    # -- 民政局's editor adds three items; one is blocked by screening
    editor = story.person("minzheng")
    draft = _new_draft(editor, "2026年养老服务调整")
    summary = editor.locator("#summary")
    _expect(summary).to_contain_text("编辑中")
    _add(editor, TYPE, *CANTEEN)
    _add(editor, TYPE, *DISPATCH, blocked="劳务派遣")
    _add(editor, TYPE, *PATROL)
    _expect(summary).to_contain_text("新增 3")
    _expect(summary).to_contain_text("阻止送审 1")
    bad = _item(editor, DISPATCH[0])
    _expect(bad.locator(".badge-block")).to_have_text("✖ 不能送审")
    _expect(bad.locator(".finding-block")).to_contain_text("阻止送审：名称命中“劳务派遣”")
    _expect(bad.locator(".finding-block")).to_contain_text("第十条第（五）项")
    story.shot(editor, "three-items-one-blocked")

    # ... submitting is refused while it blocks
    summary.get_by_role("button", name="送审…").click()
    dialog = editor.locator("#editor-dialog")
    _expect(dialog).to_contain_text("有 1 项负面清单问题阻止送审")
    _expect(dialog.locator(".blockers")).to_contain_text(f"{DISPATCH[0]}：名称命中“劳务派遣”")
    _expect(dialog.get_by_role("button", name="确认送审")).to_be_disabled()
    story.shot(editor, "submit-refused")
    dialog.get_by_role("button", name="返回修改").click()
    _expect(dialog).to_be_hidden()

    # ... fixes it and submits
    _edit(editor, DISPATCH[0], new_name=DISPATCH_FIXED)
    _expect(summary).to_contain_text("阻止送审 0")
    _expect(_item(editor, DISPATCH_FIXED).locator(".badge-block")).to_have_count(0)
    ours = (CANTEEN[0], DISPATCH_FIXED, PATROL[0])
    codes = _codes(editor, ours)
    _submit(editor)
    story.shot(editor, "fixed-and-submitted")

    # -- meanwhile 教育局's editor proposes an item under the same type, on the same base version
    second = story.person(SECOND_EDITOR, SECOND_PASSWORD)
    second_draft = _new_draft(second, "老年教育课程")
    second.get_by_label("显示没有本部门条目的二级目录").check()  # 养老服务 holds no 教育局 item yet
    _add(second, TYPE, *EDUCATION)
    clash = _codes(second, (EDUCATION[0],))[0]
    assert clash in codes, (clash, codes)  # both drafts gave their first new item the same code
    _submit(second)
    story.shot(second, "second-department-submitted")
    second.context.close()

    # -- the reviewer comments on an item and returns the draft with a reason
    reviewer = story.person("reviewer", next="/review")
    queue = reviewer.locator("table.queue")
    _expect(queue.locator(f"#draft-{draft}")).to_contain_text("民政局")
    _expect(queue.locator(f"#draft-{second_draft}")).to_contain_text("教育局")
    reviewer.get_by_role("link", name=f"#{draft} 2026年养老服务调整").click()
    reviewer.wait_for_url(f"**/review/drafts/{draft}")
    tree = reviewer.locator("#diff")
    for name in ours:
        _expect(tree.locator(".dnode.is-added ins.name", has_text=name)).to_have_count(1)
    own_line = f"div[contains(@class, 'dnode-line')]/ins[@class='name'][.={PATROL[0]!r}]"
    patrol = tree.locator(f"xpath=//li[contains(@class, 'dnode')][{own_line}]")
    patrol.locator("details.item-comments > summary").click()
    patrol.get_by_label("对此条目发表评论").fill(COMMENT)
    patrol.get_by_role("button", name="发表评论").click()
    _expect(patrol.locator(".comment")).to_contain_text(COMMENT)
    _expect(reviewer.locator("#toast")).to_have_text("评论已发表。")
    decision = reviewer.locator("#decision")
    decision.get_by_label("退回理由（必填）").fill(REASON)
    decision.get_by_role("button", name="退回修改").click()
    _expect(reviewer.locator("#decision .state")).to_have_text("已退回")
    _expect(reviewer.locator("#decision")).to_contain_text(REASON)
    _expect(reviewer.locator("#toast")).to_have_text("已退回部门修改，理由已随草稿送回。")
    story.shot(reviewer, "commented-and-returned")

    # -- the editor sees the return and its reason, fixes the item and resubmits (the reviewer's
    # item comment is shown to the department on no page, only the reason is: reported)
    editor.goto(f"{story.base}/desk")
    mine = editor.locator(f"#draft-{draft}")
    _expect(mine).to_contain_text("已退回")
    _expect(mine).to_contain_text(REASON)
    mine.get_by_role("link", name=re.compile(f"#{draft}")).click()
    editor.wait_for_url(f"**/drafts/{draft}")
    _expect(summary.locator(".state")).to_contain_text("已退回")
    _expect(summary.locator(".returned")).to_have_text(f"退回理由：{REASON}")
    story.shot(editor, "returned-with-reason")
    _edit(editor, PATROL[0], new_name=PATROL_FIXED)
    _expect(summary.locator(".state")).to_contain_text("编辑中")
    _expect(_item(editor, PATROL_FIXED).locator(".mark-added")).to_have_text("新增")
    _submit(editor)
    story.shot(editor, "fixed-and-resubmitted")
    editor.context.close()

    # -- the reviewer sees the new text and approves, then merges: no conflict yet
    reviewer.reload()
    _expect(reviewer.locator("#decision .state")).to_have_text("已送审")
    # the review page shows a new item's name but not its 服务内容 (reported), so the fix is a name
    _expect(reviewer.locator("#diff .dnode.is-added ins.name", has_text=PATROL_FIXED)).to_have_count(1)
    _expect(reviewer.locator("#diff .comment")).to_contain_text(COMMENT)
    reviewer.locator("#decision").get_by_role("button", name="审核通过").click()
    _expect(reviewer.locator("#decision .state")).to_have_text("审核通过")
    story.shot(reviewer, "approved")
    reviewer.locator("#decision").get_by_role("link", name="前往合并 →").click()
    reviewer.wait_for_url(f"**/review/drafts/{draft}/merge")
    body = reviewer.locator("#merge-body")
    _expect(body).to_contain_text("✓ 没有冲突")
    _expect(body).to_contain_text("新开的第3版")
    reviewer.get_by_role("button", name="✓ 确认合并").click()
    _expect(body.locator(".done")).to_contain_text("已合并到第3版")
    _expect(body).to_contain_text("新增 3 项")
    story.shot(reviewer, "merged")

    # -- 教育局's draft: approved, then merged; its provisional code, taken first, is renumbered
    reviewer.goto(f"{story.base}/review")
    reviewer.get_by_role("link", name=f"#{second_draft} 老年教育课程").click()
    reviewer.wait_for_url(f"**/review/drafts/{second_draft}")
    reviewer.locator("#decision").get_by_role("button", name="审核通过").click()
    _expect(reviewer.locator("#decision .state")).to_have_text("审核通过")
    reviewer.locator("#decision").get_by_role("link", name="前往合并 →").click()
    reviewer.wait_for_url(f"**/review/drafts/{second_draft}/merge")
    _expect(body).to_contain_text("合并到：第3版（编制中）")
    _expect(body).to_contain_text("✓ 没有冲突")
    free = _next_code(codes)
    renumbered = body.locator(".renumbered")
    _expect(renumbered).to_contain_text(f"{EDUCATION[0]}：{clash} → {free}")
    merged_row = reviewer.locator("table.summary-table tr", has_text=EDUCATION[0])
    _expect(merged_row.locator("td.code").last).to_have_text(free)
    _expect(merged_row).to_contain_text(f"编码调整：草稿暂定 {clash}")
    story.shot(reviewer, "renumbered-before-merge")
    reviewer.get_by_role("button", name="✓ 确认合并").click()
    _expect(body.locator(".done")).to_contain_text("已合并到第3版")
    _expect(body).to_contain_text("新增 1 项")
    _expect(body.locator(".renumbered")).to_contain_text(f"{clash} → {free}")
    story.shot(reviewer, "renumbered-and-merged")
    reviewer.context.close()

    # -- the finance admin issues the version with its 文号, then publishes it
    today = _beijing_today()
    doc_number = f"示财购〔{today.year}〕8号"
    admin = story.person("admin", next="/admin")
    version = admin.locator("#version-shifanshi-3")
    _expect(version).to_contain_text("✎ 编制中")
    version.get_by_label("文号").fill(doc_number)
    _expect(version.get_by_label("印发日期")).to_have_value(today.isoformat())
    version.get_by_role("button", name="印发第3版").click()
    _expect(version).to_contain_text(f"文号：{doc_number}")  # what issuing fixes for ever, first
    story.shot(admin, "issue-confirm")
    version.get_by_role("button", name="确认印发").click()
    admin.locator("#version-shifanshi-3.changed").wait_for()
    toast = admin.locator("#flash .toast")
    _expect(toast).to_contain_text(f"✓ 第3版已印发（{doc_number}），须在")
    found = re.search(r"须在 (\d{4}-\d{2}-\d{2}) 前公开", toast.inner_text())
    assert found, toast.inner_text()
    deadline = date.fromisoformat(found.group(1))
    assert deadline > today
    _expect(version).to_contain_text("▣ 已印发")
    _expect(version).to_contain_text(doc_number)
    _expect(version.locator(".deadline")).to_contain_text(f"{deadline:%Y}年{deadline:%m}月{deadline:%d}日")
    _expect(version.locator(".deadline")).to_contain_text("还剩 10 个工作日")  # 10 working days, none used
    story.shot(admin, "issued")
    version.get_by_role("button", name="立即公开第3版").click()
    version.get_by_role("button", name="确认公开").click()
    # on a busy 2-core machine the answer can take a few seconds: this one wait is longer
    _expect(version).to_contain_text("✓ 已公开", timeout=30_000)
    _expect(version).to_contain_text("已按期公开")
    _expect(admin.locator("#flash")).to_contain_text("公众现在可以查看")
    story.shot(admin, "published")
    admin.context.close()

    # -- the public sees the new items, 教育局's among them under its new code
    public = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
    public.goto(f"{story.base}/catalogs/shifanshi")
    _expect(public.locator("main")).to_contain_text(doc_number)
    public.locator("a.type-toggle", has_text=TYPE).first.click()
    items = public.get_by_role("list", name=f"{TYPE}的三级目录")
    for code, name in zip(codes, (CANTEEN[0], DISPATCH_FIXED, PATROL_FIXED), strict=True):
        _expect(items.locator(".item", has_text=name).locator(".code")).to_have_text(code)
    added = items.locator(".item", has_text=EDUCATION[0])
    _expect(added.locator(".code")).to_have_text(free)
    _expect(added.locator(".dept")).to_have_text("教育局")
    _expect(items).not_to_contain_text(DISPATCH[0])
    story.shot(public, "public-catalog")
    public.context.close()
