"""The diff, draft diff and item history over HTTP."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from app.db.models import Draft
from app.services.catalogs.authoring import stable_uid
from app.services.drafts import items as draft_items
from app.services.drafts import lifecycle as drafts
from app.services.people import accounts as people
from app.services.people.accounts import create_token
from tests.factories import ELDERLY, SYSTEM, Built, published_catalog


def test_version_diff_defaults_to_latest_against_previous(demo_client: TestClient) -> None:
    body = demo_client.get("/api/v1/catalogs/shifanshi/diff").json()
    assert (body["from_version"], body["to_version"]) == (1, 2)
    assert body["summary"]["新增"] == 56
    assert body["summary"]["撤销"] == 23
    assert body["summary"]["移动"] == 18
    renamed = next(c for c in body["changes"] if c["uid"] == stable_uid("shifanshi", "item", "i0032"))
    assert renamed["old"]["name"] == "义务教育阶段课后服务"
    assert renamed["new"]["name"] == "义务教育阶段课后延时服务"
    assert renamed["kinds"] == ["更名"]
    again = demo_client.get("/api/v1/catalogs/shifanshi/diff?from=1&to=2")
    assert again.json() == body
    assert (
        demo_client.get(
            "/api/v1/catalogs/shifanshi/diff", headers={"If-None-Match": again.headers["etag"]}
        ).status_code
        == 304
    )


def test_version_diff_as_the_csv_change_table(demo_client: TestClient) -> None:
    response = demo_client.get("/api/v1/catalogs/shifanshi/diff?from=1&to=2&format=csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "变动类型",
        "原目录编码",
        "原名称",
        "新目录编码",
        "新名称",
        "购买主体",
        "调整内容",
        "uid",
    ]
    renamed = next(r for r in rows if r[2] == "义务教育阶段课后服务")
    assert renamed[:7] == [
        "更名",
        renamed[1],
        "义务教育阶段课后服务",
        renamed[1],
        "义务教育阶段课后延时服务",
        "教育局",
        "名称、说明",
    ]
    assert {r[0] for r in rows[1:]} >= {"新增", "撤销", "移动", "更名", "内容调整"}


def test_diff_of_unknown_or_unpublished_versions_is_404(demo_client: TestClient) -> None:
    assert demo_client.get("/api/v1/catalogs/shifanshi/diff?from=1&to=3").status_code == 404
    assert demo_client.get("/api/v1/catalogs/nope/diff").status_code == 404


def test_item_history(demo_client: TestClient) -> None:
    uid = stable_uid("shifanshi", "item", "i0032")
    history = demo_client.get(f"/api/v1/catalogs/shifanshi/items/{uid}/history").json()
    assert [(h["version"], h["kinds"], h["state"]["name"]) for h in history] == [
        (1, ["新增"], "义务教育阶段课后服务"),
        (2, ["更名"], "义务教育阶段课后延时服务"),
    ]
    assert demo_client.get("/api/v1/catalogs/shifanshi/items/nope/history").status_code == 404


def _renaming_draft(session: Session) -> tuple[Built, Draft]:
    """A catalog, its finance reviewer "caizheng", and a draft renaming item i1."""
    built = published_catalog(session, ELDERLY, later=None)
    people.add_user(
        session,
        username="caizheng",
        password="password-1",
        role="finance_reviewer",
        jurisdiction_id=built.catalog.jurisdiction_id,
    )
    session.commit()
    draft = drafts.create_draft(session, "ceshi", actor=SYSTEM)
    draft_items.edit_item(
        session, draft.id, built.uid("i1"), name="社区居家养老上门服务", lock=1, actor=SYSTEM
    )
    return built, draft


def test_draft_diff_needs_a_finance_token(client: TestClient, session: Session) -> None:
    _, draft = _renaming_draft(session)
    assert client.get(f"/api/v1/drafts/{draft.id}/diff").status_code == 401
    token = create_token(session, "caizheng", actor=SYSTEM)
    body = client.get(f"/api/v1/drafts/{draft.id}/diff", headers={"Authorization": f"Bearer {token}"}).json()
    assert [(c["kinds"], c["old"]["name"], c["new"]["name"]) for c in body["changes"]] == [
        (["更名"], "社区居家养老服务", "社区居家养老上门服务")
    ]
    assert body["draft"] == draft.id
    sheet = client.get(
        f"/api/v1/drafts/{draft.id}/diff?format=xlsx", headers={"Authorization": f"Bearer {token}"}
    )
    assert sheet.status_code == 200
    assert "attachment" in sheet.headers["content-disposition"]
    rows = list(load_workbook(io.BytesIO(sheet.content), read_only=True).active.iter_rows(values_only=True))
    assert rows[0][0] == f"测试市政府购买服务指导性目录草稿#{draft.id}新旧对照表（未命名）"
    assert rows[1][:3] == ("变动类型", "原目录编码", "原名称")
    [row] = rows[2:]
    assert (row[0], row[2], row[4]) == ("更名", "社区居家养老服务", "社区居家养老上门服务")


def test_a_draft_reads_whole_or_by_pages_with_its_counts(client: TestClient, session: Session) -> None:
    built, draft = _renaming_draft(session)
    draft_items.withdraw_item(session, draft.id, built.uid("i4"), lock=2, actor=SYSTEM)
    draft_items.edit_item(session, draft.id, built.uid("i2"), name="养老机构评估", lock=3, actor=SYSTEM)
    headers = {"Authorization": f"Bearer {create_token(session, 'caizheng', actor=SYSTEM)}"}
    whole = client.get(f"/api/v1/drafts/{draft.id}", headers=headers).json()
    counts = {"add": 0, "update": 2, "move": 0, "delete": 1, "total": 3}
    assert (len(whole["changes"]), whole["counts"], whole["next_after"]) == (3, counts, None)
    first = client.get(f"/api/v1/drafts/{draft.id}?limit=2", headers=headers).json()
    assert (first["changes"], first["counts"]) == (whole["changes"][:2], counts)
    rest = client.get(
        f"/api/v1/drafts/{draft.id}?limit=2&after={first['next_after']}", headers=headers
    ).json()
    assert (rest["changes"], rest["next_after"]) == (whole["changes"][2:], None)
    assert client.get(f"/api/v1/drafts/{draft.id}?limit=0", headers=headers).status_code == 422


def test_nodes_as_of_a_date_answer_with_the_version_current_that_day(demo_client: TestClient) -> None:
    url = "/api/v1/catalogs/shifanshi/nodes"
    early = demo_client.get(url, params={"as_of": "2024-12-31", "level": 3, "limit": 5})
    assert early.status_code == 200
    assert early.json()["version"] == 1
    assert early.headers["content-location"] == "/api/v1/catalogs/shifanshi/versions/1/nodes"
    assert early.headers["cache-control"] == "public, max-age=300"
    same = demo_client.get("/api/v1/catalogs/shifanshi/versions/1/nodes", params={"level": 3, "limit": 5})
    assert early.json()["items"] == same.json()["items"]
    assert demo_client.get(url, params={"as_of": "2025-03-21"}).json()["version"] == 2
    before = demo_client.get(url, params={"as_of": "2024-01-01"})
    assert before.status_code == 404
    assert "尚未公开任何版本" in before.json()["error"]["message"]
    assert demo_client.get(url, params={"as_of": "2024-13-01"}).status_code == 422
