"""The screening API over HTTP: public screening with its size limits, findings of versions and drafts."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.api.screening import MAX_BODY_BYTES
from app.db.models import Department
from app.services.drafts import items as draft_items
from app.services.drafts import lifecycle as drafts
from app.services.people import accounts as people
from app.services.screening import drafts as screening
from tests.factories import ELDERLY, SYSTEM, Item, published_catalog
from tests.services.screening.test_findings import ARTICLE_5, DISPATCH, FLAGGED, STATIONED, finding
from tests.workflow_world import PASSWORD, USERS, World

TOO_LARGE = "请求体超过 1 MB 的上限，请分批提交（每批最多 5,000 个条目）"


def test_anyone_screens_items_and_gets_one_result_per_item(client: TestClient) -> None:
    items = [
        {"name": DISPATCH},
        {"name": "档案数字化服务", "description": STATIONED},
        {"name": "社区居家养老服务", "description": "为辖区居家老年人提供助餐服务。"},
    ]
    response = client.post("/api/v1/screen", json={"items": items})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "rules_version": "2026.1",
        "results": [
            {"row": 1, "name": DISPATCH, "findings": [finding("X10-5-dispatch", "block", "劳务派遣")]},
            {
                "row": 2,
                "name": "档案数字化服务",
                "findings": [
                    finding("X10-5-stationed", "warn", "派驻3名工作人员"),
                    finding("X10-5-stationed", "warn", "到采购人处坐班"),
                ],
            },
            {"row": 3, "name": "社区居家养老服务", "findings": []},
        ],
    }


def oversized() -> bytes:
    filler = [{"name": "社区居家养老服务", "description": "助" * 300} for _ in range(1200)]
    body = json.dumps({"items": filler}, ensure_ascii=False).encode()
    assert len(body) > MAX_BODY_BYTES
    return body


def chunks(body: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_an_oversized_body_is_refused_whether_or_not_it_declares_its_length(client: TestClient) -> None:
    headers = {"Content-Type": "application/json"}
    declared = client.post("/api/v1/screen", content=oversized(), headers=headers)
    chunked = client.post("/api/v1/screen", content=chunks(oversized()), headers=headers)
    for response in (declared, chunked):
        assert response.status_code == 413
        assert response.json()["error"]["message"] == TOO_LARGE
    too_many = client.post("/api/v1/screen", json={"items": [{"name": "保洁"}] * 5001})
    assert too_many.status_code == 422
    assert too_many.json()["error"]["message"] == "一次最多筛查 5,000 个条目，本次 5,001 个，请分批提交"
    small_chunked = client.post("/api/v1/screen", content=chunks(b'{"items": []}', 4), headers=headers)
    assert small_chunked.json() == {"rules_version": "2026.1", "results": []}


def test_the_screening_endpoint_is_documented(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    screen = paths["/api/v1/screen"]["post"]
    assert screen["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ScreenIn"
    }
    assert {"200", "413", "422"} <= set(screen["responses"])
    assert "get" in paths["/api/v1/catalogs/{slug}/versions/{seq}/findings"]


def world(session: Session, items: list[Item]) -> World:
    """Return the workflow tests' users and tokens on a catalog whose version 1 holds `items`."""
    built = published_catalog(session, items)
    depts = {d.code: d.id for d in session.scalars(select(Department))}
    for name, (role, dept) in USERS.items():
        people.add_user(
            session,
            username=name,
            password=PASSWORD,
            role=role,
            jurisdiction_id=built.catalog.jurisdiction_id,
            department_id=depts[dept] if dept else None,
        )
    session.commit()
    tokens = {
        name: {"Authorization": f"Bearer {people.create_token(session, name, actor=SYSTEM)}"}
        for name in USERS
    }
    return World(built, tokens)


@pytest.fixture
def w(session: Session) -> World:
    return world(session, ELDERLY + FLAGGED)


