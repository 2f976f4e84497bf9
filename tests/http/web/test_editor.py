"""The department editor over HTTP: every route, as htmx sends it, on each database."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.models import Draft, DraftChange, User
from app.services.drafts import items as draft_items
from app.services.drafts import lifecycle as drafts
from app.services.review import workflow as review
from tests.factories import SYSTEM
from tests.workflow_world import PASSWORD, World, world

HX = {"HX-Request": "true", "HX-Current-URL": "http://testserver/drafts/1"}


@pytest.fixture
def w(session: Session) -> World:
    return world(session)


def login(client: TestClient, who: str) -> str:
    """Sign `who` in through the /login form; return the session's CSRF token (as the page carries it)."""
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    response = client.post(
        "/login",
        data={"username": who, "password": PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    found = re.search(r'"X-CSRF-Token": "([^"]+)"', client.get("/desk").text)
    assert found
    return found.group(1)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _lock(html: str) -> int:
    found = re.search(r'id="draft-lock" name="lock" value="(\d+)"', html)
    assert found, html[:500]
    return int(found.group(1))


def _new_draft(client: TestClient, csrf: str) -> int:
    response = client.post("/drafts", data={"catalog": "ceshi", "csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


def _hx(csrf: str) -> dict[str, str]:
    return HX | {"X-CSRF-Token": csrf}


def _changes(session: Session, draft_id: int) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).where(DraftChange.draft_id == draft_id)) or 0


@pytest.fixture
def editor(client: TestClient, w: World) -> tuple[TestClient, str, int]:  # noqa: ARG001 (w: built first)
    csrf = login(client, "minzheng")
    return client, csrf, _new_draft(client, csrf)


@pytest.mark.usefixtures("w")
def test_desk_offers_new_draft_and_links_each_draft_to_the_editor(client: TestClient) -> None:
    csrf = login(client, "minzheng")
    form = client.get("/drafts/new", headers=HX)
    assert 'name="catalog"' in form.text
    assert "测试市政府购买服务指导性目录" in form.text
    assert "<html" not in form.text  # a fragment for the desk
    d = _new_draft(client, csrf)
    desk = client.get("/desk").text
    assert f'href="/drafts/{d}"' in desk
    assert 'hx-get="/drafts/new"' in desk


@pytest.mark.usefixtures("w")
def test_reviewer_desk_links_to_review_pages_and_offers_no_new_draft(client: TestClient) -> None:
    csrf = login(client, "minzheng")
    d = _new_draft(client, csrf)
    page = client.get(f"/drafts/{d}").text
    client.post(f"/drafts/{d}/submit", data={"lock": _lock(page)}, headers=_hx(csrf))
    client.cookies.clear()
    login(client, "reviewer")
    desk = client.get("/desk").text
    assert f'href="/review/drafts/{d}"' in desk
    assert 'hx-get="/drafts/new"' not in desk
    assert 'name="catalog"' not in client.get("/drafts/new", headers=HX).text


def test_editor_page_is_the_departments_tree_with_a_summary(
    editor: tuple[TestClient, str, int], w: World
) -> None:
    client, _, d = editor
    page = client.get(f"/drafts/{d}")
    assert page.status_code == 200
    text = _text(page.text)
    assert "社区居家养老服务" in text
    assert "养老机构服务质量评估" in text
    assert "义务教育阶段课后服务" not in text  # 教育局's item is not in 民政局's editor
    assert "新增 0" in text
    assert "阻止送审 0" in text
    assert 'src="/static/editor-1.js"' in page.text
    assert "session_csrf" not in page.text
    assert _lock(page.text) == 1
    i1, i5 = w.built.uid("i1"), w.built.uid("i5")
    nested = page.text.split(f'id="item-{i1}"')[1]
    assert f'data-type="{i1}"' in nested
    assert f'id="item-{i5}"' in nested  # 助餐服务, a 四级 sub-item, inside its item
    # 教育局 has an item under 公共教育: the type is marked as shared
    assert f'class="etype empty-type shared" id="type-{w.built.type_uid("A01")}"' in page.text
    assert f'class="etype" id="type-{w.built.type_uid("A06")}"' in page.text


def test_add_edit_withdraw_restore_as_you_go(
    editor: tuple[TestClient, str, int], w: World, session: Session
) -> None:
    client, csrf, d = editor
    type_uid = w.built.type_uid("A06")
    form = client.get(f"/drafts/{d}/types/{type_uid}/new", headers=HX)
    assert f'id="add-{type_uid}"' in form.text
    assert 'name="name"' in form.text
    added = client.post(
        f"/drafts/{d}/types/{type_uid}/items",
        data={"name": "老年人助浴服务", "description": "上门助浴", "lock": 1},
        headers=_hx(csrf),
    )
    assert added.status_code == 200, added.text
    assert 'id="workspace"' in added.text
    assert "老年人助浴服务" in added.text
    assert "已新增“老年人助浴服务”" in added.text  # the toast's message
    assert "新增 <strong>1</strong>" in added.text
    new_uid = re.search(r'data-changed="([^"]+)"', added.text)
    assert new_uid
    assert f'id="item-{new_uid.group(1)}"' in added.text
    assert _changes(session, d) == 1

    i1 = w.built.uid("i1")
    edit_form = client.get(f"/drafts/{d}/items/{i1}/edit", headers=HX)
    assert 'name="description"' in edit_form.text
    assert "社区居家养老服务" in edit_form.text
    edited = client.post(
        f"/drafts/{d}/items/{i1}",
        data={"name": "社区居家养老上门服务", "description": "助餐、助洁", "lock": 2},
        headers=_hx(csrf),
    )
    assert edited.status_code == 200
    assert "社区居家养老上门服务" in edited.text
    assert "原名称“社区居家养老服务”" in edited.text
    assert 'class="mark mark-edited">修改' in edited.text

    i2 = w.built.uid("i2")
    withdrawn = client.post(f"/drafts/{d}/items/{i2}/withdraw", data={"lock": 3}, headers=_hx(csrf))
    assert 'class="mark mark-withdrawn">撤销' in withdrawn.text
    assert "撤销 <strong>1</strong>" in withdrawn.text
    restored = client.post(f"/drafts/{d}/items/{i2}/restore", data={"lock": 4}, headers=_hx(csrf))
    assert "撤销 <strong>0</strong>" in restored.text
    assert _lock(restored.text) == 5
    assert _changes(session, d) == 2


def test_move_with_the_picker_and_reorder(editor: tuple[TestClient, str, int], w: World) -> None:
    client, csrf, d = editor
    i2, target = w.built.uid("i2"), w.built.type_uid("A01")
    picker = client.get(f"/drafts/{d}/items/{i2}/move", headers=HX)
    assert 'id="picker-search"' in picker.text
    assert f'value="{target}"' in picker.text
    assert "（当前所在）" in picker.text
    moved = client.post(f"/drafts/{d}/items/{i2}/move", data={"parent": target, "lock": 1}, headers=_hx(csrf))
    assert moved.status_code == 200
    assert 'class="mark mark-moved">移动' in moved.text
    assert "已移动，新编码 A01" in moved.text
    row = moved.text.split(f'id="item-{i2}"')[1]
    assert f'data-type="{target}"' in row.split(">")[0]

    type_uid = w.built.type_uid("A06")
    client.post(
        f"/drafts/{d}/types/{type_uid}/items", data={"name": "老年人助浴服务", "lock": 2}, headers=_hx(csrf)
    )
    own = re.compile(rf'id="item-([^"]+)" data-uid="[^"]+" data-type="{type_uid}"')
    order = own.findall(client.get(f"/drafts/{d}").text)
    assert len(order) == 2
    reordered = client.post(
        f"/drafts/{d}/types/{type_uid}/order",
        data={"uids": list(reversed(order)), "moved": order[1], "lock": 3},
        headers=_hx(csrf),
    )
    assert reordered.status_code == 200, reordered.text
    assert own.findall(reordered.text) == list(reversed(order))


def test_a_sub_item_moves_under_another_of_the_departments_items(
    editor: tuple[TestClient, str, int], w: World, session: Session
) -> None:
    client, csrf, d = editor
    i5, i1, i2, i3 = (w.built.uid(k) for k in ("i5", "i1", "i2", "i3"))
    picker = client.get(f"/drafts/{d}/items/{i5}/move", headers=HX)
    assert "移到三级目录" in picker.text
    assert f'value="{i1}" disabled' in picker.text  # where it is now
    assert f'value="{i2}"' in picker.text
    assert f'value="{i3}"' not in picker.text  # another department's item
    assert f'value="{w.built.type_uid("A06")}"' not in picker.text  # not a type
    moved = client.post(f"/drafts/{d}/items/{i5}/move", data={"parent": i2, "lock": 1}, headers=_hx(csrf))
    assert moved.status_code == 200, moved.text
    item_two = moved.text.split(f'id="item-{i2}"')[1].split('id="item-')[1]
    assert item_two.startswith(i5)  # now listed under 养老机构服务质量评估
    session.expire_all()
    draft = drafts.open_draft(session, d, actor=SYSTEM)
    [change] = [c for c in draft.changes if c.uid == i5]
    assert change.proposed is not None
    assert change.proposed.parent == i2
    i2_code = re.search(rf'value="{i2}">(\S+) ', picker.text)
    assert i2_code
    assert change.proposed.code.startswith(i2_code.group(1))  # a code under its new item
    assert len(change.proposed.code) == len(i2_code.group(1)) + 2
    refused = client.post(f"/drafts/{d}/items/{i5}/move", data={"parent": i3, "lock": 2}, headers=_hx(csrf))
    assert refused.status_code == 403
    wrong_level = client.post(
        f"/drafts/{d}/items/{i5}/move",
        data={"parent": w.built.type_uid("A06"), "lock": 2},
        headers=_hx(csrf),
    )
    assert wrong_level.status_code == 422
    assert "四级目录只能移到三级目录下" in wrong_level.text


def test_screening_fragment_while_typing_writes_nothing(
    editor: tuple[TestClient, str, int], session: Session
) -> None:
    client, csrf, d = editor
    hit = client.post(f"/drafts/{d}/screening", data={"name": "劳务派遣服务"}, headers=_hx(csrf))
    assert hit.status_code == 200
    assert "阻止送审" in hit.text
    assert "劳务派遣" in hit.text
    clean = client.post(f"/drafts/{d}/screening", data={"name": "社区居家养老服务"}, headers=_hx(csrf))
    assert "未发现负面清单问题" in clean.text
    assert _changes(session, d) == 0


def test_submit_confirmation_lists_blockers_and_submit_is_refused(
    editor: tuple[TestClient, str, int], w: World
) -> None:
    client, csrf, d = editor
    i1 = w.built.uid("i1")
    saved = client.post(
        f"/drafts/{d}/items/{i1}", data={"name": "劳务派遣服务", "lock": 1}, headers=_hx(csrf)
    )
    assert "✖ 不能送审" in saved.text
    assert "阻止送审 <strong>1</strong>" in saved.text
    confirm = client.get(f"/drafts/{d}/submit", headers=HX)
    assert "有 1 项负面清单问题阻止送审" in _text(confirm.text)
    assert "劳务派遣" in confirm.text
    assert re.search(r'<button type="submit" class="primary" disabled>确认送审', confirm.text)
    refused = client.post(f"/drafts/{d}/submit", data={"lock": 2}, headers=_hx(csrf))
    assert refused.status_code == 422
    assert refused.headers["HX-Retarget"] == "#flash"
    assert "不能送审" in refused.text
    assert "劳务派遣" in refused.text

    fixed = client.post(
        f"/drafts/{d}/items/{i1}", data={"name": "社区居家养老上门服务", "lock": 2}, headers=_hx(csrf)
    )
    assert "阻止送审 <strong>0</strong>" in fixed.text
    confirm = client.get(f"/drafts/{d}/submit", headers=HX)
    assert "没有阻止送审的负面清单问题" in confirm.text
    sent = client.post(f"/drafts/{d}/submit", data={"lock": 3}, headers=_hx(csrf))
    assert sent.status_code == 200
    assert "已送审" in sent.text
    assert "（只读）" in sent.text
    assert "edit-btn" not in sent.text


def test_writes_without_the_csrf_token_are_refused(
    editor: tuple[TestClient, str, int], w: World, session: Session
) -> None:
    client, _, d = editor
    type_uid = w.built.type_uid("A06")
    for path, data in [
        (f"/drafts/{d}/types/{type_uid}/items", {"name": "老年人助浴服务", "lock": "1"}),
        (f"/drafts/{d}/items/{w.built.uid('i1')}/withdraw", {"lock": "1"}),
        ("/drafts", {"catalog": "ceshi"}),
    ]:
        response = client.post(path, data=data, headers=HX)
        assert response.status_code == 403, path
        assert "CSRF" in response.text
    assert _changes(session, d) == 0


def test_another_departments_draft_does_not_exist_for_you(client: TestClient, w: World) -> None:
    csrf = login(client, "minzheng")
    d = _new_draft(client, csrf)
    client.cookies.clear()
    other = login(client, "jiaoyu")
    assert client.get(f"/drafts/{d}").status_code == 404
    response = client.post(
        f"/drafts/{d}/items/{w.built.uid('i1')}/withdraw", data={"lock": 1}, headers=_hx(other)
    )
    assert response.status_code == 404
    assert response.headers["HX-Retarget"] == "#flash"
    # and 教育局's own draft cannot touch 民政局's item
    mine = _new_draft(client, other)
    response = client.post(
        f"/drafts/{mine}/items/{w.built.uid('i1')}", data={"name": "改名", "lock": 1}, headers=_hx(other)
    )
    assert response.status_code == 403


@pytest.mark.usefixtures("w")
def test_an_ended_session_goes_to_sign_in_and_back_never_to_a_404(client: TestClient) -> None:
    page = client.get("/drafts/1?show=all", follow_redirects=False)
    assert (page.status_code, page.headers["location"]) == (303, "/login?next=/drafts/1%3Fshow%3Dall")
    assert client.get("/drafts/new", follow_redirects=False).headers["location"] == "/login?next=/drafts/new"
    # htmx (saving in the editor after the session ended): told to load the sign-in page
    saved = client.post(
        "/drafts/1/items/x",
        data={"name": "社区居家养老上门服务", "lock": 1},
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/drafts/1#item-x"},
    )
    assert (saved.status_code, saved.headers["HX-Redirect"]) == (401, "/login?next=/drafts/1")
    assert "页面不存在" not in saved.text
    # a plain form post goes back to the page it came from, after signing in
    posted = client.post(
        "/drafts/1/submit",
        data={"lock": 1},
        headers={"referer": "http://testserver/drafts/1"},
        follow_redirects=False,
    )
    assert (posted.status_code, posted.headers["location"]) == (303, "/login?next=/drafts/1")
    elsewhere = client.post(
        "/drafts/1/submit",
        data={"lock": 1},
        headers={"referer": "https://evil.example/x"},
        follow_redirects=False,
    )
    assert elsewhere.headers["location"] == "/login?next=/desk"  # never back to another site


def test_stale_lock_answers_409_naming_what_changed(editor: tuple[TestClient, str, int], w: World) -> None:
    client, csrf, d = editor
    i1, i2 = w.built.uid("i1"), w.built.uid("i2")
    client.post(
        f"/drafts/{d}/items/{i1}", data={"name": "社区居家养老上门服务", "lock": 1}, headers=_hx(csrf)
    )
    stale = client.post(f"/drafts/{d}/items/{i2}/withdraw", data={"lock": 1}, headers=_hx(csrf))
    assert stale.status_code == 409
    assert stale.headers["HX-Retarget"] == "#flash"
    text = _text(stale.text)
    assert "修改 “社区居家养老上门服务”（原名“社区居家养老服务”）" in text
    assert "重新载入页面" in text
    assert 'href="http://testserver/drafts/1"' in stale.text


def test_invalid_input_answers_422_with_the_form_rerendered(
    editor: tuple[TestClient, str, int], w: World, session: Session
) -> None:
    client, csrf, d = editor
    type_uid = w.built.type_uid("A06")
    response = client.post(
        f"/drafts/{d}/types/{type_uid}/items",
        data={"name": "", "description": "只写了服务内容", "lock": 1},
        headers=_hx(csrf),
    )
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == f"#add-{type_uid}"
    assert response.headers["HX-Reswap"] == "outerHTML"
    assert "名称不能为空" in response.text
    assert "只写了服务内容" in response.text
    assert 'aria-invalid="true"' in response.text
    i1 = w.built.uid("i1")
    response = client.post(f"/drafts/{d}/items/{i1}", data={"name": "名" * 101, "lock": 1}, headers=_hx(csrf))
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == f"#item-{i1}"
    assert "名称过长" in response.text
    assert 'class="edit-form"' in response.text
    assert _changes(session, d) == 0
    assert _lock(client.get(f"/drafts/{d}").text) == 1  # the refused writes did not advance the lock


def test_plain_form_posts_come_back_to_the_editor(editor: tuple[TestClient, str, int], w: World) -> None:
    client, csrf, d = editor
    response = client.post(
        f"/drafts/{d}/items/{w.built.uid('i2')}/withdraw",
        data={"lock": 1, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"/drafts/{d}#item-")
    bad = client.post(
        f"/drafts/{d}/types/{w.built.type_uid('A06')}/items", data={"name": "", "lock": 2, "csrf_token": csrf}
    )
    assert bad.status_code == 422
    assert "<html" in bad.text
    assert "名称不能为空" in bad.text


def test_upload_of_a_bad_file_reports_row_by_row_and_writes_nothing(
    editor: tuple[TestClient, str, int], session: Session
) -> None:
    client, csrf, d = editor
    bad = (
        "一级目录,二级目录,三级目录,服务内容\n"
        "基本公共服务,不存在的类型,老年人助浴服务,上门助浴\n"
        ",,,\n"
        "基本公共服务,养老服务,,缺名称\n"
    )
    response = client.post(
        f"/drafts/{d}/imports",
        data={"lock": 1},
        files={"file": ("民政.csv", bad.encode(), "text/csv")},
        headers=_hx(csrf),
    )
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#import-report"
    text = _text(response.text)
    assert "未导入任何内容" in text
    assert re.search(r"<td>2</td>", response.text)
    assert "不存在的类型" in text
    assert _changes(session, d) == 0
    assert _lock(client.get(f"/drafts/{d}").text) == 1


def test_the_department_sees_the_reviewers_comments_beside_its_items_and_on_the_draft(
    client: TestClient, w: World, session: Session
) -> None:
    def user(name: str) -> User:
        return session.scalars(select(User).where(User.username == name)).one()

    mz, rv = user("minzheng"), user("reviewer")
    i1, i2 = w.built.uid("i1"), w.built.uid("i2")
    d = drafts.create_draft(session, "ceshi", actor=mz, title="意见").id
    draft_items.edit_item(session, d, i1, name="社区居家养老上门服务", lock=1, actor=mz)
    draft_items.edit_item(session, d, i2, description="每年评估一次。", lock=2, actor=mz)
    review.submit(session, d, actor=mz, lock=3)
    review.add_comment(session, d, body="名称请与<三定>方案一致", uid=i1, actor=rv)
    review.add_comment(session, d, body="请补充服务标准", uid=i1, actor=rv)
    review.add_comment(session, d, body="整体可行，个别条目需修改", uid=None, actor=rv)
    review.return_draft(
        session, d, reason="请按意见修改", actor=rv, lock=session.get_one(Draft, d).lock_version
    )
    login(client, "minzheng")
    page = client.get(f"/drafts/{d}").text
    item = page.split(f'id="item-{i1}"')[1].split('class="item-actions"')[0]
    assert f'<details class="item-comments" id="comments-{i1}" open>' in item
    assert "审核意见（2 条）" in item
    assert "名称请与&lt;三定&gt;方案一致" in item  # escaped
    assert "请补充服务标准" in item
    assert "整体可行" not in item
    other = page.split(f'id="item-{i2}"')[1].split("</li>")[0]
    assert "审核意见" not in other  # no comments, no block
    summary = page.split('id="summary"')[1].split("</section>")[0]
    assert "退回理由：请按意见修改" in summary
    assert "审核意见：对整份草稿 1 条，对条目 2 条（见各条目下）" in _text(summary)
    assert "整体可行，个别条目需修改" in summary
    assert "名称请与" not in summary  # item comments stay beside their item


def _edit_one(client: TestClient, csrf: str, d: int, w: World) -> None:
    page = client.get(f"/drafts/{d}").text
    saved = client.post(
        f"/drafts/{d}/items/{w.built.uid('i1')}",
        data={"name": "社区居家养老上门服务", "lock": _lock(page)},
        headers=_hx(csrf),
    )
    assert saved.status_code == 200, saved.text


def test_withdrawing_asks_first_and_the_department_can_reopen_it_while_the_round_lasts(
    editor: tuple[TestClient, str, int], w: World, session: Session
) -> None:
    client, csrf, d = editor
    _edit_one(client, csrf, d, w)
    asked = _text(client.get(f"/drafts/{d}/withdraw", headers=HX).text)
    assert "撤回后，本草稿（新增 0 项，修改 1 项" in asked
    assert "不再送审，也不会合并" in asked
    assert "撤回理由" not in asked  # the department withdraws its own: no reason asked
    lock = _lock(client.get(f"/drafts/{d}").text)
    done = client.post(f"/drafts/{d}/withdraw", data={"lock": lock}, headers=_hx(csrf))
    assert done.status_code == 200
    assert "已撤回" in _text(done.text)
    assert "重新打开草稿" in done.text
    reopened = client.post(f"/drafts/{d}/reopen", data={"lock": _lock(done.text)}, headers=_hx(csrf))
    assert reopened.status_code == 200
    assert "编辑中" in _text(reopened.text)
    assert _changes(session, d) == 1  # nothing it held was lost


def test_finance_withdrawing_a_departments_draft_gives_a_reason_the_department_sees(
    editor: tuple[TestClient, str, int], w: World
) -> None:
    client, csrf, d = editor
    _edit_one(client, csrf, d, w)
    from fastapi.testclient import TestClient as Client

    reviewer = Client(client.app)
    rcsrf = login(reviewer, "reviewer")
    asked = reviewer.get(f"/drafts/{d}/withdraw", headers=HX).text
    assert "撤回理由（必填，部门可以看到）" in asked
    lock = _lock(reviewer.get(f"/drafts/{d}").text)
    refused = reviewer.post(f"/drafts/{d}/withdraw", data={"lock": lock}, headers=_hx(rcsrf))
    assert refused.status_code == 422
    assert refused.headers["HX-Retarget"] == "#withdraw-form"
    assert "须说明理由" in refused.text
    done = reviewer.post(
        f"/drafts/{d}/withdraw", data={"lock": lock, "reason": "与教育局的草稿重复"}, headers=_hx(rcsrf)
    )
    assert done.status_code == 200
    seen = _text(client.get(f"/drafts/{d}").text)
    assert "财政部门的撤回理由：与教育局的草稿重复" in seen


def test_a_withdrawn_draft_cannot_be_reopened_once_its_round_is_issued(
    editor: tuple[TestClient, str, int], w: World, session: Session
) -> None:
    from datetime import date

    from app.services.catalogs import authoring
    from app.services.versions import lifecycle
    from tests.factories import issuer

    client, csrf, d = editor
    lock = _lock(client.get(f"/drafts/{d}").text)
    done = client.post(f"/drafts/{d}/withdraw", data={"lock": lock}, headers=_hx(csrf))
    authoring.open_next_version(session, w.built.catalog, "2026年版")
    session.commit()
    today = date(2026, 3, 2)
    lifecycle.issue(
        session, "ceshi", 2, doc_number="测财购〔2026〕3号", on=today, today=today, actor=issuer(session)
    )
    refused = client.post(f"/drafts/{d}/reopen", data={"lock": _lock(done.text)}, headers=_hx(csrf))
    assert refused.status_code == 409
    assert "本轮的第2版（2026年版）已印发，撤回的草稿不能再打开：请新建草稿" in _text(refused.text)


def test_a_double_click_on_submit_or_new_draft_does_it_once(
    editor: tuple[TestClient, str, int], w: World, session: Session
) -> None:
    client, csrf, d = editor
    _edit_one(client, csrf, d, w)
    lock = _lock(client.get(f"/drafts/{d}").text)
    first = client.post(f"/drafts/{d}/submit", data={"lock": lock}, headers=_hx(csrf))
    second = client.post(f"/drafts/{d}/submit", data={"lock": lock}, headers=_hx(csrf))  # the same click
    assert (first.status_code, second.status_code) == (200, 200)
    assert "已送审" in _text(second.text)
    from app.db.models import AuditEvent

    submits = session.scalars(select(AuditEvent).where(AuditEvent.action == "draft.submit")).all()
    assert len(submits) == 1
    form = client.get("/drafts/new", headers=HX).text
    token = re.search(r'name="request_token" value="([^"]+)"', form)
    assert token
    fields = {"catalog": "ceshi", "csrf_token": csrf, "request_token": token.group(1)}
    one = client.post("/drafts", data=fields, follow_redirects=False)
    two = client.post("/drafts", data=fields, follow_redirects=False)
    assert one.headers["location"] == two.headers["location"]  # the same draft, not a second one


def test_an_empty_draft_made_by_mistake_can_be_deleted_a_draft_with_work_cannot(
    editor: tuple[TestClient, str, int], w: World, session: Session
) -> None:
    client, csrf, d = editor
    page = client.get(f"/drafts/{d}").text
    assert "删除空草稿…" in page
    asked = _text(client.get(f"/drafts/{d}/delete", headers=HX).text)
    assert "删除后它将从待办中消失，不能恢复" in asked
    deleted = client.post(f"/drafts/{d}/delete", headers=_hx(csrf))
    assert (deleted.status_code, deleted.headers["HX-Redirect"]) == (204, "/desk")
    session.expire_all()
    assert session.get(Draft, d) is None
    kept = _new_draft(client, csrf)
    _edit_one(client, csrf, kept, w)
    assert "删除空草稿" not in client.get(f"/drafts/{kept}").text
    refused = client.post(f"/drafts/{kept}/delete", headers=_hx(csrf))
    assert refused.status_code == 409
    assert "草稿中已有修改，不能删除" in _text(refused.text)
