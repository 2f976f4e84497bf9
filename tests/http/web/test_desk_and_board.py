"""The pages finance and departments land on: the desk per role, the publication board, findings."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.http.deps import today
from tests.workflow_world import PASSWORD, World, world


@pytest.fixture
def w(session: Session) -> World:
    return world(session)


def _login(client: TestClient, who: str) -> None:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    client.post("/login", data={"username": who, "password": PASSWORD, "csrf_token": token.group(1)})


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _api(client: TestClient, w: World, method: str, url: str, who: str, **json: Any) -> Any:
    response = client.request(method, url, json=json or None, headers=w.auth(who))
    assert response.status_code < 300, response.text
    return response.json()


def _submitted_draft(client: TestClient, w: World) -> int:
    d = _api(client, w, "POST", "/api/v1/drafts", "minzheng", catalog="ceshi", title="2026年民政调整")["id"]
    _api(
        client,
        w,
        "PATCH",
        f"/api/v1/drafts/{d}/items/{w.built.uid('i1')}",
        "minzheng",
        name="社区居家养老上门服务",
        lock_version=1,
    )
    _api(client, w, "POST", f"/api/v1/drafts/{d}/submit", "minzheng", lock_version=2)
    return int(d)


def test_each_role_sees_what_waits_on_it(client: TestClient, w: World) -> None:
    d = _submitted_draft(client, w)
    _api(client, w, "POST", f"/api/v1/drafts/{d}/return", "reviewer", reason="请补充服务内容")
    _login(client, "minzheng")
    editor = _text(client.get("/desk").text)
    assert f"#{d} 2026年民政调整" in editor
    assert "已退回" in editor
    assert "请补充服务内容" in editor
    _api(client, w, "POST", f"/api/v1/drafts/{d}/submit", "minzheng", lock_version=4)
    _login(client, "reviewer")
    reviewer = _text(client.get("/desk").text)
    assert f"#{d} 2026年民政调整 民政局" in reviewer
    assert "待审核（最早送审的在前）" in reviewer
    _login(client, "admin")
    admin = _text(client.get("/desk").text)
    assert "待印发、待公开的版本" in admin


def test_the_board_marks_overdue_versions_and_the_desk_counts_them(client: TestClient, w: World) -> None:
    d = _submitted_draft(client, w)
    _api(client, w, "POST", f"/api/v1/drafts/{d}/approve", "reviewer", lock_version=3)
    _api(client, w, "POST", f"/api/v1/drafts/{d}/merge", "reviewer")
    client.app.dependency_overrides[today] = lambda: date(2026, 1, 30)  # type: ignore[attr-defined]
    _api(
        client,
        w,
        "POST",
        "/api/v1/catalogs/ceshi/versions/2/issue",
        "admin",
        doc_number="测财购〔2026〕3号",
        issued_on="2026-01-30",
    )
    client.app.dependency_overrides[today] = lambda: date(2026, 2, 24)  # type: ignore[attr-defined]
    _login(client, "admin")
    board = client.get("/admin/board")
    text = _text(board.text)
    assert "1 个已逾期" in text
    assert "⚠ 已逾期" in text  # not by colour alone
    assert "2026年02月13日" in text  # 10 working days after 2026-01-30 (Spring Festival make-up day counted)
    assert "⚠ 1 个版本已逾期未公开" in _text(client.get("/desk").text)
    client.app.dependency_overrides[today] = lambda: date(2026, 2, 5)  # type: ignore[attr-defined]
    assert "没有逾期未公开的版本" in _text(client.get("/desk").text)


def test_a_versions_findings_page_for_finance(client: TestClient, w: World) -> None:
    _api(client, w, "POST", "/api/v1/catalogs/ceshi/versions/1/findings", "reviewer")
    _login(client, "reviewer")
    page = client.get("/admin/catalogs/ceshi/versions/1/findings")
    assert page.status_code == 200
    assert "负面清单筛查结果：2024年版" in page.text
    _login(client, "minzheng")
    assert client.get("/admin/catalogs/ceshi/versions/1/findings").status_code == 403
    client.cookies.clear()
    assert client.get("/admin/catalogs/ceshi/versions/1/findings").status_code == 404


def test_comments_stay_after_the_merge(client: TestClient, w: World) -> None:
    d = _submitted_draft(client, w)
    _api(
        client,
        w,
        "POST",
        f"/api/v1/drafts/{d}/comments",
        "reviewer",
        body="名称已核实",
        item=w.built.uid("i1"),
    )
    _api(client, w, "POST", f"/api/v1/drafts/{d}/approve", "reviewer2", lock_version=3)
    _api(client, w, "POST", f"/api/v1/drafts/{d}/merge", "reviewer2")
    comments = _api(client, w, "GET", f"/api/v1/drafts/{d}/comments", "minzheng")
    assert [(c["author"], c["item"], c["body"]) for c in comments] == [
        ("reviewer", w.built.uid("i1"), "名称已核实")
    ]


def _links(client: TestClient, draft: int) -> list[tuple[str, str]]:
    """Return the (target, text) of the links the desk draws in `draft`'s row."""
    html = client.get("/desk").text
    row = re.search(rf'id="draft-{draft}".*?(?:</tr>|</li>)', html, re.S)
    assert row is not None
    return re.findall(r'<a(?: class="button-link")? href="([^"]+)">([^<]+)</a>', row.group(0))


def test_the_desk_links_each_draft_to_where_its_changes_are_shown(client: TestClient, w: World) -> None:
    # Approving or merging from the desk would skip the diff: the desk only links to the pages
    # where the step is taken with the changes in view.
    d = _api(client, w, "POST", "/api/v1/drafts", "minzheng", catalog="ceshi", title="按钮测试")["id"]
    item = f"/api/v1/drafts/{d}/items/{w.built.uid('i1')}"
    _api(client, w, "PATCH", item, "minzheng", name="社区居家养老上门服务", lock_version=1)
    _login(client, "minzheng")
    assert "inline-action" not in client.get("/desk").text  # no action buttons at all
    assert (f"/drafts/{d}", "打开编辑") in _links(client, d)
    _api(client, w, "POST", f"/api/v1/drafts/{d}/submit", "minzheng", lock_version=2)
    _login(client, "reviewer")
    assert (f"/review/drafts/{d}", "审核（查看修改）") in _links(client, d)
    _api(client, w, "POST", f"/api/v1/drafts/{d}/approve", "reviewer", lock_version=3)
    _login(client, "reviewer2")
    assert (f"/review/drafts/{d}/merge", "核对并合并") in _links(client, d)
    pressed = client.post(f"/drafts/{d}/actions/merge", data={"lock_version": 4})
    assert pressed.status_code in (404, 405)  # the one-click merge is gone
    assert _api(client, w, "GET", f"/api/v1/drafts/{d}", "admin")["status"] == "approved"
