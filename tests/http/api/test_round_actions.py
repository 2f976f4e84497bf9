"""The API's round actions: revert a merge, reopen a withdrawn draft, delete an empty one."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.db import store
from tests.workflow_world import World, world


@pytest.fixture
def w(session: Session) -> World:
    return world(session)


def _draft(client: TestClient, w: World, who: str = "minzheng") -> dict[str, Any]:
    response = client.post("/api/v1/drafts", json={"catalog": "ceshi", "title": "调整"}, headers=w.auth(who))
    assert response.status_code == 201, response.text
    return response.json()


def _lock(client: TestClient, w: World, draft_id: int) -> int:
    return int(client.get(f"/api/v1/drafts/{draft_id}", headers=w.auth("admin")).json()["lock_version"])


def _act(client: TestClient, w: World, draft_id: int, action: str, who: str, **body: Any) -> Any:
    body.setdefault("lock_version", _lock(client, w, draft_id))
    return client.post(f"/api/v1/drafts/{draft_id}/{action}", json=body, headers=w.auth(who))


def _rename(client: TestClient, w: World, draft_id: int, key: str, name: str) -> None:
    url = f"/api/v1/drafts/{draft_id}/items/{w.built.uid(key)}"
    body = {"name": name, "lock_version": _lock(client, w, draft_id)}
    assert client.patch(url, json=body, headers=w.auth("minzheng")).status_code == 200


def _through(client: TestClient, w: World, draft_id: int) -> None:
    """Submit, approve and merge the draft."""
    assert _act(client, w, draft_id, "submit", "minzheng").status_code == 200
    assert _act(client, w, draft_id, "approve", "reviewer").status_code == 200
    merged = client.post(f"/api/v1/drafts/{draft_id}/merge", headers=w.auth("reviewer"))
    assert merged.status_code == 200, merged.text


def _name(session: Session, w: World, key: str, seq: int) -> str:
    session.expire_all()
    uid = w.built.uid(key)
    return store.load_nodes(session, w.built.catalog.id, seq, uids=[uid])[uid].state.name


def test_a_merge_is_reverted_by_a_draft_reviewed_like_any_other(
    client: TestClient, w: World, session: Session
) -> None:
    d = _draft(client, w)["id"]
    _rename(client, w, d, "i1", "社区居家养老上门服务")
    _through(client, w, d)
    assert _name(session, w, "i1", 2) == "社区居家养老上门服务"

    url = f"/api/v1/drafts/{d}/revert"
    assert client.post(url, headers=w.auth("minzheng")).status_code == 403  # a department may not
    reverting = client.post(url, headers=w.auth("reviewer"))
    assert reverting.status_code == 201, reverting.text
    body = reverting.json()
    merged_dept = client.get(f"/api/v1/drafts/{d}", headers=w.auth("admin")).json()["department_id"]
    assert (body["reverts"], body["status"], body["department_id"]) == (d, "editing", merged_dept)
    (change,) = body["changes"]
    assert change["proposed"]["name"] == "社区居家养老服务"  # as it was before the merge
    assert _name(session, w, "i1", 2) == "社区居家养老上门服务"  # nothing changes until it is merged

    again = client.post(url, headers=w.auth("reviewer"))
    assert again.status_code == 409
    assert f"#{body['id']}" in again.json()["error"]["message"]

    _through(client, w, body["id"])
    assert _name(session, w, "i1", 2) == "社区居家养老服务"


def test_only_a_merged_draft_can_be_reverted(client: TestClient, w: World) -> None:
    d = _draft(client, w)["id"]
    refused = client.post(f"/api/v1/drafts/{d}/revert", headers=w.auth("reviewer"))
    assert refused.status_code == 409
    assert "只有已合并的草稿才能撤回" in refused.json()["error"]["message"]
    hidden = client.post(f"/api/v1/drafts/{d}/revert", headers=w.auth("jiaoyu"))
    assert hidden.status_code == 404  # another department's draft is not there for it


def test_a_withdrawn_draft_is_reopened_through_the_api(client: TestClient, w: World) -> None:
    d = _draft(client, w)["id"]
    _rename(client, w, d, "i1", "社区居家养老上门服务")
    withdrawn = _act(client, w, d, "withdraw", "reviewer", reason="本轮不调整该项")
    assert withdrawn.json()["status"] == "withdrawn"
    reopened = _act(client, w, d, "reopen", "minzheng")
    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["status"] == "editing"
    assert len(reopened.json()["changes"]) == 1  # the edits come back with it


def test_only_an_empty_draft_is_deleted(client: TestClient, w: World) -> None:
    kept = _draft(client, w)["id"]
    _rename(client, w, kept, "i1", "社区居家养老上门服务")
    refused = client.delete(f"/api/v1/drafts/{kept}", headers=w.auth("minzheng"))
    assert refused.status_code == 409
    empty = _draft(client, w)["id"]
    assert client.delete(f"/api/v1/drafts/{empty}", headers=w.auth("jiaoyu")).status_code == 404
    assert client.delete(f"/api/v1/drafts/{empty}", headers=w.auth("minzheng")).status_code == 204
    assert client.get(f"/api/v1/drafts/{empty}", headers=w.auth("minzheng")).status_code == 404
    assert client.get(f"/api/v1/drafts/{kept}", headers=w.auth("minzheng")).status_code == 200


def _add(client: TestClient, w: World, draft_id: int, name: str) -> None:
    body = {"parent": w.built.type_uid("A06"), "name": name, "lock_version": _lock(client, w, draft_id)}
    added = client.post(f"/api/v1/drafts/{draft_id}/items", json=body, headers=w.auth("minzheng"))
    assert added.status_code == 201, added.text


def test_two_drafts_adding_one_name_conflict_and_the_api_offers_only_what_merges(
    client: TestClient, w: World, session: Session
) -> None:
    first, second = _draft(client, w)["id"], _draft(client, w)["id"]
    for d in (first, second):
        _add(client, w, d, "社区嵌入式养老服务综合评估")
    _through(client, w, first)
    assert _act(client, w, second, "submit", "minzheng").status_code == 200
    assert _act(client, w, second, "approve", "reviewer").status_code == 200
    blocked = client.post(f"/api/v1/drafts/{second}/merge", headers=w.auth("reviewer"))
    assert blocked.status_code == 409
    (conflict,) = blocked.json()["conflicts"]
    assert conflict["kind"] == "duplicate_name"
    url = f"/api/v1/drafts/{second}/conflicts/{conflict['id']}"
    both = client.post(url, json={"take": "theirs"}, headers=w.auth("reviewer"))
    assert both.status_code == 422  # keeping both would publish a duplicate
    assert "此选择会破坏目录结构" in both.json()["error"]["message"]
    assert (
        client.get(f"/api/v1/drafts/{second}/conflicts", headers=w.auth("reviewer")).json()[0]["resolution"]
        is None
    )
    kept = client.post(url, json={"take": "withdraw_other"}, headers=w.auth("reviewer"))
    assert kept.status_code == 200, kept.text
    merged = client.post(f"/api/v1/drafts/{second}/merge", headers=w.auth("reviewer"))
    assert merged.status_code == 200, merged.text
    session.expire_all()
    names = [s.state.name for s in store.load_version(session, w.built.catalog.id, 2).values()]
    assert names.count("社区嵌入式养老服务综合评估") == 1
