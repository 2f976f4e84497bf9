"""Who may do what, over HTTP: every role against a department's draft, its items, review and versions."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.db.models import Jurisdiction
from app.http.deps import today
from app.services.people import accounts as people
from tests.factories import SYSTEM
from tests.workflow_world import World, world

ROLES = [None, "minzheng", "jiaoyu", "reviewer", "admin", "sysadmin"]


@pytest.fixture
def w(session: Session) -> World:
    return world(session)


def _draft(client: TestClient, w: World, who: str = "minzheng") -> dict[str, Any]:
    response = client.post(
        "/api/v1/drafts", json={"catalog": "ceshi", "title": "2026年调整"}, headers=w.auth(who)
    )
    assert response.status_code == 201, response.text
    return response.json()


def _edit(client: TestClient, w: World, draft: dict[str, Any], who: str | None, key: str, name: str) -> int:
    url = f"/api/v1/drafts/{draft['id']}/items/{w.built.uid(key)}"
    lock = client.get(f"/api/v1/drafts/{draft['id']}", headers=w.auth("admin")).json()["lock_version"]
    return client.patch(url, json={"name": name, "lock_version": lock}, headers=w.auth(who)).status_code


@pytest.mark.parametrize(("who", "status"), list(zip(ROLES, [401, 200, 404, 200, 200, 404], strict=True)))
def test_who_sees_a_departments_draft(client: TestClient, w: World, who: str | None, status: int) -> None:
    draft = _draft(client, w)
    assert client.get(f"/api/v1/drafts/{draft['id']}", headers=w.auth(who)).status_code == status
    assert client.get(f"/api/v1/drafts/{draft['id']}/comments", headers=w.auth(who)).status_code == status


@pytest.mark.parametrize(("who", "status"), list(zip(ROLES, [401, 200, 404, 200, 200, 404], strict=True)))
def test_who_edits_the_departments_own_item(
    client: TestClient, w: World, who: str | None, status: int
) -> None:
    assert _edit(client, w, _draft(client, w), who, "i1", "社区居家养老上门服务") == status


def test_a_department_edits_only_its_own_items_and_adds_only_its_own(client: TestClient, w: World) -> None:
    draft = _draft(client, w)
    assert _edit(client, w, draft, "minzheng", "i3", "课后服务") == 403  # 教育局's item
    assert _edit(client, w, draft, "reviewer", "i3", "课后服务") == 200  # finance may
    lock = client.get(f"/api/v1/drafts/{draft['id']}", headers=w.auth("minzheng")).json()["lock_version"]
    added = client.post(
        f"/api/v1/drafts/{draft['id']}/items",
        headers=w.auth("minzheng"),
        json={
            "parent": w.built.type_uid("A06"),
            "name": "老年助餐服务点运营",
            "department": "102",
            "lock_version": lock,
        },
    )
    assert added.status_code == 201
    new = next(c for c in added.json()["changes"] if c["kind"] == "add")
    assert new["proposed"]["department"] == "101"  # a department proposes only its own items
    other_dept = client.post(
        "/api/v1/drafts", json={"catalog": "ceshi", "department": "102"}, headers=w.auth("minzheng")
    )
    assert other_dept.status_code == 403


def test_finance_of_another_jurisdiction_sees_nothing(client: TestClient, w: World, session: Session) -> None:
    draft = _draft(client, w)
    elsewhere = Jurisdiction(code="990200", name="邻市", level="city")
    session.add(elsewhere)
    session.flush()
    people.add_user(
        session,
        username="linshi",
        password="correct-horse-1",
        role="finance_admin",
        jurisdiction_id=elsewhere.id,
    )
    session.commit()
    token = {"Authorization": f"Bearer {people.create_token(session, 'linshi', actor=SYSTEM)}"}
    assert client.get(f"/api/v1/drafts/{draft['id']}", headers=token).status_code == 404
    assert (
        client.post(
            "/api/v1/catalogs/ceshi/versions/1/issue",
            headers=token,
            json={"doc_number": "邻财购〔2026〕1号", "issued_on": "2026-03-02"},
        ).status_code
        == 404
    )


def test_a_stale_write_gets_409_with_what_changed(client: TestClient, w: World) -> None:
    draft = _draft(client, w)
    url = f"/api/v1/drafts/{draft['id']}/items/{w.built.uid('i1')}"
    first = client.patch(
        url,
        json={"name": "社区居家养老上门服务"},
        headers={**w.auth("minzheng"), "If-Match": f'"draft-{draft["id"]}-1"'},
    )
    assert first.status_code == 200
    assert first.headers["etag"] == f'"draft-{draft["id"]}-2"'
    stale = client.patch(url, json={"name": "另一个名字", "lock_version": 1}, headers=w.auth("reviewer"))
    assert stale.status_code == 409
    error = stale.json()["error"]
    assert "已被他人修改" in error["message"]
    assert [(d["action"], d["by"], d["after"]["name"]) for d in error["details"]] == [
        ("draft.edit", "minzheng", "社区居家养老上门服务")
    ]
    missing = client.patch(url, json={"name": "x"}, headers=w.auth("minzheng"))
    assert missing.status_code == 422
    assert "If-Match" in missing.json()["error"]["message"]


def _lock(client: TestClient, w: World, draft_id: int) -> int:
    return int(client.get(f"/api/v1/drafts/{draft_id}", headers=w.auth("admin")).json()["lock_version"])


def _act(client: TestClient, w: World, draft_id: int, action: str, who: str | None, **body: Any) -> int:
    body.setdefault("lock_version", _lock(client, w, draft_id))
    return client.post(f"/api/v1/drafts/{draft_id}/{action}", json=body, headers=w.auth(who)).status_code


def test_review_rules(client: TestClient, w: World) -> None:
    draft = _draft(client, w)
    d = draft["id"]
    assert _edit(client, w, draft, "reviewer", "i2", "养老机构服务质量第三方评估") == 200  # reviewer edits it
    assert _act(client, w, d, "submit", "jiaoyu") == 404
    assert _act(client, w, d, "submit", "minzheng") == 200
    assert _edit(client, w, draft, "minzheng", "i1", "改名") == 409  # submitted: not editable
    assert _act(client, w, d, "approve", "minzheng") == 403
    assert _act(client, w, d, "approve", "reviewer") == 403  # edited it: may not approve it
    assert _act(client, w, d, "approve", "reviewer2", lock_version=1) == 409  # stale view
    assert _act(client, w, d, "return", "reviewer2", reason="") == 422
    assert _act(client, w, d, "return", "reviewer2", reason="请补充服务内容") == 200
    seen = client.get(f"/api/v1/drafts/{d}", headers=w.auth("minzheng")).json()
    assert (seen["status"], seen["return_reason"]) == ("returned", "请补充服务内容")
    assert _edit(client, w, draft, "minzheng", "i1", "社区居家养老上门服务") == 200
    assert client.get(f"/api/v1/drafts/{d}", headers=w.auth("minzheng")).json()["status"] == "editing"
    assert _act(client, w, d, "submit", "minzheng") == 200
    assert _act(client, w, d, "approve", "reviewer2") == 200
    merged = client.post(f"/api/v1/drafts/{d}/merge", headers=w.auth("minzheng"))
    assert merged.status_code == 403
    merged = client.post(f"/api/v1/drafts/{d}/merge", headers=w.auth("reviewer2"))
    assert (merged.status_code, merged.json()["merged"], merged.json()["version"]) == (200, True, 2)


@pytest.mark.parametrize(("who", "status"), list(zip(ROLES, [401, 403, 403, 403, 200, 403], strict=True)))
def test_only_the_finance_admin_issues(client: TestClient, w: World, who: str | None, status: int) -> None:
    draft = _draft(client, w)
    assert _edit(client, w, draft, "minzheng", "i1", "社区居家养老上门服务") == 200
    for action, by in (("submit", "minzheng"), ("approve", "reviewer")):
        assert _act(client, w, draft["id"], action, by) == 200
    assert (
        client.post(f"/api/v1/drafts/{draft['id']}/merge", headers=w.auth("reviewer")).json()["version"] == 2
    )
    body = {"doc_number": "测财购〔2026〕3号", "issued_on": "2026-03-02"}
    client.app.dependency_overrides[today] = lambda: date(2026, 3, 2)  # type: ignore[attr-defined]
    issue = client.post("/api/v1/catalogs/ceshi/versions/2/issue", headers=w.auth(who), json=body)
    assert issue.status_code == status
    if status == 200:
        assert issue.json()["doc_number"] == "测财购〔2026〕3号"
        assert (
            client.post("/api/v1/catalogs/ceshi/versions/2/publish", headers=w.auth("reviewer")).status_code
            == 403
        )
        published = client.post("/api/v1/catalogs/ceshi/versions/2/publish", headers=w.auth("admin"))
        assert published.json()["status"] == "published"
        assert client.get("/api/v1/catalogs/ceshi/versions/2/nodes", params={"level": 3}).status_code == 200


def test_submit_is_gated_by_blocking_findings_until_a_reviewer_overrides(
    client: TestClient, w: World
) -> None:
    draft = _draft(client, w)
    d = draft["id"]
    added = client.post(
        f"/api/v1/drafts/{d}/items",
        headers=w.auth("minzheng"),
        json={
            "parent": w.built.type_uid("A06"),
            "name": "养老机构护理人员劳务派遣",
            "description": "为养老院提供护理员。",
            "lock_version": 1,
        },
    )
    assert added.status_code == 201
    [finding] = [
        f for f in added.json()["findings"] if f["severity"] == "block"
    ]  # shown beside the item at once
    assert (finding["rule"], finding["match"]) == ("X10-5-dispatch", "劳务派遣")
    assert "第十条第（五）项" in finding["article"]
    blocked = client.post(
        f"/api/v1/drafts/{d}/submit", json={"lock_version": _lock(client, w, d)}, headers=w.auth("minzheng")
    )
    assert blocked.status_code == 422
    error = blocked.json()["error"]
    assert error["code"] == "screening_blocked"
    assert [(f["name"], f["rule"]) for f in error["details"]] == [
        ("养老机构护理人员劳务派遣", "X10-5-dispatch")
    ]
    uid = finding["uid"]
    own = client.post(
        f"/api/v1/drafts/{d}/items/{uid}/overrides",
        json={"rule": "X10-5-dispatch", "reason": "我说可以"},
        headers=w.auth("minzheng"),
    )
    assert own.status_code == 403
    no_reason = client.post(
        f"/api/v1/drafts/{d}/items/{uid}/overrides",
        json={"rule": "X10-5-dispatch", "reason": " "},
        headers=w.auth("reviewer"),
    )
    assert no_reason.status_code == 422
    ok = client.post(
        f"/api/v1/drafts/{d}/items/{uid}/overrides",
        json={"rule": "X10-5-dispatch", "reason": "经核实为护理服务外包，按服务结果付费，非派遣用工"},
        headers=w.auth("reviewer"),
    )
    assert ok.status_code == 200
    assert _act(client, w, d, "submit", "minzheng") == 200
    events = client.get("/api/v1/audit", params={"object_id": str(d)}, headers=w.auth("admin")).json()[
        "events"
    ]
    assert [e["user"] for e in events if "override" in e["action"]] == ["reviewer"]  # overrides are audited
