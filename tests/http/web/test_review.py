"""The review desk over HTTP: the queue, a draft's review page (diff tree, filters, comments,
overrides, decisions) and the merge page (conflicts side by side, per field and per type, summary,
the one-transaction merge), with the in-place answers a refused form gets."""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import store
from app.db.models import Draft, Jurisdiction, User, Version
from app.services.drafts import items as draft_items
from app.services.drafts import lifecycle as drafts
from app.services.merging import merge as merging
from app.services.people import accounts as people
from app.services.review import workflow as review
from tests.workflow_world import PASSWORD, World, world

HX = {"HX-Request": "true"}


def user(session: Session, name: str) -> User:
    return session.scalars(select(User).where(User.username == name)).one()


@dataclass
class Drafts:
    w: World
    submitted: int  # 民政局: renames i1, moves i2 to 公共教育, withdraws i5, adds 老年助餐服务点运营
    editing: int  # 教育局, still being edited


def review_world(session: Session) -> Drafts:
    """Return a world with one submitted draft of each kind of change and one draft still being edited."""
    w = world(session)
    b, mz, jy = w.built, user(session, "minzheng"), user(session, "jiaoyu")
    d = drafts.create_draft(session, "ceshi", actor=mz, title="2026年民政调整").id
    draft_items.edit_item(session, d, b.uid("i1"), name="社区居家养老上门服务", lock=1, actor=mz)
    draft_items.move_item(session, d, b.uid("i2"), parent=b.type_uid("A01"), lock=2, actor=mz)
    draft_items.withdraw_item(session, d, b.uid("i5"), lock=3, actor=mz)
    draft_items.add_item(
        session, d, parent=b.type_uid("A06"), name="老年助餐服务点运营", description="", lock=4, actor=mz
    )
    review.submit(session, d, actor=mz, lock=5)
    e = drafts.create_draft(session, "ceshi", actor=jy, title="教育局草稿").id
    draft_items.edit_item(session, e, b.uid("i3"), name="课后服务", lock=1, actor=jy)
    return Drafts(w, d, e)


def conflict_world(session: Session) -> tuple[World, int]:
    """Return a world where two approved drafts touch the same item and the same code; the first is merged.

    The second (教育局's, with a finance reviewer's edits) then conflicts twice: 社区居家养老服务's
    name changed two ways (under 养老服务), and a second 民政局 老年教育服务 under 公共教育 (a
    duplicate name). Its new 课后托管延时服务 proposed A01002, which the first took: renumbered.
    """
    w = world(session)
    b = w.built
    mz, jy, rv, rv2 = (user(session, n) for n in ("minzheng", "jiaoyu", "reviewer", "reviewer2"))
    first = drafts.create_draft(session, "ceshi", actor=mz, title="民政调整").id
    draft_items.edit_item(session, first, b.uid("i1"), name="社区居家养老上门服务", lock=1, actor=mz)
    draft_items.add_item(
        session, first, parent=b.type_uid("A01"), name="老年教育服务", description="", lock=2, actor=mz
    )
    second = drafts.create_draft(session, "ceshi", actor=jy, title="教育调整").id
    draft_items.add_item(
        session, second, parent=b.type_uid("A01"), name="课后托管延时服务", description="", lock=1, actor=jy
    )
    draft_items.edit_item(session, second, b.uid("i1"), name="居家养老综合服务", lock=2, actor=rv)
    draft_items.edit_item(session, second, b.uid("i3"), description="放学后提供托管。", lock=3, actor=jy)
    draft_items.add_item(
        session, second, parent=b.type_uid("A01"), name="老年教育服务", department="101", lock=4, actor=rv
    )
    for d, by in ((first, mz), (second, jy)):
        lock = review.submit(session, d, actor=by, lock=session.get_one(Draft, d).lock_version).lock_version
        review.approve(session, d, actor=rv2, lock=lock)
    assert merging.merge_draft(session, first, actor=rv2).merged
    return w, second


