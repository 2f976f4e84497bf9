"""Uploading a spreadsheet into a draft over HTTP: previewed first, applied on confirmation, undone in one
step; with htmx and as plain form posts."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.catalog.nodes import Level, NodeState
from app.db.models import AuditEvent, Draft, DraftChange
from app.services.demo import load_demo
from app.services.drafts import changes as draft_changes
from tests.paths import CATALOGS
from tests.services.imports.workbooks import Row, department_xlsx
from tests.workflow_world import PASSWORD, World, world

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HX = {"HX-Request": "true", "HX-Current-URL": "http://testserver/drafts/1"}
BATHING = Row("基本公共服务", "养老服务", "老年人助浴上门服务", "为失能老年人提供上门助浴和皮肤护理服务。")


def login(client: TestClient, who: str, password: str = PASSWORD) -> str:
    """Sign `who` in through the /login form; return the session's CSRF token (as the page carries it)."""
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    response = client.post(
        "/login",
        data={"username": who, "password": password, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    found = re.search(r'"X-CSRF-Token": "([^"]+)"', client.get("/desk").text)
    assert found
    return found.group(1)


def _hx(csrf: str) -> dict[str, str]:
    return HX | {"X-CSRF-Token": csrf}


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _lock(html: str) -> int:
    found = re.search(r'id="draft-lock" name="lock" value="(\d+)"', html)
    assert found, html[:500]
    return int(found.group(1))


def _token(html: str) -> str:
    found = re.search(r'name="token" value="([^"]+)"', html)
    assert found, html[:800]
    return found.group(1)


def _new_draft(client: TestClient, csrf: str, catalog: str) -> int:
    response = client.post("/drafts", data={"catalog": catalog, "csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


def _changes(session: Session, draft_id: int) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).where(DraftChange.draft_id == draft_id)) or 0


def _own(session: Session, draft_id: int, department: str) -> dict[str, NodeState]:
    session.expire_all()
    proposed = draft_changes.snapshot(session, session.get_one(Draft, draft_id))
    return {s.name: s for s in proposed.values() if s.department == department and s.level >= Level.ITEM}


def _upload(
    client: TestClient,
    csrf: str,
    d: int,
    data: bytes,
    *,
    mode: str = "",
    hx: bool = True,
    name: str = "民政局.xlsx",
    lock: int | None = None,
) -> Any:
    form = {"mode": mode} if mode else {}
    if lock is not None:  # the page's htmx sends the draft's lock with every post (hx-include)
        form["lock"] = str(lock)
    headers = _hx(csrf) if hx else {}
    if not hx:
        form["csrf_token"] = csrf
    return client.post(
        f"/drafts/{d}/imports", data=form, files={"file": (name, data, XLSX)}, headers=headers,
        follow_redirects=False,
    )  # fmt: skip


# --- the defect: a one-row file into 民政局's draft of 108 items -----------------------------------


@pytest.fixture
def demo_editor(session: Session, client: TestClient) -> tuple[TestClient, str, int, str]:
    """民政局's clerk signed in on the demo, with a new draft and one edit made in the browser."""
    load_demo(session, CATALOGS)
    csrf = login(client, "minzheng", "demo-editor")
    d = _new_draft(client, csrf, "shifanshi")
    own = _own(session, d, "106")
    assert len(own) == 108
    uid = own["困难群众救助对象核查服务"].uid
    edited = client.post(
        f"/drafts/{d}/items/{uid}",
        data={
            "lock": 1,
            "name": "困难群众救助对象入户核查服务",
            "description": own["困难群众救助对象核查服务"].description,
        },
        headers=_hx(csrf),
    )
    assert edited.status_code == 200, edited.text
    return client, csrf, d, uid


def test_a_one_row_upload_withdraws_nothing_keeps_the_browser_edit_and_is_undone(
    demo_editor: tuple[TestClient, str, int, str], session: Session
) -> None:
    client, csrf, d, edited = demo_editor
    data = department_xlsx("民政局2026年政府购买服务目录（新增）", [BATHING])

    preview = _upload(client, csrf, d, data, lock=2)
    assert _changes(session, d) == 1  # nothing written before the confirmation: the edit alone
    assert preview.status_code == 200, preview.text
    html = preview.text
    text = _text(html)
    assert "导入预览" in text
    assert "尚未写入任何内容" in text
    assert "导入方式： 只新增和修改" in text
    assert "新增 1 项" in text
    assert "修改 0 项" in text
    assert "撤销 0 项" in text
    assert "老年人助浴上门服务" in text
    assert "如改为“替换本部门全部条目”，将撤销本部门 108 项条目" in text
    assert "确认导入" in text

    confirmed = client.post(
        f"/drafts/{d}/imports", data={"token": _token(html), "mode": "add_update", "confirm": "1"},
        headers=_hx(csrf),
    )  # fmt: skip
    assert confirmed.status_code == 200, confirmed.text
    assert 'data-message="已导入：新增 1 项，修改 0 项，撤销 0 项（可撤销这次导入）"' in confirmed.text
    assert "撤销 <strong>0</strong>" in confirmed.text
    own = _own(session, d, "106")
    assert len(own) == 109
    assert own["困难群众救助对象入户核查服务"].uid == edited  # the browser's edit is kept
    assert "撤销这次导入" in confirmed.text

    undone = client.post(
        f"/drafts/{d}/imports/{_undo_id(confirmed.text)}/undo", data={"lock": _lock(confirmed.text)},
        headers=_hx(csrf),
    )  # fmt: skip
    assert undone.status_code == 200, undone.text
    assert "已撤销导入“民政局.xlsx”" in undone.text
    assert "撤销这次导入" not in undone.text
    assert _changes(session, d) == 1
    assert "老年人助浴上门服务" not in _own(session, d, "106")
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == str(d))).all()
    assert actions[-2:] == ["draft.import", "draft.import_undo"]


