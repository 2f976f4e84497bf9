"""The department editor as a clerk uses it: real Chromium, a real server, a database of its own."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import screenshot
from tests.browser.pages import login, writable_demo_server

Browser = Any
Page = Any


@pytest.fixture(scope="module")
def editor_server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from writable_demo_server(backend, tmp_path_factory.mktemp("editor"), "editor")


def _open_new_draft(page: Page, base: str) -> None:
    login(page, base, "minzheng")
    page.get_by_role("button", name="新建草稿").click()  # the desk's form, loaded by htmx
    page.wait_for_url("**/drafts/*")
    page.locator("#summary").wait_for()


def _item(page: Page, name: str) -> Any:
    """Return the item row named exactly `name`."""
    own_name = f"div[contains(@class, 'row')]/span[@class='item-name'][.={name!r}]"
    return page.locator(f"xpath=//li[contains(@class, 'item-row')][{own_name}]")


def _expect_toast(page: Page, text: str) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#editor-toast")).to_contain_text(text)


def test_clerk_edits_a_draft_with_mouse_and_keyboard(
    browser: Browser, editor_server: str, backend: str
) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    _open_new_draft(page, editor_server)
    summary = page.locator("#summary")
    expect(summary).to_contain_text("新增 0")
    expect(summary).to_contain_text("编辑中")
    elderly = page.locator("li.etype", has=page.locator(".type-name", has_text="养老服务")).first

    # add an item under a type, seeing the screening finding while typing
    elderly.get_by_role("button", name="在“养老服务”下新增三级目录").click()
    name = page.get_by_label("新三级目录名称")
    name.fill("养老护理劳务派遣服务")
    expect(elderly.locator(".screening .finding-block")).to_contain_text("劳务派遣")
    name.fill("老年人助浴上门服务")
    expect(elderly.locator(".screening")).to_contain_text("未发现负面清单问题")
    page.get_by_label("服务内容").fill("为失能老年人提供上门助浴。")
    page.get_by_role("button", name="添加").click()
    _expect_toast(page, "已新增“老年人助浴上门服务”")
    added = _item(page, "老年人助浴上门服务")
    expect(added.locator(".mark-added")).to_have_text("新增")
    expect(added).to_have_class(re.compile(r"\bjust-changed\b"))
    expect(summary).to_contain_text("新增 1")
    expect(added.locator(":scope > .row")).to_be_focused()  # focus follows the change
    screenshot(page, f"editor-added-{backend}")

    # edit inline from the keyboard: Enter opens the form, Esc cancels, Enter in the name saves
    added.locator(":scope > .row").press("Enter")
    field = page.locator("li.item-row.editing input[name='name']")
    expect(field).to_be_focused()
    field.press("Escape")
    expect(page.locator("li.item-row.editing")).to_have_count(0)
    added = _item(page, "老年人助浴上门服务")
    expect(added.locator(":scope > .row")).to_be_focused()
    added.locator(":scope > .row").press("Enter")
    field = page.locator("li.item-row.editing input[name='name']")
    field.fill("老年人助浴服务（上门）")
    field.press("Enter")
    _expect_toast(page, "已保存“老年人助浴服务（上门）”")
    expect(_item(page, "老年人助浴服务（上门）")).to_have_count(1)

    # arrow keys walk the tree
    first = page.locator("#tree .row:visible").first
    first.focus()
    first.press("ArrowDown")
    expect(page.locator("#tree .row:visible").nth(1)).to_be_focused()

    # withdraw and restore a base item
    walk = _item(page, "老年人防诈骗宣传服务")
    walk.get_by_role("button", name="撤销“老年人防诈骗宣传服务”").click()
    _expect_toast(page, "已撤销该条目")
    expect(_item(page, "老年人防诈骗宣传服务").locator(".mark-withdrawn")).to_have_text("撤销")
    expect(summary).to_contain_text("撤销 1")
    _item(page, "老年人防诈骗宣传服务").get_by_role("button", name="恢复“老年人防诈骗宣传服务”").click()
    _expect_toast(page, "已恢复为基础版本的内容")
    expect(summary).to_contain_text("撤销 0")
    expect(_item(page, "老年人防诈骗宣传服务").locator(".mark")).to_have_count(0)

    # move with the picker and its search
    _item(page, "养老护理员职业技能培训服务").get_by_role(
        "button", name="移动“养老护理员职业技能培训服务”到其他二级目录"
    ).click()
    dialog = page.locator("#editor-dialog")
    expect(dialog).to_be_visible()
    page.get_by_label("搜索二级目录").fill("残疾人")
    visible = dialog.locator("#picker-select option:not([hidden])")
    expect(visible).to_have_count(1)
    target = visible.first.inner_text().split(" ", 1)[1]
    screenshot(page, f"editor-picker-{backend}")
    dialog.get_by_role("button", name="移到所选二级目录").click()
    _expect_toast(page, "已移动")
    expect(dialog).to_be_hidden()
    moved = _item(page, "养老护理员职业技能培训服务")
    expect(moved.locator(".mark-moved")).to_have_text("移动")
    owner = page.locator("li.etype", has=moved)
    expect(owner.locator(".type-name")).to_have_text(target)

    # move with the keyboard: M picks the item up, arrows choose the type, Enter drops it
    row = _item(page, "家庭养老床位照护服务").locator(":scope > .row")
    row.focus()
    row.press("m")
    _expect_toast(page, "已拾起")
    page.keyboard.press("ArrowDown")
    dropped_on = page.locator("li.etype.drop-target .type-name").inner_text()
    page.keyboard.press("Enter")
    _expect_toast(page, "已移动")
    expect(
        page.locator("li.etype", has=_item(page, "家庭养老床位照护服务")).locator(".type-name")
    ).to_have_text(dropped_on)
    expect(summary).to_contain_text("移动 2")

    # reorder from the keyboard (Alt+↑) and with the ↓ button: the 四级 items of 民政局's 居家养老 item
    names = page.locator("ul.subitems").first.locator(":scope > li.item-row > .row > .item-name")
    before = names.all_inner_texts()
    k = before.index("独居老年人上门探访服务")
    _item(page, "独居老年人上门探访服务").locator(":scope > .row").press("Alt+ArrowUp")
    _expect_toast(page, "已调整顺序")
    expected = [*before[: k - 1], before[k], before[k - 1], *before[k + 1 :]]
    expect(names).to_have_text(expected)
    expect(_item(page, "独居老年人上门探访服务").locator(":scope > .row")).to_be_focused()
    _item(page, "独居老年人上门探访服务").get_by_role("button", name="下移“独居老年人上门探访服务”").click()
    expect(names).to_have_text(before)

    # a 四级 sub-item moves under another of the department's 三级 items with the same picker
    _item(page, "独居老年人上门探访服务").get_by_role(
        "button", name="移动“独居老年人上门探访服务”到其他三级目录"
    ).click()
    expect(dialog).to_be_visible()
    page.get_by_label("搜索三级目录").fill("家庭养老床位")
    expect(dialog.locator("#picker-select option:not([hidden])")).to_have_count(1)
    dialog.get_by_role("button", name="移到所选三级目录").click()
    _expect_toast(page, "已移动")
    new_parent = _item(page, "家庭养老床位照护服务")
    expect(new_parent.locator("ul.subitems")).to_contain_text("独居老年人上门探访服务")
    expect(_item(page, "独居老年人上门探访服务").locator(".mark-moved")).to_have_text("移动")
    expect(summary).to_contain_text("移动 3")
    # … with the keyboard (M, ↓ to the next 三级 item, Enter) and with the mouse
    sub_row = _item(page, "独居老年人上门探访服务").locator(":scope > .row")
    sub_row.focus()
    sub_row.press("m")
    _expect_toast(page, "选择三级目录")
    page.keyboard.press("ArrowDown")
    chosen = page.locator("li.item-row.drop-target[data-level='3'] > .row > .item-name").inner_text()
    assert chosen != "家庭养老床位照护服务"
    page.keyboard.press("Enter")
    _expect_toast(page, "已移动")
    expect(_item(page, chosen).locator("ul.subitems")).to_contain_text("独居老年人上门探访服务")
    _item(page, "独居老年人上门探访服务").locator(":scope > .row").drag_to(
        _item(page, "家庭养老床位照护服务").locator(":scope > .row")
    )
    _expect_toast(page, "已移动")
    expect(new_parent.locator("ul.subitems")).to_contain_text("独居老年人上门探访服务")
    expect(_item(page, chosen)).not_to_contain_text("独居老年人上门探访服务")

    # submit: the confirmation lists what blocks; after the fix the draft goes to review
    bad = _item(page, "老年人认知障碍照护服务")
    bad.get_by_role("button", name="编辑“老年人认知障碍照护服务”").click()
    page.locator("li.item-row.editing input[name='name']").fill("老年人认知障碍照护劳务派遣服务")
    page.locator("li.item-row.editing").get_by_role("button", name="保存").click()
    _expect_toast(page, "已保存")
    expect(summary).to_contain_text("阻止送审 1")
    expect(_item(page, "老年人认知障碍照护劳务派遣服务").locator(".badge-block")).to_be_visible()
    summary.get_by_role("button", name="送审…").click()
    expect(dialog).to_contain_text("有 1 项负面清单问题阻止送审")
    expect(dialog).to_contain_text("老年人认知障碍照护劳务派遣服务")
    expect(dialog.get_by_role("button", name="确认送审")).to_be_disabled()
    screenshot(page, f"editor-confirm-blocked-{backend}")
    dialog.get_by_role("button", name="返回修改").click()
    _item(page, "老年人认知障碍照护劳务派遣服务").get_by_role(
        "button", name="还原“老年人认知障碍照护劳务派遣服务”为基础版本"
    ).click()
    expect(summary).to_contain_text("阻止送审 0")
    summary.get_by_role("button", name="送审…").click()
    expect(dialog).to_contain_text("没有阻止送审的负面清单问题")
    dialog.get_by_role("button", name="确认送审").click()
    _expect_toast(page, "已送审")
    expect(summary).to_contain_text("已送审")
    expect(page.locator(".edit-btn")).to_have_count(0)
    screenshot(page, f"editor-submitted-{backend}")
    page.close()


def test_conflict_and_invalid_input_arrive_in_the_page(
    browser: Browser, editor_server: str, backend: str
) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    _open_new_draft(page, editor_server)
    draft_url = page.url
    elderly = page.locator("li.etype", has=page.locator(".type-name", has_text="养老服务")).first
    elderly.get_by_role("button", name="在“养老服务”下新增三级目录").click()
    elderly.get_by_role("button", name="添加").click()  # no name
    error = elderly.locator(".add-form .field-error")
    expect(error).to_have_text("名称不能为空")
    expect(elderly.get_by_label("新三级目录名称")).to_be_focused()

    other = context.new_page()  # the same clerk in a second tab changes the draft
    other.goto(draft_url)
    _item(other, "智慧养老服务平台运营服务").get_by_role(
        "button", name="撤销“智慧养老服务平台运营服务”"
    ).click()
    expect(other.locator("#summary")).to_contain_text("撤销 1")
    other.close()

    _item(page, "老年人防诈骗宣传服务").get_by_role("button", name="撤销“老年人防诈骗宣传服务”").click()
    flash = page.locator("#flash")
    expect(flash).to_contain_text("草稿已被他人修改")
    expect(flash).to_contain_text("撤销 “智慧养老服务平台运营服务”")
    screenshot(page, f"editor-conflict-{backend}")
    flash.get_by_role("link", name="重新载入页面").click()
    expect(page.locator("#summary")).to_contain_text("撤销 1")
    context.close()


def test_phone_width_editor(browser: Browser, editor_server: str, backend: str) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    _open_new_draft(page, editor_server)
    elderly = page.locator("li.etype", has=page.locator(".type-name", has_text="养老服务")).first
    elderly.get_by_role("button", name="在“养老服务”下新增三级目录").click()
    page.get_by_label("新三级目录名称").fill("老年人助浴上门服务")
    page.get_by_role("button", name="添加").click()
    _expect_toast(page, "已新增")
    expect(page.locator("#summary")).to_contain_text("新增 1")
    _item(page, "养老护理员职业技能培训服务").get_by_role(
        "button", name="移动“养老护理员职业技能培训服务”到其他二级目录"
    ).click()
    expect(page.locator("#editor-dialog")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, f"editor-phone-picker-{backend}")
    page.locator("#editor-dialog").get_by_role("button", name="取消").click()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, f"editor-phone-{backend}")
    page.close()
