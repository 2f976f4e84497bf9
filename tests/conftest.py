"""Fixtures: real databases (SQLite always, PostgreSQL when TEST_DATABASE_URL is set), apps built per test."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import search_store
from app.db.engine import make_engine, make_sessionmaker
from app.db.migrate import upgrade
from app.main import create_app
from app.services.demo import load_demo
from tests.databases import BACKENDS, create_database, drop_database, empty_tables
from tests.paths import CATALOGS


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run `sqlite_only` tests on SQLite alone: on PostgreSQL they would repeat what others prove."""
    kept, dropped = [], []
    for item in items:
        backend = getattr(item, "callspec", None) and item.callspec.params.get("backend")  # type: ignore[attr-defined]
        sqlite_only = item.get_closest_marker("sqlite_only") is not None
        (dropped if sqlite_only and backend not in (None, "sqlite") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _name(kind: str) -> str:
    return f"guidecat_test_{kind}_{os.getpid()}"


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database kind a test runs on; every database test runs once per kind."""
    return str(request.param)


@pytest.fixture(scope="session")
def migrated_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated to head, shared by the tests of one backend and emptied before each."""
    url = create_database(backend, _name("main"), tmp_path_factory.mktemp("db"))
    upgrade(url)
    yield url
    drop_database(backend, url)


@pytest.fixture(scope="session")
def _shared_engine(migrated_url: str) -> Iterator[Engine]:
    engine = make_engine(migrated_url)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(_shared_engine: Engine) -> Engine:
    """An engine on an empty, migrated database."""
    empty_tables(_shared_engine)
    with (
        _shared_engine.begin() as conn
    ):  # SQLite's FTS5 search tables have no model: empty_tables misses them
        search_store.forget_all(conn)
    return _shared_engine


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with make_sessionmaker(engine)() as s:
        yield s


@pytest.fixture
def settings(engine: Engine) -> Settings:
    # public_list_seconds=0: factories write versions behind the services' back, so nothing is trusted
    url = engine.url.render_as_string(hide_password=False)
    return Settings(database_url=url, run_scheduler=False, public_list_seconds=0)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """An app built for this test on the empty database, driven over HTTP."""
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture(scope="session")
def demo_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database holding the demo catalog, loaded once per backend. Tests must not write to it."""
    url = create_database(backend, _name("demo"), tmp_path_factory.mktemp("demo"))
    upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as s:
        load_demo(s, CATALOGS)
    engine.dispose()
    yield url
    drop_database(backend, url)


@pytest.fixture
def demo_client(demo_url: str) -> Iterator[TestClient]:
    """An app built for this test on the demo database."""
    with TestClient(
        create_app(Settings(database_url=demo_url, run_scheduler=False, public_list_seconds=0))
    ) as c:
        yield c


@pytest.fixture
def demo_session(demo_url: str) -> Iterator[Session]:
    engine = make_engine(demo_url)
    with make_sessionmaker(engine)() as s:
        yield s
    engine.dispose()