def test_replacing_the_list_is_previewed_with_the_number_it_withdraws(
    demo_editor: tuple[TestClient, str, int, str], session: Session
) -> None:
    client, csrf, d, _ = demo_editor
    first = _upload(client, csrf, d, department_xlsx("民政局2026年目录", [BATHING]))
    # the other mode, previewed from the file kept on the server: no second upload
    replace = client.post(
        f"/drafts/{d}/imports",
        data={"token": _token(first.text), "mode": "replace"},
        headers=_hx(csrf),
    )
    text = _text(replace.text)
    assert "导入方式： 替换本部门全部条目" in text
    assert "将撤销本部门 108 项条目（表格中没有的条目）" in text
    assert "撤销 108 项" in text
    assert "困难群众救助对象入户核查服务" in text  # the browser-edited item is listed among them
    assert _changes(session, d) == 1
    confirmed = client.post(
        f"/drafts/{d}/imports", data={"token": _token(replace.text), "mode": "replace", "confirm": "1"},
        headers=_hx(csrf),
    )  # fmt: skip
    assert "撤销 108 项" in confirmed.text
    assert list(_own(session, d, "106")) == ["老年人助浴上门服务"]


def _undo_id(html: str) -> int:
    found = re.search(r'action="/drafts/\d+/imports/(\d+)/undo"', html)
    assert found, "no undo offered"
    return int(found.group(1))


# --- the small world: preview, refusals and plain form posts ---------------------------------------


@pytest.fixture
def editor(client: TestClient, session: Session) -> tuple[TestClient, str, int, World]:
    w = world(session)
    csrf = login(client, "minzheng")
    return client, csrf, _new_draft(client, csrf, "ceshi"), w


LIST = [
    Row("基本公共服务", "养老服务", "社区居家养老服务", "为辖区居家老年人提供助餐、助洁、助浴等上门服务。"),
    Row("基本公共服务", "养老服务", "老年人助浴服务", "上门助浴"),
]


def test_the_whole_list_replaces_the_departments_items_once_confirmed(
    editor: tuple[TestClient, str, int, World], session: Session
) -> None:
    client, csrf, d, _ = editor
    preview = _upload(client, csrf, d, department_xlsx("民政局目录", LIST), mode="replace")
    text = _text(preview.text)
    # 养老机构服务质量评估 and the 四级 助餐服务 are not in the file: both would be withdrawn
    assert "将撤销本部门 2 项条目" in text
    assert "养老机构服务质量评估" in text
    assert "助餐服务" in text
    assert _changes(session, d) == 0
    confirmed = client.post(
        f"/drafts/{d}/imports", data={"token": _token(preview.text), "mode": "replace", "confirm": "1"},
        headers=_hx(csrf),
    )  # fmt: skip
    assert "已导入：新增 1 项，修改 0 项，撤销 2 项" in confirmed.text
    assert "撤销 <strong>2</strong>" in confirmed.text
    assert _changes(session, d) == 3