def login(client: TestClient, who: str) -> str:
    """Sign `who` in on the client's cookie jar; return the session's CSRF token."""
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    client.post("/login", data={"username": who, "password": PASSWORD, "csrf_token": token.group(1)})
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/desk").text)
    assert found
    return found.group(1)


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def lock_of(session: Session, draft_id: int) -> int:
    session.expire_all()
    return session.get_one(Draft, draft_id).lock_version


def status_of(session: Session, draft_id: int) -> str:
    session.expire_all()
    return session.get_one(Draft, draft_id).status


@pytest.fixture
def rw(session: Session) -> Drafts:
    return review_world(session)


# --- the queue ------------------------------------------------------------------------------------


def test_queue_lists_the_submitted_drafts_in_scope_with_links(client: TestClient, rw: Drafts) -> None:
    assert client.get("/review", follow_redirects=False).headers["location"] == "/login?next=/review"
    login(client, "reviewer")
    page = client.get("/review")
    assert page.status_code == 200
    assert f'href="/review/drafts/{rw.submitted}"' in page.text
    assert f"#{rw.submitted} 2026年民政调整" in text(page.text)
    assert "民政局" in text(page.text)
    assert f"/review/drafts/{rw.editing}" not in page.text  # still being edited: not in the queue


def test_finance_of_another_jurisdiction_sees_neither_the_draft_nor_its_page(
    client: TestClient, rw: Drafts, session: Session
) -> None:
    elsewhere = Jurisdiction(code="990200", name="邻市", level="city")
    session.add(elsewhere)
    session.flush()
    people.add_user(
        session, username="linshi", password=PASSWORD, role="finance_reviewer", jurisdiction_id=elsewhere.id
    )
    session.commit()
    login(client, "linshi")
    assert "没有待审核的草稿" in client.get("/review").text
    assert client.get(f"/review/drafts/{rw.submitted}").status_code == 404
    assert client.get(f"/review/drafts/{rw.submitted}/merge").status_code == 404


def test_a_department_user_cannot_open_the_review_desk_or_act(
    client: TestClient, rw: Drafts, session: Session
) -> None:
    d = rw.submitted
    csrf = login(client, "minzheng")  # the draft's own department
    assert client.get("/review").status_code == 403
    assert client.get(f"/review/drafts/{d}").status_code == 403
    assert client.get(f"/review/drafts/{d}/merge").status_code == 403
    lock = lock_of(session, d)
    for url, data in (
        (f"/review/drafts/{d}/approve", {"lock_version": lock}),
        (f"/review/drafts/{d}/return", {"lock_version": lock, "reason": "自己退回"}),
        (f"/review/drafts/{d}/comments", {"body": "评论"}),
        (f"/review/drafts/{d}/merge", {"seen": "x"}),
    ):
        assert client.post(url, data={**data, "csrf_token": csrf}).status_code == 403, url
    assert status_of(session, d) == "submitted"
    csrf = login(client, "jiaoyu")  # another department: the draft does not exist for it
    assert client.get(f"/review/drafts/{d}").status_code == 404
    assert (
        client.post(
            f"/review/drafts/{d}/approve", data={"lock_version": lock, "csrf_token": csrf}
        ).status_code
        == 404
    )


def test_a_write_without_the_csrf_token_is_refused(client: TestClient, rw: Drafts, session: Session) -> None:
    login(client, "reviewer")
    lock = lock_of(session, rw.submitted)
    assert (
        client.post(f"/review/drafts/{rw.submitted}/approve", data={"lock_version": lock}).status_code == 403
    )
    assert status_of(session, rw.submitted) == "submitted"


# --- the review page --------------------------------------------------------------------------


