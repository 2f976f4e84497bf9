"""The admin pages over HTTP: versions (open, issue, publish, schedule), users, departments, rules."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.models import AuditEvent, Draft, Version
from app.http.deps import today
from app.services.drafts import items as draft_items
from app.services.drafts import lifecycle as drafts
from app.services.merging import merge as merging
from app.services.screening.rules import shipped_rules
from tests.factories import SYSTEM
from tests.workflow_world import PASSWORD, World, world

HX = {"HX-Request": "true"}


@pytest.fixture
def w(session: Session) -> World:
    return world(session)


@pytest.fixture
def admin(client: TestClient, w: World) -> TestClient:  # noqa: ARG001 (w: the world is built first)
    """The client signed in as the finance administrator, on 2026-02-02 (a Monday)."""
    client.app.dependency_overrides[today] = lambda: date(2026, 2, 2)  # type: ignore[attr-defined]
    _login(client, "admin")
    return client


def _login(client: TestClient, who: str, password: str = PASSWORD) -> Any:
    client.cookies.clear()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    return client.post(
        "/login",
        data={"username": who, "password": password, "csrf_token": token.group(1)},
        follow_redirects=False,
    )


def _csrf(client: TestClient, page: str = "/admin") -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(page).text)
    assert found, "the page has no form"
    return found.group(1)


def _post(client: TestClient, url: str, *, htmx: bool = True, **data: str) -> Any:
    data = {"csrf_token": _csrf(client), **data}
    return client.post(url, data=data, headers=HX if htmx else {}, follow_redirects=False)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _row(html: str, row_id: str) -> str:
    found = re.search(rf'<tr id="{row_id}"[^>]*>.*?</tr>', html, re.S)
    assert found, f"no row {row_id}"
    return found.group(0)


def _open_v2(client: TestClient) -> None:
    opened = _post(client, "/admin/catalogs/ceshi/versions", label="2026年动态调整")
    assert opened.status_code == 200, opened.text


ISSUE = "/admin/catalogs/ceshi/versions/2/issue"
PUBLISH = "/admin/catalogs/ceshi/versions/2/publish"


def _confirmed(client: TestClient, url: str, **data: str) -> Any:
    """Post an irreversible form as a person does: once to see what it would do, then confirmed."""
    asked = _post(client, url, **data)
    assert asked.status_code == 200, asked.text
    assert "确认" in asked.text
    return _post(client, url, confirm="1", **data)


def test_the_admin_issues_a_version_from_the_page_and_sees_its_deadline(admin: TestClient) -> None:
    page = admin.get("/admin")
    assert page.status_code == 200
    assert "测试市政府购买服务指导性目录" in page.text
    assert "印发后须在 10 个工作日内公开" in _text(page.text)
    _open_v2(admin)
    issued = _confirmed(admin, ISSUE, doc_number="测财购[2026]3号", issued_on="2026-01-30")
    assert issued.status_code == 200, issued.text
    row = _row(issued.text, "version-ceshi-2")
    assert 'class="changed' in row
    assert "✓ 刚刚更新" in row
    assert "测财购〔2026〕3号" in row  # the brackets written the official way
    # 10 working days after Friday 2026-01-30: the Spring Festival make-up Saturday 2026-02-14 is not reached
    assert "2026年02月13日" in row
    assert "还剩 9 个工作日" in _text(row)
    assert 'hx-swap-oob="innerHTML:#flash"' in issued.text
    assert "✓ 第2版已印发（测财购〔2026〕3号），须在 2026-02-13 前公开" in issued.text
    assert issued.text.lstrip().startswith("{% import") is False
    assert "<html" not in issued.text


def test_issue_errors_re_render_the_form_in_chinese_with_422(admin: TestClient) -> None:
    _open_v2(admin)
    bad = _post(admin, ISSUE, doc_number="第三号", issued_on="2026-01-30")
    assert bad.status_code == 422
    assert "✗ 文号“第三号”格式不正确，应形如“示财购〔2025〕12号”" in bad.text
    assert 'value="第三号"' in bad.text  # what was typed stays
    assert 'aria-invalid="true"' in bad.text
    no_date = _post(admin, ISSUE, doc_number="测财购〔2026〕3号", issued_on="")
    assert no_date.status_code == 422
    assert "✗ 请填写印发日期" in no_date.text
    whole = _post(admin, ISSUE, htmx=False, doc_number="第三号", issued_on="2026-01-30")
    assert whole.status_code == 422
    assert "<html" in whole.text
    assert "格式不正确" in whole.text
    assert admin.get("/admin").text.count("✎ 编制中") == 1  # nothing was issued


def test_a_second_issue_is_a_409_that_says_what_changed(admin: TestClient) -> None:
    _open_v2(admin)
    assert _confirmed(admin, ISSUE, doc_number="测财购〔2026〕3号", issued_on="2026-01-30").status_code == 200
    again = _post(admin, ISSUE, doc_number="测财购〔2026〕4号", issued_on="2026-01-31")
    assert again.status_code == 409
    text = _text(again.text)
    assert "⚠ 操作未执行，数据已被更改。" in text
    assert "第2版（2026年动态调整）现为“已印发”，文号 测财购〔2026〕3号，2026-01-30 印发" in text
    assert 'href="/admin">重新载入整页' in again.text
    assert "测财购〔2026〕4号" not in again.text


def test_publish_now_then_again_is_a_409(admin: TestClient, session: Session) -> None:
    _open_v2(admin)
    _confirmed(admin, ISSUE, doc_number="测财购〔2026〕3号", issued_on="2026-01-30")
    published = _confirmed(admin, PUBLISH)
    assert published.status_code == 200
    assert "✓ 已公开" in _row(published.text, "version-ceshi-2")
    assert "第2版（2026年动态调整）已公开" in published.text
    assert "已被新版本替代" in _row(published.text, "version-ceshi-1")
    assert admin.get("/catalogs/ceshi").status_code == 200
    again = _post(admin, PUBLISH, confirm="1")
    assert again.status_code == 409
    assert "现为“已公开”" in again.text
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-3:] == ["version.open", "version.issue", "version.publish"]


def test_schedule_publication_within_the_deadline(admin: TestClient) -> None:
    _open_v2(admin)
    _confirmed(admin, ISSUE, doc_number="测财购〔2026〕3号", issued_on="2026-01-30")
    late = _post(admin, "/admin/catalogs/ceshi/versions/2/schedule", publish_on="2026-02-20")
    assert late.status_code == 422
    assert "公开日期 2026-02-20 晚于公开期限 2026-02-13" in late.text
    assert 'value="2026-02-20"' in late.text
    scheduled = _post(admin, "/admin/catalogs/ceshi/versions/2/schedule", publish_on="2026-02-10")
    assert scheduled.status_code == 200
    assert "⏲ 已安排 2026年02月10日 自动公开" in _row(scheduled.text, "version-ceshi-2")
    assert "第2版将于 2026-02-10 自动公开" in scheduled.text
    cancelled = _post(admin, "/admin/catalogs/ceshi/versions/2/unschedule")
    assert cancelled.status_code == 200
    assert "已安排" not in _row(cancelled.text, "version-ceshi-2")
    assert _post(admin, "/admin/catalogs/ceshi/versions/2/unschedule").status_code == 409


def test_without_javascript_an_action_redirects_back_to_the_highlighted_row(admin: TestClient) -> None:
    opened = _post(admin, "/admin/catalogs/ceshi/versions", htmx=False, label="2026年动态调整")
    assert opened.status_code == 303
    assert opened.headers["location"] == "/admin?changed=version-ceshi-2#version-ceshi-2"
    page = admin.get(opened.headers["location"])
    assert "✓ 刚刚更新" in _row(page.text, "version-ceshi-2")
    twice = _post(admin, "/admin/catalogs/ceshi/versions", htmx=False, label="再来一版")
    assert twice.status_code == 409  # one version is being assembled already


def test_users_add_disable_enable_and_reset_password(admin: TestClient) -> None:
    short = _post(
        admin, "/admin/users", username="xiaowang", role="dept_editor", department="102", password="123"
    )
    assert short.status_code == 422
    assert "✗ 密码至少 8 位" in short.text
    assert 'value="xiaowang"' in short.text
    assert 'value="102" selected' in short.text
    added = _post(
        admin,
        "/admin/users",
        username="xiaowang",
        display_name="王小明",
        role="dept_editor",
        department="102",
        password="jiaoyu-2026",
    )
    assert added.status_code == 200
    row = _text(_row(added.text, "user-xiaowang"))
    assert "王小明 部门经办人 教育局 ✓ 启用" in row
    disabled = _post(admin, "/admin/users/xiaowang/active", active="0")
    assert disabled.status_code == 200
    assert "⊘ 已停用" in _row(disabled.text, "user-xiaowang")
    assert _post(admin, "/admin/users/xiaowang/active", active="0").status_code == 409  # stale second click
    assert _login(admin, "xiaowang", "jiaoyu-2026").status_code == 401
    _login(admin, "admin")
    assert _post(admin, "/admin/users/xiaowang/active", active="1").status_code == 200
    reset = _post(admin, "/admin/users/xiaowang/password", password="new-pass-2026")
    assert reset.status_code == 200
    assert "已重置用户 xiaowang 的密码" in reset.text
    assert _login(admin, "xiaowang", "jiaoyu-2026").status_code == 401
    assert _login(admin, "xiaowang", "new-pass-2026").status_code == 303


def test_an_admin_cannot_disable_themself(admin: TestClient) -> None:
    refused = _post(admin, "/admin/users/admin/active", active="0")
    assert refused.status_code == 422
    assert "不能停用自己的账号" in refused.text


def test_departments_add_rename_and_deactivate(admin: TestClient) -> None:
    taken = _post(admin, "/admin/departments", code="101", name="民政局二")
    assert taken.status_code == 422
    assert "部门编码 101 已被“民政局”使用" in taken.text
    added = _post(admin, "/admin/departments", code="104", name="卫生健康委员会")
    assert added.status_code == 200
    assert "卫生健康委员会" in _row(added.text, "dept-104")
    renamed = _post(admin, "/admin/departments/104/name", name="卫生健康委", expected="卫生健康委员会")
    assert renamed.status_code == 200
    assert 'value="卫生健康委"' in _row(renamed.text, "dept-104")
    stale = _post(admin, "/admin/departments/104/name", name="卫健委", expected="卫生健康委员会")
    assert stale.status_code == 409
    assert "名称已被改为“卫生健康委”" in stale.text
    off = _post(admin, "/admin/departments/104/active", active="0")
    assert off.status_code == 200
    assert "⊘ 已停用" in _row(off.text, "dept-104")
    users = admin.get("/admin/users").text
    assert 'value="104"' not in users  # a disabled department takes no new users


def test_rules_page_shows_the_rules_and_loads_a_new_version(admin: TestClient) -> None:
    shipped = shipped_rules()
    page = admin.get("/admin/rules")
    assert page.status_code == 200
    assert f"现行规则：版本 {shipped.ruleset.version}" in page.text
    assert f"规则（{len(shipped.document['rules'])} 条）" in page.text
    bad = admin.post(
        "/admin/rules",
        data={"csrf_token": _csrf(admin)},
        files={"rules": ("rules.json", b"{not json", "application/json")},
        headers=HX,
    )
    assert bad.status_code == 422
    assert "规则文件不是有效的 JSON" in bad.text
    newer = dict(shipped.document, rules_version="2026.9")
    loaded = admin.post(
        "/admin/rules",
        data={"csrf_token": _csrf(admin)},
        files={"rules": ("rules.json", json.dumps(newer, ensure_ascii=False).encode(), "application/json")},
        headers=HX,
    )
    assert loaded.status_code == 200, loaded.text
    assert "现行规则：版本 2026.9" in loaded.text
    assert "✓ 现行" in _row(loaded.text, "ruleset-2026.9")


@pytest.mark.parametrize("who", ["minzheng", "reviewer"])
@pytest.mark.usefixtures("w")
def test_other_roles_are_refused(client: TestClient, who: str) -> None:
    _login(client, who)
    for page in ("/admin", "/admin/users", "/admin/departments", "/admin/rules"):
        assert client.get(page).status_code == 403, page
    csrf = re.search(r'"X-CSRF-Token": "([^"]+)"', client.get("/desk").text)
    assert csrf
    refused = client.post(
        "/admin/users", data={"csrf_token": csrf.group(1), "username": "x", "role": "finance_admin"}
    )
    assert refused.status_code == 403
    issue = client.post(
        "/admin/catalogs/ceshi/versions/1/publish", data={"csrf_token": csrf.group(1)}, headers=HX
    )
    assert issue.status_code == 403
    assert issue.headers["HX-Retarget"] == "#flash"


@pytest.mark.usefixtures("w")
def test_sysadmin_sees_versions_but_cannot_issue(client: TestClient, session: Session) -> None:
    _login(client, "sysadmin")
    page = client.get("/admin")
    assert page.status_code == 200
    assert "当前角色只能查看" in page.text
    assert "新建编制中版本" not in page.text
    assert client.get("/admin/users").status_code == 200
    refused = _post(client, "/admin/catalogs/ceshi/versions", label="2026年版")
    assert refused.status_code == 403
    assert session.scalars(select(Version).where(Version.seq == 2)).first() is None


@pytest.mark.usefixtures("w")
def test_anonymous_visitors_are_sent_to_sign_in_and_cannot_post(client: TestClient) -> None:
    page = client.get("/admin/users", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/admin/users"
    posted = client.post("/admin/users", data={"username": "x"}, follow_redirects=False)
    assert (posted.status_code, posted.headers["location"]) == (303, "/login?next=/desk")  # no referer


def test_an_admin_changes_a_users_role_and_department(admin: TestClient, session: Session) -> None:
    assert "/admin/users/reviewer2/role" in _row(admin.get("/admin/users").text, "user-reviewer2")
    page = admin.get("/admin/users/reviewer2/role")
    assert page.status_code == 200
    assert "现为财政审核人" in page.text
    missing = _post(admin, "/admin/users/reviewer2/role", htmx=False, role="dept_editor", department="")
    assert missing.status_code == 422
    assert "✗ 部门经办人必须选择所属部门" in missing.text
    assert 'value="dept_editor" selected' in missing.text
    moved = _post(admin, "/admin/users/reviewer2/role", htmx=False, role="dept_editor", department="103")
    assert moved.status_code == 303
    assert moved.headers["location"] == "/admin/users?changed=user-reviewer2#user-reviewer2"
    row = _row(admin.get(moved.headers["location"]).text, "user-reviewer2")
    assert "部门经办人 司法局" in _text(row)
    assert "✓ 刚刚更新" in row
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(1)).all()
    assert actions == ["user.set_role"]
    own = _post(admin, "/admin/users/admin/role", htmx=False, role="dept_editor", department="101")
    assert own.status_code == 422  # no lock-out by mistake
    assert "✗ 不能修改自己的角色" in own.text


@pytest.mark.parametrize(
    ("username", "message"),
    [("", "请填写用户名"), ("王 小明", "只用字母、数字"), ("a/b", "只用字母、数字")],
)
def test_a_username_must_fit_in_a_url(admin: TestClient, username: str, message: str) -> None:
    refused = _post(
        admin, "/admin/users", username=username, role="finance_reviewer", password="long-enough-1"
    )
    assert refused.status_code == 422
    assert message in refused.text


def test_issue_first_says_what_it_fixes_for_ever_and_writes_nothing_until_confirmed(
    admin: TestClient, session: Session
) -> None:
    _open_v2(admin)
    asked = _post(admin, ISSUE, doc_number="测财购[2026]3号", issued_on="2026-01-30")
    box = _text(_row(asked.text, "version-ceshi-2"))
    assert "确认印发第2版（2026年动态调整）？印发后本版本的内容不可再修改。" in box
    assert "文号：测财购〔2026〕3号" in box
    assert "印发日期：2026年01月30日" in box
    assert "公开期限：2026年02月13日" in box  # the deadline it creates
    assert session.scalars(select(Version.status).where(Version.seq == 2)).one() == "assembling"
    issued = _post(admin, ISSUE, doc_number="测财购〔2026〕3号", issued_on="2026-01-30", confirm="1")
    assert "✓ 第2版已印发" in issued.text
    session.expire_all()
    assert session.scalars(select(Version.status).where(Version.seq == 2)).one() == "issued"


def test_an_issue_date_in_the_future_or_before_the_last_version_is_refused(admin: TestClient) -> None:
    # today is 2026-02-02 (the fixture); version 1 was issued on 2024-12-20
    _open_v2(admin)
    future = _post(admin, ISSUE, doc_number="测财购〔2026〕3号", issued_on="2026-02-03", confirm="1")
    assert future.status_code == 422
    assert "印发日期 2026-02-03 晚于今天（2026-02-02）" in _text(future.text)
    earlier = _post(admin, ISSUE, doc_number="测财购〔2026〕3号", issued_on="2019-01-02")
    assert earlier.status_code == 422
    assert "早于第1版（2024年版）的印发日期" in _text(earlier.text)
    assert admin.get("/admin").text.count("✎ 编制中") == 1  # nothing was issued


def test_an_unusual_issue_date_needs_a_second_confirmation(admin: TestClient, session: Session) -> None:
    _open_v2(admin)
    fields = {"doc_number": "测财购〔2025〕9号", "issued_on": "2025-12-01"}  # 63 days before today
    asked = _text(_row(_post(admin, ISSUE, **fields).text, "version-ceshi-2"))
    assert "⚠ 印发日期早于今天 63 天。" in asked
    assert "我已核对，印发日期确为 2025年12月01日" in asked
    once = _post(admin, ISSUE, confirm="1", **fields)
    assert once.status_code == 422
    assert "早于今天 63 天：请核对" in _text(once.text)
    assert session.scalars(select(Version.status).where(Version.seq == 2)).one() == "assembling"
    twice = _post(admin, ISSUE, confirm="1", confirm_date="1", **fields)
    assert twice.status_code == 200
    assert "✓ 第2版已印发" in twice.text


def test_publish_first_says_it_cannot_be_undone_and_what_it_supersedes(admin: TestClient) -> None:
    _open_v2(admin)
    _confirmed(admin, ISSUE, doc_number="测财购〔2026〕3号", issued_on="2026-01-30")
    asked = _text(_row(_post(admin, PUBLISH).text, "version-ceshi-2"))
    assert "确认公开第2版（2026年动态调整，测财购〔2026〕3号）？公开后不可撤回。" in asked
    assert "第1版（2024年版）随之成为历史版本" in asked
    assert admin.get("/catalogs/ceshi/versions/2").status_code == 404  # not public yet


def test_an_overdue_version_offers_publishing_now_not_a_date(admin: TestClient) -> None:
    _open_v2(admin)
    _confirmed(admin, ISSUE, doc_number="测财购〔2026〕3号", issued_on="2026-01-05")  # deadline 2026-01-19
    row = _row(admin.get("/admin").text, "version-ceshi-2")
    assert "已过公开期限，不能再安排日期：请立即公开。" in _text(row)
    assert 'name="publish_on"' not in row  # its min (today) would lie after its max (the deadline)


def _merged(session: Session, w: World) -> int:
    """Merge a 民政局 draft renaming i1 into version 2 and return its id."""
    draft = drafts.create_draft(session, "ceshi", actor=SYSTEM, department="101", title="民政局调整")
    draft_items.edit_item(
        session, draft.id, w.built.uid("i1"), lock=1, actor=SYSTEM, name="社区居家养老上门服务"
    )
    draft.status = "approved"  # the approve step has its own tests
    session.commit()
    assert merging.merge_draft(session, draft.id, actor=SYSTEM).merged
    return draft.id


MERGES = "/admin/catalogs/ceshi/versions/2/merges"


def test_a_merge_is_reverted_from_the_versions_merge_record(
    admin: TestClient, w: World, session: Session
) -> None:
    d = _merged(session, w)
    assert f'href="{MERGES}"' in admin.get("/admin").text  # from the version's row
    page = admin.get(MERGES)
    assert page.status_code == 200
    row = _text(_row(page.text, f"merged-{d}"))
    assert all(text in row for text in ("民政局调整", "民政局", "撤回此次合并…"))

    asked = _post(admin, f"{MERGES}/{d}/revert")
    assert asked.status_code == 200
    assert "将新建一份草稿，把这份草稿改动过的 1 个条目恢复为合并前的样子" in _text(asked.text)
    assert session.scalar(select(func.count()).select_from(Draft)) == 1  # asking writes nothing

    done = _post(admin, f"{MERGES}/{d}/revert", htmx=False, confirm="1")
    assert done.status_code == 303
    session.expire_all()
    revert = session.scalars(select(Draft).where(Draft.reverts_draft_id == d)).one()
    assert done.headers["location"] == f"/drafts/{revert.id}"
    assert revert.status == "editing"

    row = _text(_row(admin.get(MERGES).text, f"merged-{d}"))
    assert f"撤回草稿 #{revert.id}（编辑中）" in row
    assert "撤回此次合并…" not in row
    again = _post(admin, f"{MERGES}/{d}/revert", confirm="1")
    assert again.status_code == 409
    assert f"已有撤回这次合并的草稿 #{revert.id}" in _text(again.text)
    assert session.scalar(select(func.count()).select_from(Draft)) == 2


def test_the_merge_record_is_for_finance_only(client: TestClient, w: World, session: Session) -> None:
    d = _merged(session, w)
    _login(client, "minzheng")
    assert client.get(MERGES).status_code == 403
    _login(client, "reviewer")  # reviewers merge, so they may revert
    assert f"merged-{d}" in client.get(MERGES).text
    merge_page = client.get(f"/review/drafts/{d}/merge").text
    assert f"{MERGES}#merged-{d}" in merge_page
    csrf = _csrf(client, MERGES)
    done = client.post(f"{MERGES}/{d}/revert", data={"csrf_token": csrf, "confirm": "1"}, headers=HX)
    assert done.status_code == 204
    session.expire_all()
    revert = session.scalars(select(Draft).where(Draft.reverts_draft_id == d)).one()
    assert done.headers["HX-Redirect"] == f"/drafts/{revert.id}"
