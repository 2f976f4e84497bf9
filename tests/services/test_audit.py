"""The audit trail: one event per change with who and which request, append-only, finance admin only."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from tests.workflow_world import World, world


@pytest.fixture
def w(session: object) -> World:
    return world(session)  # type: ignore[arg-type]


def test_every_change_leaves_an_event_with_its_request_id(client: TestClient, w: World) -> None:
    created = client.post(
        "/api/v1/drafts", json={"catalog": "ceshi"}, headers={**w.auth("minzheng"), "X-Request-ID": "req-42"}
    )
    assert created.headers["x-request-id"] == "req-42"
    draft = created.json()["id"]
    client.patch(
        f"/api/v1/drafts/{draft}/items/{w.built.uid('i1')}",
        json={"name": "社区居家养老上门服务", "lock_version": 1},
        headers=w.auth("minzheng"),
    )
    events = client.get(
        "/api/v1/audit", params={"object_type": "draft", "object_id": str(draft)}, headers=w.auth("admin")
    )
    assert events.status_code == 200
    rows = events.json()["events"]
    assert [(e["action"], e["user"]) for e in rows] == [
        ("draft.edit", "minzheng"),
        ("draft.create", "minzheng"),
    ]
    assert rows[1]["request_id"] == "req-42"
    assert rows[0]["summary"]["before"]["name"] == "社区居家养老服务"
    assert rows[0]["summary"]["after"]["name"] == "社区居家养老上门服务"
    assert len(rows[0]["request_id"]) == 32  # made here when the client sent none


def test_filters_and_csv(client: TestClient, w: World) -> None:
    client.post("/api/v1/drafts", json={"catalog": "ceshi"}, headers=w.auth("minzheng"))
    client.post("/api/v1/drafts", json={"catalog": "ceshi"}, headers=w.auth("reviewer"))
    mine = client.get(
        "/api/v1/audit", params={"user": "reviewer", "action": "draft.create"}, headers=w.auth("admin")
    )
    assert [e["user"] for e in mine.json()["events"]] == ["reviewer"]
    future = client.get("/api/v1/audit", params={"since": "2099-01-01"}, headers=w.auth("admin"))
    assert future.json()["events"] == []
    exported = client.get(
        "/api/v1/audit", params={"format": "csv", "action": "draft.create"}, headers=w.auth("admin")
    )
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0] == ["编号", "时间", "操作人", "操作", "对象类型", "对象", "摘要", "请求编号"]
    assert sorted(r[2] for r in rows[1:]) == ["minzheng", "reviewer"]


@pytest.mark.parametrize(
    ("who", "status"), [(None, 401), ("minzheng", 403), ("reviewer", 403), ("sysadmin", 403), ("admin", 200)]
)
def test_only_the_finance_admin_reads_the_trail(
    client: TestClient, w: World, who: str | None, status: int
) -> None:
    assert client.get("/api/v1/audit", headers=w.auth(who)).status_code == status


@pytest.mark.usefixtures("w")
def test_the_database_refuses_to_change_or_delete_an_event(engine: Engine) -> None:
    for statement in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_events")).scalar_one() > 0