def test_the_diff_is_the_tree_with_each_change_inline(client: TestClient, rw: Drafts) -> None:
    login(client, "reviewer")
    html = client.get(f"/review/drafts/{rw.submitted}").text
    page = text(html)
    assert "A06 养老服务" in page
    assert "A01 公共教育" in page
    assert re.search(r'badge-added">新增</span>.*?<ins class="name">老年助餐服务点运营</ins>', html, re.S)
    assert re.search(r'badge-removed">撤销</span>.*?<del class="name">助餐服务</del>', html, re.S)
    assert "移动：A06 养老服务 → A01 公共教育" in page
    assert re.search(
        r"<dt>名称</dt><dd><del>社区居家养老服务</del>.*?<ins>社区居家养老上门服务</ins>", html, re.S
    )
    # the move also re-sorts the item: bookkeeping, not a 修改 (it counted as one before)
    assert "新增 1 撤销 1 移动 1 修改 1" in page.replace("　", " ")
    # the decisions are the ones allowed_actions gives a reviewer on a submitted draft
    assert f'action="/review/drafts/{rw.submitted}/return"' in html
    assert f'action="/review/drafts/{rw.submitted}/approve"' in html
    assert "/merge" not in html.split('id="decision"')[1].split("</section>")[0]


def test_the_reviewer_downloads_the_drafts_comparison_table_from_the_page(
    client: TestClient, rw: Drafts
) -> None:
    login(client, "reviewer")
    html = client.get(f"/review/drafts/{rw.submitted}").text
    link = f"/api/v1/drafts/{rw.submitted}/diff?format=xlsx"
    assert f'href="{link}"' in html
    sheet = client.get(link)  # signed in by the page's session cookie
    assert sheet.status_code == 200
    rows = list(load_workbook(io.BytesIO(sheet.content), read_only=True).active.iter_rows(values_only=True))
    assert {r[0] for r in rows[2:]} == {"新增", "撤销", "更名", "移动"}  # a move, not a 内容调整 too
    assert "老年助餐服务点运营" in {r[4] for r in rows[2:]}


def test_a_new_and_a_withdrawn_item_show_what_they_contain(client: TestClient, session: Session) -> None:
    w = world(session)
    mz = user(session, "minzheng")
    d = drafts.create_draft(session, "ceshi", actor=mz, title="内容").id
    draft_items.withdraw_item(session, d, w.built.uid("i5"), lock=1, actor=mz)
    added = draft_items.add_item(
        session,
        d,
        parent=w.built.type_uid("A06"),
        name="老年助餐点运营",
        description="运营<社区>助餐点。",
        lock=2,
        actor=mz,
    )
    review.submit(session, d, actor=mz, lock=3)
    login(client, "reviewer")
    html = client.get(f"/review/drafts/{d}").text
    new_block = html.split(f'id="item-{added.uid}"')[1].split("</li>")[0]
    assert "<dt>服务内容</dt><dd><ins>运营&lt;社区&gt;助餐点。</ins></dd>" in new_block
    assert "<dt>购买主体</dt><dd><ins>民政局</ins></dd>" in new_block
    gone_block = html.split(f'id="item-{w.built.uid("i5")}"')[1].split("</li>")[0]
    assert "<dt>服务内容</dt><dd><del>为老年人提供集中用餐和送餐服务。</del></dd>" in gone_block
    assert "<dt>购买主体</dt><dd><del>民政局</del></dd>" in gone_block


def test_filters_narrow_the_tree(client: TestClient, rw: Drafts) -> None:
    login(client, "reviewer")
    url = f"/review/drafts/{rw.submitted}"
    moves = text(client.get(url, params={"show": "moves"}).text)
    assert "养老机构服务质量评估" in moves
    assert "老年助餐服务点运营" not in moves
    assert "社区居家养老上门服务" not in moves
    assert "显示 1 项修改（已筛选）" in moves
    education = client.get(
        url, params={"type": rw.w.built.type_uid("A01")}, headers={**HX, "HX-Target": "diff"}
    )
    assert education.status_code == 200
    assert "<html" not in education.text  # the fragment the filter form swaps in
    assert "养老机构服务质量评估" in text(education.text)
    assert "老年助餐服务点运营" not in text(education.text)
    nothing = text(client.get(url, params={"show": "findings"}).text)
    assert "没有符合条件的修改" in nothing
    assert client.get(url, params={"show": "nonsense"}).status_code == 422