def test_a_bad_file_lists_its_problems_row_by_row_and_offers_no_confirmation(
    editor: tuple[TestClient, str, int, World], session: Session
) -> None:
    client, csrf, d, _ = editor
    rows = [
        BATHING,
        Row("基本公共服务", "不存在的类型", "社区助餐服务", "集中助餐。"),
        Row("基本公共服务", "养老服务", "家庭照护培训", "培训家属。", department="卫生健康委员会"),
    ]
    response = _upload(client, csrf, d, department_xlsx("民政局新增", rows))
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#import-report"
    html = response.text
    text = _text(html)
    assert "未导入任何内容" in text
    assert "确认导入" not in text
    assert re.search(r"<td>4</td>\s*<td>D 二级目录</td>", html)  # row 4: the title, the header, then rows
    assert "不存在的类型" in text
    assert re.search(r"<td>5</td>\s*<td>G 购买主体</td>", html)
    assert "卫生健康委员会" in text
    assert _changes(session, d) == 0


def test_a_preview_made_stale_by_an_edit_is_refused_with_409(
    editor: tuple[TestClient, str, int, World], session: Session
) -> None:
    client, csrf, d, w = editor
    preview = _upload(client, csrf, d, department_xlsx("民政局新增", [BATHING]))
    token = _token(preview.text)
    client.post(f"/drafts/{d}/items/{w.built.uid('i2')}/withdraw", data={"lock": 1}, headers=_hx(csrf))
    stale = client.post(
        f"/drafts/{d}/imports", data={"token": token, "mode": "add_update", "confirm": "1"}, headers=_hx(csrf)
    )
    assert stale.status_code == 409
    assert stale.headers["HX-Retarget"] == "#import-report"
    assert "预览之后草稿已有修改" in stale.text
    assert "撤销" in _text(stale.text)  # what changed since: the withdrawal
    assert "重新载入页面" in stale.text
    assert _changes(session, d) == 1  # only the withdrawal
    plain = client.post(
        f"/drafts/{d}/imports",
        data={"token": token, "mode": "add_update", "confirm": "1", "csrf_token": csrf},
    )
    assert plain.status_code == 409
    assert "<html" in plain.text
    assert "预览之后草稿已有修改" in plain.text


def test_without_javascript_the_forms_preview_confirm_and_undo(
    editor: tuple[TestClient, str, int, World], session: Session
) -> None:
    client, csrf, d, _ = editor
    preview = _upload(client, csrf, d, department_xlsx("民政局新增", [BATHING]), hx=False)
    assert preview.status_code == 200
    assert "<html" in preview.text
    assert "确认导入" in preview.text
    done = client.post(
        f"/drafts/{d}/imports",
        data={"token": _token(preview.text), "mode": "add_update", "confirm": "1", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert (done.status_code, done.headers["location"]) == (303, f"/drafts/{d}")
    page = client.get(f"/drafts/{d}").text
    assert "刚刚导入了“民政局.xlsx”（只新增和修改：新增 1 项，修改 0 项，撤销 0 项）" in _text(page)
    undone = client.post(
        f"/drafts/{d}/imports/{_undo_id(page)}/undo", data={"lock": _lock(page), "csrf_token": csrf},
        follow_redirects=False,
    )  # fmt: skip
    assert undone.status_code == 303
    assert "撤销这次导入" not in client.get(f"/drafts/{d}").text
    assert _changes(session, d) == 0


def test_an_upload_edited_after_cannot_be_undone_in_one_step(
    editor: tuple[TestClient, str, int, World], session: Session
) -> None:
    client, csrf, d, w = editor
    preview = _upload(client, csrf, d, department_xlsx("民政局新增", [BATHING]))
    done = client.post(
        f"/drafts/{d}/imports", data={"token": _token(preview.text), "mode": "add_update", "confirm": "1"},
        headers=_hx(csrf),
    )  # fmt: skip
    import_id, lock = _undo_id(done.text), _lock(done.text)
    edited = client.post(
        f"/drafts/{d}/items/{w.built.uid('i2')}/withdraw", data={"lock": lock}, headers=_hx(csrf)
    )
    assert "撤销这次导入" not in edited.text  # the offer goes with the next edit
    refused = client.post(f"/drafts/{d}/imports/{import_id}/undo", data={"lock": lock + 1}, headers=_hx(csrf))
    assert refused.status_code == 409
    assert refused.headers["HX-Retarget"] == "#flash"
    assert "之后草稿又有修改，不能再一步撤销这次导入" in refused.text
    plain = client.post(f"/drafts/{d}/imports/{import_id}/undo", data={"lock": lock + 1, "csrf_token": csrf})
    assert plain.status_code == 409
    assert "<html" in plain.text
    assert "不能再一步撤销这次导入" in plain.text
    assert _changes(session, d) == 2
