"""Reusable steps for browser tests: signing in through the /login form, a database of their own."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from app.db.engine import make_engine, make_sessionmaker
from app.db.migrate import upgrade
from app.services.demo import load_demo
from tests.browser.conftest import serve
from tests.databases import create_database, drop_database

CATALOGS = Path(__file__).resolve().parents[2] / "catalogs"
# The demo's own accounts (catalogs/demo/demo.json)
DEMO_PASSWORDS = {
    "admin": "demo-admin",
    "reviewer": "demo-reviewer",
    "minzheng": "demo-editor",
    "sysadmin": "demo-sysadmin",
}

Page = Any


def login(page: Page, base: str, username: str, password: str | None = None, *, next: str = "/desk") -> None:
    """Sign `username` in through the /login form, as a person does, and wait for the page it leads to."""
    page.goto(f"{base}/login?next={next}")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password if password is not None else DEMO_PASSWORDS[username])
    with page.expect_navigation():
        page.locator("form[action='/login'] button[type='submit']").click()
    assert "/login" not in page.url, f"sign-in as {username} failed"


def writable_demo_server(backend: str, folder: Path, name: str) -> Iterator[str]:
    """Serve a fresh copy of the demo (tests may write to it); yield its base URL, drop it afterwards."""
    url = create_database(backend, f"guidecat_test_{name}_{os.getpid()}", folder)
    upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        load_demo(session, CATALOGS)
    engine.dispose()
    try:
        yield from serve(url)
    finally:
        drop_database(backend, url)