def test_return_without_a_reason_answers_422_with_the_form_again(
    client: TestClient, rw: Drafts, session: Session
) -> None:
    csrf = login(client, "reviewer")
    d = rw.submitted
    data = {"csrf_token": csrf, "lock_version": lock_of(session, d), "reason": "  "}
    fragment = client.post(f"/review/drafts/{d}/return", data=data, headers=HX)
    assert fragment.status_code == 422
    assert fragment.text.lstrip().startswith('<section id="decision"')
    assert "退回修改必须说明理由" in fragment.text
    assert 'aria-invalid="true"' in fragment.text
    whole = client.post(
        f"/review/drafts/{d}/return", data=data
    )  # without JavaScript: the page, message in place
    assert whole.status_code == 422
    assert "<html" in whole.text
    assert "退回修改必须说明理由" in whole.text
    assert status_of(session, d) == "submitted"
    data["reason"] = "请补充服务内容和绩效目标"
    done = client.post(f"/review/drafts/{d}/return", data=data, headers=HX)
    assert done.status_code == 200
    assert "已退回" in text(done.text)
    assert "请补充服务内容和绩效目标" in done.text
    assert json.loads(done.headers["HX-Trigger"]) == {"guidecat:toast": "已退回部门修改，理由已随草稿送回。"}
    session.expire_all()
    assert (status_of(session, d), session.get_one(Draft, d).return_reason) == (
        "returned",
        "请补充服务内容和绩效目标",
    )


def test_approve_is_refused_to_a_reviewer_who_edited_the_draft(client: TestClient, session: Session) -> None:
    w = world(session)
    mz, rv = user(session, "minzheng"), user(session, "reviewer")
    d = drafts.create_draft(session, "ceshi", actor=mz).id
    draft_items.edit_item(session, d, w.built.uid("i1"), name="社区居家养老上门服务", lock=1, actor=rv)
    review.submit(session, d, actor=mz, lock=2)
    csrf = login(client, "reviewer")
    refused = client.post(
        f"/review/drafts/{d}/approve", data={"csrf_token": csrf, "lock_version": 3}, headers=HX
    )
    assert refused.status_code == 403
    assert "您修改过这份草稿" in refused.text
    assert status_of(session, d) == "submitted"
    csrf = login(client, "reviewer2")
    approved = client.post(
        f"/review/drafts/{d}/approve", data={"csrf_token": csrf, "lock_version": 3}, follow_redirects=False
    )
    assert approved.status_code == 303
    assert approved.headers["location"] == f"/review/drafts/{d}?notice=approve#decision"
    assert status_of(session, d) == "approved"
    page = client.get(approved.headers["location"]).text
    assert "已审核通过，可以合并" in page
    assert f'href="/review/drafts/{d}/merge"' in page


def test_a_stale_decision_answers_409_with_a_reload_link(
    client: TestClient, rw: Drafts, session: Session
) -> None:
    d = rw.submitted
    seen = lock_of(session, d)
    review.return_draft(session, d, reason="先退回", actor=user(session, "reviewer2"), lock=seen)
    csrf = login(client, "reviewer")
    stale = client.post(
        f"/review/drafts/{d}/approve", data={"csrf_token": csrf, "lock_version": seen}, headers=HX
    )
    assert stale.status_code == 409
    assert f"第 {seen} 次 → 第 {seen + 1} 次" in stale.text
    assert "已退回" in text(stale.text)  # what it is now
    assert f'href="/review/drafts/{d}">重新载入' in stale.text
    assert "审核通过</button>" not in stale.text
    assert status_of(session, d) == "returned"


