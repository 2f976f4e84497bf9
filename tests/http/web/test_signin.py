"""Signing in as a person does: the form, the cookie's flags, throttling, CSRF, sign-out, revocation."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.services.people import accounts as people
from tests.factories import SYSTEM
from tests.workflow_world import PASSWORD, World, world


@pytest.fixture
def w(session: Session) -> World:
    return world(session)


def _form_token(client: TestClient, path: str = "/login") -> str:
    page = client.get(path)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def _login(client: TestClient, username: str, password: str = PASSWORD, next: str = "/desk") -> Any:
    token = _form_token(client)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, "next": next},
        follow_redirects=False,
    )


@pytest.mark.usefixtures("w")
def test_sign_in_sets_a_safe_cookie_and_lands_on_the_desk(client: TestClient) -> None:
    response = _login(client, "reviewer")
    assert response.status_code == 303
    assert response.headers["location"] == "/desk"
    cookie = response.headers["set-cookie"]
    assert "guidecat_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie  # plain HTTP in this test; see the HTTPS test
    desk = client.get("/desk")
    assert "待审核（最早送审的在前）" in desk.text
    assert "财政审核人" in desk.text
    assert desk.headers["cache-control"] == "no-store"


def test_over_https_the_cookie_is_secure(session: Session, settings: object) -> None:
    from app.main import create_app

    world(session)
    with TestClient(create_app(settings), base_url="https://testserver") as client:  # type: ignore[arg-type]
        response = _login(client, "admin")
        assert "Secure" in response.headers["set-cookie"]


@pytest.mark.usefixtures("w")
def test_wrong_password_and_throttling(client: TestClient) -> None:
    wrong = _login(client, "minzheng", "wrong-password")
    assert wrong.status_code == 401
    assert "用户名或密码不正确" in wrong.text
    for _ in range(4):
        _login(client, "minzheng", "wrong-password")
    blocked = _login(client, "minzheng")  # the right password, too late
    assert blocked.status_code == 429
    assert "登录失败次数过多" in blocked.text
    assert _login(client, "jiaoyu").status_code == 303  # other accounts still sign in


@pytest.mark.usefixtures("w")
def test_forged_sign_in_form_is_refused(client: TestClient) -> None:
    response = client.post(
        "/login",
        data={"username": "admin", "password": PASSWORD, "csrf_token": "forged"},
        follow_redirects=False,
    )
    assert response.status_code == 401
    assert "登录页面已过期" in response.text


@pytest.mark.usefixtures("w")
def test_cookie_writes_need_the_csrf_token(client: TestClient) -> None:
    _login(client, "minzheng")
    refused = client.post("/api/v1/drafts", json={"catalog": "ceshi"})
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["error"]["message"]
    header = re.search(r'"X-CSRF-Token": "([^"]+)"', client.get("/desk").text)
    assert header
    created = client.post(
        "/api/v1/drafts", json={"catalog": "ceshi"}, headers={"X-CSRF-Token": header.group(1)}
    )
    assert created.status_code == 201


@pytest.mark.usefixtures("w")
def test_sign_out_and_password_reset_end_sessions(client: TestClient, session: Session) -> None:
    _login(client, "admin")
    assert client.get("/desk", follow_redirects=False).status_code == 200
    people.reset_password(session, "admin", "another-password-2", actor=SYSTEM)
    assert client.get("/desk", follow_redirects=False).headers["location"] == "/login?next=/desk"
    _login(client, "admin", "another-password-2")
    token = _form_token(client, "/desk")
    out = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/desk", follow_redirects=False).status_code == 303


def test_a_disabled_user_and_a_revoked_token_are_refused(
    client: TestClient, w: World, session: Session
) -> None:
    headers = w.auth("reviewer")
    assert client.get("/api/v1/drafts/999", headers=headers).status_code == 404
    people.set_active(session, "reviewer", active=False, actor=SYSTEM)
    assert client.get("/api/v1/drafts/999", headers=headers).status_code == 401
    assert _login(client, "reviewer").status_code == 401


@pytest.mark.usefixtures("w")
def test_no_open_redirect_after_sign_in(client: TestClient) -> None:
    response = _login(client, "admin", next="//evil.example/")
    assert response.headers["location"] == "/desk"


@pytest.mark.usefixtures("w")
def test_a_hash_with_older_parameters_signs_in_and_is_rehashed(client: TestClient, session: Session) -> None:
    from argon2 import PasswordHasher
    from sqlalchemy import select

    from app.db.models import User

    user = session.scalars(select(User).where(User.username == "reviewer")).one()
    user.password_hash = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4).hash(PASSWORD)
    session.commit()
    assert _login(client, "reviewer").status_code == 303
    session.expire_all()
    upgraded = session.scalars(select(User.password_hash).where(User.username == "reviewer")).one()
    assert upgraded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert people.hash_password("x" * 8).startswith("$argon2id$")


@pytest.mark.usefixtures("w")
def test_the_header_offers_review_and_admin_by_role(client: TestClient) -> None:
    _login(client, "reviewer")
    nav = client.get("/desk").text.split("</nav>")[0]
    assert 'href="/review"' in nav
    assert 'href="/admin"' not in nav
    client.cookies.clear()
    _login(client, "minzheng")
    nav = client.get("/desk").text.split("</nav>")[0]
    assert 'href="/review"' not in nav
    assert 'href="/admin"' not in nav
    client.cookies.clear()
    _login(client, "admin")
    nav = client.get("/desk").text.split("</nav>")[0]
    assert 'href="/review"' in nav
    assert 'href="/admin"' in nav
