"""The import API: into a department's draft (dry run, apply on a named version, undo), and the
choice of mode on a new draft's import."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.services.imports.workbooks import Row, department_xlsx
from tests.workflow_world import World, world

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BATHING = Row("基本公共服务", "养老服务", "老年人助浴上门服务", "为失能老年人提供上门助浴和皮肤护理服务。")
HOME_CARE = Row(
    "基本公共服务", "养老服务", "社区居家养老服务", "为辖区居家老年人提供助餐、助洁、助浴等上门服务。"
)


@pytest.fixture
def w(session: Session) -> World:
    return world(session)


def _draft(client: TestClient, w: World, who: str = "minzheng") -> dict[str, Any]:
    created = client.post("/api/v1/drafts", json={"catalog": "ceshi"}, headers=w.auth(who))
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


def _send(
    client: TestClient, w: World, draft_id: int, data: bytes, who: str = "minzheng", **form: object
) -> Any:
    fields = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in form.items()}
    return client.post(
        f"/api/v1/drafts/{draft_id}/imports",
        files={"file": ("民政局2026年目录.xlsx", data, XLSX)},
        data=fields,
        headers=w.auth(who),
    )


def test_a_dry_run_lists_what_each_mode_would_do_and_writes_nothing(client: TestClient, w: World) -> None:
    d = _draft(client, w)
    data = department_xlsx("民政局2026年政府购买服务目录（新增）", [BATHING])
    dry = _send(client, w, d["id"], data, dry_run=True)
    assert dry.status_code == 200, dry.text
    body = dry.json()
    assert (body["ok"], body["applied"], body["import_id"], body["mode"]) == (True, False, None, "add_update")
    assert (body["added"], body["changed"], body["withdrawn"]) == (1, 0, 0)
    assert [(it["name"], it["uid"], it["level"]) for it in body["items"]["added"]] == [
        ("老年人助浴上门服务", None, 3)
    ]
    assert body["other_mode"]["mode"] == "replace"
    assert body["other_mode"]["withdrawn"] == 3  # 民政局's three items (one of them a 四级)
    assert body["lock_version"] == 1
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    after = client.get(f"/api/v1/drafts/{d['id']}", headers=w.auth("minzheng")).json()
    assert (after["lock_version"], after["changes"]) == (1, [])


def test_apply_on_the_previewed_version_then_undo_in_one_step(client: TestClient, w: World) -> None:
    d = _draft(client, w)
    data = department_xlsx("民政局目录", [HOME_CARE, BATHING])
    dry = _send(client, w, d["id"], data, dry_run=True, mode="replace").json()
    assert [it["name"] for it in dry["items"]["withdrawn"]] == ["助餐服务", "养老机构服务质量评估"]  # by code

    done = _send(
        client, w, d["id"], data, mode="replace", lock_version=dry["lock_version"], sha256=dry["sha256"]
    )
    assert done.status_code == 201, done.text
    body = done.json()
    assert (body["applied"], body["added"], body["withdrawn"], body["lock_version"]) == (True, 1, 2, 2)
    assert done.headers["ETag"] == f'"draft-{d["id"]}-2"'
    draft = client.get(f"/api/v1/drafts/{d['id']}", headers=w.auth("minzheng")).json()
    assert draft["counts"] == {"add": 1, "update": 0, "move": 0, "delete": 2, "total": 3}

    undone = client.post(
        f"/api/v1/drafts/{d['id']}/imports/{body['import_id']}/undo",
        headers=w.auth("minzheng") | {"If-Match": done.headers["ETag"]},
    )
    assert undone.status_code == 200, undone.text
    assert (undone.json()["changes"], undone.json()["lock_version"]) == ([], 3)
    again = client.post(
        f"/api/v1/drafts/{d['id']}/imports/{body['import_id']}/undo",
        json={"lock_version": 3},
        headers=w.auth("minzheng"),
    )
    assert again.status_code == 409
    assert "已经撤销过了" in again.json()["error"]["message"]


def test_an_apply_names_its_version_and_a_stale_or_different_file_is_refused(
    client: TestClient, w: World
) -> None:
    d = _draft(client, w)
    data = department_xlsx("民政局新增", [BATHING])
    unnamed = _send(client, w, d["id"], data)
    assert unnamed.status_code == 422
    assert "所依据的版本" in unnamed.json()["error"]["message"]
    stale = _send(client, w, d["id"], data, lock_version=7)
    assert stale.status_code == 409
    other = _send(client, w, d["id"], data, lock_version=1, sha256="0" * 64)
    assert other.status_code == 422
    assert "SHA-256 不符" in other.json()["error"]["message"]
    after = client.get(f"/api/v1/drafts/{d['id']}", headers=w.auth("minzheng")).json()
    assert (after["lock_version"], after["changes"]) == (1, [])


def test_an_upload_edited_after_cannot_be_undone(client: TestClient, w: World) -> None:
    d = _draft(client, w)
    done = _send(client, w, d["id"], department_xlsx("民政局新增", [BATHING]), lock_version=1).json()
    edit = client.patch(
        f"/api/v1/drafts/{d['id']}/items/{w.built.uid('i2')}",
        json={"name": "养老机构服务质量第三方评估", "lock_version": 2},
        headers=w.auth("minzheng"),
    )
    assert edit.status_code == 200, edit.text
    refused = client.post(
        f"/api/v1/drafts/{d['id']}/imports/{done['import_id']}/undo",
        json={"lock_version": 3},
        headers=w.auth("minzheng"),
    )
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert "之后草稿又有修改" in error["message"]
    assert [x["action"] for x in error["details"]] == ["draft.edit"]


def test_a_bad_file_answers_its_problems_row_by_row_and_writes_nothing(client: TestClient, w: World) -> None:
    d = _draft(client, w)
    bad = department_xlsx(
        "民政局新增", [BATHING, Row("基本公共服务", "不存在的类型", "社区助餐服务", "集中助餐。")]
    )
    for form in ({"dry_run": True}, {"lock_version": 1}):
        answer = _send(client, w, d["id"], bad, **form)
        assert answer.status_code == 422
        body = answer.json()
        assert (body["ok"], body["applied"], body["items"]) == (False, False, None)
        assert [(p["row"], p["column"]) for p in body["problems"] if p["severity"] == "error"] == [
            (4, "二级目录")
        ]
    after = client.get(f"/api/v1/drafts/{d['id']}", headers=w.auth("minzheng")).json()
    assert (after["lock_version"], after["changes"]) == (1, [])


def test_another_departments_draft_takes_no_upload_from_you(client: TestClient, w: World) -> None:
    d = _draft(client, w)
    answer = _send(client, w, d["id"], department_xlsx("教育局", [BATHING]), who="jiaoyu", dry_run=True)
    assert answer.status_code == 404
    assert (
        client.post(f"/api/v1/drafts/{d['id']}/imports/1/undo", json={"lock_version": 1}).status_code == 401
    )


def test_a_new_drafts_import_adds_and_updates_by_default_and_replaces_on_request(
    client: TestClient, w: World
) -> None:
    data = department_xlsx("民政局目录", [HOME_CARE, BATHING])
    finance = w.auth("reviewer")
    url = "/api/v1/catalogs/ceshi/imports"
    upload = {"file": ("民政局目录.xlsx", data, XLSX)}
    default = client.post(url, files=upload, data={"department": "101", "dry_run": "true"}, headers=finance)
    assert default.status_code == 200, default.text
    assert (default.json()["added"], default.json()["withdrawn"]) == (1, 0)
    replace = client.post(
        url, files=upload, data={"department": "101", "dry_run": "true", "mode": "replace"}, headers=finance
    )
    assert (replace.json()["added"], replace.json()["withdrawn"]) == (1, 2)
    made = client.post(url, files=upload, data={"department": "101", "mode": "replace"}, headers=finance)
    assert made.status_code == 201
    assert made.json()["withdrawn"] == 2
    wrong = client.post(url, files=upload, data={"department": "101", "mode": "all"}, headers=finance)
    assert wrong.status_code == 422