def test_comments_on_an_item_and_on_the_draft_show_up(client: TestClient, rw: Drafts) -> None:
    csrf = login(client, "reviewer")
    d, uid = rw.submitted, rw.w.built.uid("i1")
    empty = client.post(
        f"/review/drafts/{d}/comments", data={"csrf_token": csrf, "item": uid, "body": ""}, headers=HX
    )
    assert empty.status_code == 422
    assert "评论内容不能为空" in empty.text
    assert f'id="comments-{uid}"' in empty.text
    said = client.post(
        f"/review/drafts/{d}/comments",
        data={"csrf_token": csrf, "item": uid, "body": "名称请与部门三定方案一致"},
        headers=HX,
    )
    assert said.status_code == 200
    assert "just-changed" in said.text
    assert f'<span id="comment-count-{uid}" hx-swap-oob="true">1</span>' in said.text
    assert "名称请与部门三定方案一致" in said.text
    client.post(f"/review/drafts/{d}/comments", data={"csrf_token": csrf, "item": "", "body": "整体可行<b>"})
    page = client.get(f"/review/drafts/{d}").text
    item_block = page.split(f'id="item-{rw.w.built.uid("i1")}"')[1].split("</li>")[0]
    assert "名称请与部门三定方案一致" in page.split(f'id="comments-{uid}"')[1].split("</form>")[0]
    assert f'评论（<span id="comment-count-{uid}">1</span>）' in item_block
    assert "整体可行&lt;b&gt;" in page.split('id="comments-draft"')[1]  # escaped, on the draft


def test_a_finding_override_needs_a_reason_and_shows_it(client: TestClient, session: Session) -> None:
    w = world(session)
    mz = user(session, "minzheng")
    d = drafts.create_draft(session, "ceshi", actor=mz).id
    uid = w.built.uid("i1")
    draft_items.edit_item(session, d, uid, name="社区养老劳务派遣服务", lock=1, actor=mz)
    csrf = login(client, "reviewer")
    page = client.get(f"/review/drafts/{d}", params={"show": "findings"}).text
    assert "⛔ 阻止" in page
    assert "X10-5-dispatch" in page
    assert "命中“劳务派遣”" in page
    url = f"/review/drafts/{d}/items/{uid}/overrides"
    blank = client.post(url, data={"csrf_token": csrf, "rule": "X10-5-dispatch", "reason": " "}, headers=HX)
    assert blank.status_code == 422
    assert "确认例外必须填写理由" in blank.text
    assert blank.text.lstrip().startswith(f'<div class="findings" id="findings-{uid}"')
    reason = "经核实为食堂托管服务，按服务成果付费"
    done = client.post(url, data={"csrf_token": csrf, "rule": "X10-5-dispatch", "reason": reason}, headers=HX)
    assert done.status_code == 200
    assert f"已确认例外，理由：{reason}" in done.text
    assert f"已确认例外，理由：{reason}" in client.get(f"/review/drafts/{d}").text
    review.submit(session, d, actor=mz, lock=2)  # the override lifts the gate
    assert status_of(session, d) == "submitted"


# --- merging ------------------------------------------------------------------------------------


def _seen(html: str) -> str:
    found = re.search(r'name="seen" value="([^"]*)"', html)
    assert found
    return found.group(1)


def _conflict_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'action="/review/drafts/\d+/merge/conflicts/(\d+)"', html)]


def _name_of(session: Session, w: World, key: str, seq: int) -> str:
    session.expire_all()
    return store.load_nodes(session, w.built.catalog.id, seq, uids=[w.built.uid(key)])[
        w.built.uid(key)
    ].state.name