def test_finance_lists_and_downloads_a_versions_findings(client: TestClient, w: World) -> None:
    url = "/api/v1/catalogs/ceshi/versions/1/findings"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=w.auth("minzheng")).status_code == 403
    assert client.post(url, headers=w.auth("minzheng")).status_code == 403
    summary = client.post(url, headers=w.auth("reviewer"))
    assert summary.status_code == 200, summary.text
    assert (summary.json()["items"], summary.json()["findings"]) == (7, 3)
    listed = client.get(url, params={"severity": "warn"}, headers=w.auth("admin")).json()
    assert (listed["count"], {f["rule"] for f in listed["findings"]}) == (2, {"X10-5-stationed"})
    first = listed["findings"][0]
    assert (first["code"], first["name"], first["department"], first["department_name"]) == (
        "E01002",
        "档案整理辅助服务",
        "103",
        "司法局",
    )
    assert (first["article"], first["field"], first["rules_version"]) == (ARTICLE_5, "description", "2026.1")

    xlsx = client.get(url, params={"format": "xlsx"}, headers=w.auth("reviewer"))
    assert xlsx.status_code == 200
    assert "filename*=UTF-8''" in xlsx.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][:8] == ["目录编码", "目录名称", "购买主体", "规则", "条款", "级别", "位置", "命中文字"]
    assert rows[1][:8] == [
        "A06003",
        "养老机构劳务派遣服务",
        "民政局",
        "X10-5-dispatch",
        ARTICLE_5,
        "阻止",
        "名称",
        "劳务派遣",
    ]
    assert (len(rows), sheet.freeze_panes) == (4, "A2")
    assert sheet.column_dimensions["B"].width == 22  # fitted: 10 wide characters and a margin


def test_a_reviewer_overrides_a_blocking_finding_on_a_drafts_item(
    client: TestClient, session: Session, w: World
) -> None:
    draft = drafts.create_draft(session, "ceshi", actor=SYSTEM, department="101")
    uid = w.built.uid("i1")
    draft_items.edit_item(session, draft.id, uid, name="社区养老劳务派遣服务", lock=None, actor=SYSTEM)
    screening.screen_draft_nodes(session, draft, [uid])
    session.commit()
    url = f"/api/v1/drafts/{draft.id}/findings"
    assert client.get(url, headers=w.auth("jiaoyu")).status_code == 404  # another department's draft
    listed = client.get(url, headers=w.auth("minzheng")).json()
    assert [(f["uid"], f["rule"], f["blocks"], f["override"]) for f in listed] == [
        (uid, "X10-5-dispatch", True, None)
    ]
    body = {"uid": uid, "rule": "X10-5-dispatch", "reason": "经核实为食堂托管服务"}
    overrides = f"/api/v1/drafts/{draft.id}/overrides"
    assert client.post(overrides, json=body, headers=w.auth("minzheng")).status_code == 403
    assert client.post(overrides, json={**body, "reason": ""}, headers=w.auth("reviewer")).status_code == 422
    recorded = client.post(overrides, json=body, headers=w.auth("reviewer"))
    assert recorded.status_code == 201, recorded.text
    assert (recorded.json()["by"], recorded.json()["reason"]) == ("reviewer", "经核实为食堂托管服务")
    listed = client.get(url, headers=w.auth("minzheng")).json()
    assert [(f["blocks"], f["override"]) for f in listed] == [(False, "经核实为食堂托管服务")]


def test_items_with_only_a_flagged_name_are_listed_by_code(client: TestClient, session: Session) -> None:
    w = world(session, [*ELDERLY, Item("f3", "A01", "校舍新建工程", "102")])
    response = client.post("/api/v1/catalogs/ceshi/versions/1/findings", headers=w.auth("admin"))
    assert [r["rule"] for r in response.json()["by_rule"]] == ["X10-3-works"]


def test_submit_is_refused_until_the_blocking_finding_is_overridden(
    client: TestClient, session: Session, w: World
) -> None:
    draft = drafts.create_draft(session, "ceshi", actor=SYSTEM, department="101")
    uid = w.built.uid("i1")
    draft_items.edit_item(session, draft.id, uid, name="社区养老劳务派遣服务", lock=None, actor=SYSTEM)
    submit = f"/api/v1/drafts/{draft.id}/submit"

    def lock() -> dict[str, int]:
        response = client.get(f"/api/v1/drafts/{draft.id}", headers=w.auth("minzheng"))
        return {"lock_version": response.json()["lock_version"]}

    refused = client.post(submit, json=lock(), headers=w.auth("minzheng"))
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "screening_blocked"
    assert [(d["uid"], d["rule"], d["match"]) for d in error["details"]] == [
        (uid, "X10-5-dispatch", "劳务派遣")
    ]
    body = {"uid": uid, "rule": "X10-5-dispatch", "reason": "经核实为食堂托管服务"}
    overridden = client.post(f"/api/v1/drafts/{draft.id}/overrides", json=body, headers=w.auth("reviewer"))
    assert overridden.status_code == 201, overridden.text
    accepted = client.post(submit, json=lock(), headers=w.auth("minzheng"))
    assert accepted.status_code == 200, accepted.text
