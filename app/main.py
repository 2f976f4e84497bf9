"""create_app(settings) -> FastAPI. Nothing happens at import time."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app import __version__
from app.api import routes as api_routes
from app.config import Settings
from app.db.engine import make_engine, make_sessionmaker
from app.http import errors
from app.http.cache import PageCache
from app.http.request_id import RequestIdMiddleware
from app.services.search import worker as search_worker
from app.services.versions import scheduler
from app.web import routes as web_routes
from app.web.templating import make_environment

SWITCH_INTERVAL = 0.001  # seconds a thread may hold the interpreter lock before another may take it

DESCRIPTION = """政府购买服务指导性目录的公开数据接口。已公开的版本不会再改变：响应带强 ETag 与长缓存时间。

Public API of the government procurement-of-services guidance catalog."""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Return the app for `settings` (default: from the environment); the engine opens lazily."""
    settings = settings or Settings.from_env()
    engine = make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # A thread building a large file (an XLSX export) keeps the interpreter lock up to 5 ms at a
        # time by default, and the event loop waits behind it: at 1 ms the loop's worst waits fell
        # from 128 ms to 5 ms (bench/loop.py, docs/architecture.md "async or not").
        sys.setswitchinterval(SWITCH_INTERVAL)
        sessions = app.state.sessions
        with scheduler.background_scheduler(sessions, enabled=settings.run_scheduler):
            yield
        search_worker.drain()  # a publication just before stopping is still indexed
        engine.dispose()

    app = FastAPI(
        title="guidecat 政府购买服务指导性目录",
        version=__version__,
        description=DESCRIPTION,
        docs_url="/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = make_sessionmaker(engine, background_work=True)
    app.state.templates = make_environment()
    app.state.page_cache = PageCache(settings.page_cache_bytes)
    app.state.public_refs = {}
    app.state.public_lists = {}
    errors.install(app)
    app.add_middleware(RequestIdMiddleware)
    app.mount("/static", StaticFiles(directory=settings.static_dir), name="static")
    for router in (*api_routes.ROUTERS, *web_routes.ROUTERS):
        app.include_router(router)
    return app


def create_app_from_env() -> FastAPI:
    """Return the app configured from the environment (uvicorn's --factory entry point)."""
    return create_app(Settings.from_env())