def test_a_conflicting_merge_is_resolved_per_field_and_per_type_then_merged_in_one_go(
    client: TestClient, session: Session
) -> None:
    w, d = conflict_world(session)
    csrf = login(client, "reviewer")
    url = f"/review/drafts/{d}/merge"
    first = client.get(url).text
    page = text(first)
    assert "冲突：共 2 个，待处理 2 个" in page
    assert (
        "原值（草稿依据的版本） 社区居家养老服务 现行版本 社区居家养老上门服务 草稿 居家养老综合服务" in page
    )
    assert "「老年教育服务」（A01004）与「老年教育服务」（A01002）同名" in page
    # the new item whose provisional code the first draft took is renumbered, not a conflict
    assert "编码调整：1 个新增条目" in page
    assert "课后托管延时服务： A01002 → A01003" in page
    assert "登记冲突，开始处理" in page
    assert _conflict_ids(first) == []
    registered = client.post(url, data={"csrf_token": csrf, "seen": _seen(first)}, headers=HX)
    assert registered.status_code == 200  # the reviewer asked for it: nothing merged, conflicts stored
    assert status_of(session, d) == "approved"
    dup, name = _conflict_ids(registered.text)
    assert 'disabled aria-describedby="merge-blocked"' in registered.text
    blocked = client.post(url, data={"csrf_token": csrf, "seen": _seen(registered.text)}, headers=HX)
    assert blocked.status_code == 409  # nothing merges while a conflict is open
    assert "还有 2 个冲突需要处理" in blocked.text
    assert (status_of(session, d), _name_of(session, w, "i1", 2)) == ("approved", "社区居家养老上门服务")
    renewed = _conflict_ids(blocked.text)
    if renewed != [
        dup,
        name,
    ]:  # stored again under new ids (PostgreSQL never reuses one)
        gone = client.post(f"{url}/conflicts/{name}", data={"csrf_token": csrf, "take": "ours"}, headers=HX)
        assert gone.status_code == 409
        assert "请重新载入页面" in gone.text
    dup, name = renewed
    # only the choices the merge would take are offered: keeping both same-named items is not
    card = _card(blocked.text, dup)
    assert "保留现行版本，不采用草稿的这一条" in card
    assert 'value="theirs"' not in card
    assert "采用草稿的这一条，撤销「A01002 老年教育服务」" in card
    assert f'id="edit-{dup}" name="value" value="老年教育服务"' in card  # renaming starts from the name
    group = _group(blocked.text, "A01")
    assert "本类全部采用现行版本" in group
    assert "本类全部采用草稿" not in group
    refused = client.post(f"{url}/conflicts/{dup}", data={"csrf_token": csrf, "take": "theirs"}, headers=HX)
    assert refused.status_code == 422
    assert "此选择会破坏目录结构，未予采用" in text(refused.text)
    assert "✓ 已采用" not in _card(refused.text, dup)
    bulk = client.post(
        f"{url}/conflicts",
        data={"csrf_token": csrf, "type": w.built.type_uid("A01"), "take": "theirs"},
        headers=HX,
    )
    assert bulk.status_code == 422
    assert "本类有 1 个冲突不能采用草稿" in text(bulk.text)

    bad = client.post(
        f"{url}/conflicts/{name}", data={"csrf_token": csrf, "take": "edit", "value": ""}, headers=HX
    )
    assert bad.status_code == 422
    assert "编辑后的取值不能为空" in bad.text
    assert 'id="merge-body"' in bad.text
    edited = client.post(
        f"{url}/conflicts/{name}",
        data={"csrf_token": csrf, "take": "edit", "value": "社区居家养老综合服务"},
        headers=HX,
    )
    assert edited.status_code == 200
    assert "待处理 1 个" in text(edited.text)
    assert "已选择：编辑后的取值——社区居家养老综合服务" in edited.text
    renamed = client.post(
        f"{url}/conflicts/{dup}",
        data={"csrf_token": csrf, "take": "edit", "value": "老年教育课后服务"},
        headers=HX,
    )
    assert renamed.status_code == 200, renamed.text
    summary = text(renamed.text)
    assert "待处理 0 个" in summary
    assert "新增、编码调整 A01003 课后托管延时服务 编码调整：草稿暂定 A01002" in summary
    assert "新增、编码调整 A01004 老年教育课后服务 编码调整：草稿暂定 A01003" in summary
    assert "更名 A06001 社区居家养老上门服务 A06001 社区居家养老综合服务 名称" in summary
    assert "内容调整 A01001 义务教育阶段课后服务 A01001 义务教育阶段课后服务 说明" in summary

    stale_seen = _seen(renamed.text)
    client.post(f"{url}/conflicts/{name}", data={"csrf_token": csrf, "take": "ours"}, headers=HX)
    stale = client.post(url, data={"csrf_token": csrf, "seen": stale_seen}, headers=HX)
    assert stale.status_code == 409
    assert "重新载入" in stale.text
    assert status_of(session, d) == "approved"

    fresh = client.get(url).text
    merged = client.post(url, data={"csrf_token": csrf, "seen": _seen(fresh)}, headers=HX)
    assert merged.status_code == 200, merged.text
    assert "已合并到第2版" in text(merged.text)
    assert "写入目录：新增 2 项、修改 1 项" in text(merged.text)
    assert "课后托管延时服务： A01002 → A01003" in text(merged.text)  # the renumbering, reported after
    assert status_of(session, d) == "merged"
    assert _name_of(session, w, "i1", 2) == "社区居家养老上门服务"  # the head's value was taken at last
    session.expire_all()
    head = session.scalars(select(Version).where(Version.seq == 2)).one()
    codes = {
        n.state.name: n.state.code
        for n in store.load_nodes(
            session, w.built.catalog.id, head.seq, parent_uids=[w.built.type_uid("A01")]
        ).values()
    }
    assert codes == {
        "义务教育阶段课后服务": "A01001",
        "老年教育服务": "A01002",
        "课后托管延时服务": "A01003",
        "老年教育课后服务": "A01004",
    }
    reviewed = text(client.get(f"/review/drafts/{d}").text)
    assert "编码调整：暂定编码 A01002 已被先合并的草稿占用，合并后为 A01003" in reviewed


def test_keeping_the_drafts_same_named_item_withdraws_the_other(client: TestClient, session: Session) -> None:
    w, d = conflict_world(session)
    csrf = login(client, "reviewer")
    url = f"/review/drafts/{d}/merge"
    registered = client.post(url, data={"csrf_token": csrf, "seen": _seen(client.get(url).text)}, headers=HX)
    dup, name = _conflict_ids(registered.text)
    kept = client.post(
        f"{url}/conflicts/{dup}", data={"csrf_token": csrf, "take": "withdraw_other"}, headers=HX
    )
    assert kept.status_code == 200, kept.text
    summary = text(kept.text)
    assert "撤销 A01002 老年教育服务" in summary
    assert "新增、编码调整 A01004 老年教育服务" in summary
    client.post(f"{url}/conflicts/{name}", data={"csrf_token": csrf, "take": "ours"}, headers=HX)
    merged = client.post(url, data={"csrf_token": csrf, "seen": _seen(client.get(url).text)}, headers=HX)
    assert merged.status_code == 200, merged.text
    session.expire_all()
    names = [
        n.state.name
        for n in store.load_nodes(
            session, w.built.catalog.id, 2, parent_uids=[w.built.type_uid("A01")]
        ).values()
    ]
    assert sorted(names) == ["义务教育阶段课后服务", "老年教育服务", "课后托管延时服务"]  # one, not two


def _card(html: str, conflict_id: int) -> str:
    found = re.search(rf'<article class="conflict[^"]*" id="conflict-{conflict_id}".*?</article>', html, re.S)
    assert found, f"no conflict {conflict_id}"
    return found.group(0)


def _group(html: str, type_code: str) -> str:
    found = re.search(
        rf'<section class="conflict-group"(?:(?!</section>).)*?{type_code}.*?</section>', html, re.S
    )
    assert found, f"no group {type_code}"
    return found.group(0)


def test_the_merge_page_without_javascript_and_for_a_draft_not_yet_approved(
    client: TestClient, rw: Drafts, session: Session
) -> None:
    csrf = login(client, "reviewer")
    d = rw.submitted
    assert "审核通过后才能合并" in text(client.get(f"/review/drafts/{d}/merge").text)
    refused = client.post(f"/review/drafts/{d}/merge", data={"csrf_token": csrf, "seen": ""})
    assert refused.status_code == 409
    assert "<html" in refused.text
    review.approve(session, d, actor=user(session, "reviewer2"), lock=lock_of(session, d))
    page = client.get(f"/review/drafts/{d}/merge").text
    assert "没有冲突" in text(page)
    done = client.post(f"/review/drafts/{d}/merge", data={"csrf_token": csrf, "seen": _seen(page)})
    assert done.status_code == 200
    assert "已合并到第2版" in text(done.text)
    assert status_of(session, d) == "merged"
