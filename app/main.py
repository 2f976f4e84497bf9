"""create_app(settings) -> FastAPI. Nothing happens at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app import __version__
from app.api import audit as api_audit
from app.api import catalogs as api_catalogs
from app.api import changes as api_changes
from app.api import draft_workflow as api_draft_workflow
from app.api import drafts as api_drafts
from app.api import health
from app.api import imports as api_imports
from app.api import publication as api_publication
from app.api import screening as api_screening
from app.api import search as api_search
from app.api import versions as api_versions
from app.api import workdays as api_workdays
from app.config import Settings
from app.db.engine import make_engine, make_sessionmaker
from app.http import errors
from app.http.cache import PageCache
from app.http.request_id import RequestIdMiddleware
from app.services.search import index as search_index
from app.services.versions import schedule as publication
from app.web import editor as editor_pages
from app.web import merge as merge_pages
from app.web import public
from app.web import review as review_pages
from app.web import search as search_pages
from app.web import signin as auth_pages
from app.web import statistics as stats_pages
from app.web.admin import departments as departments_pages
from app.web.admin import rules as rules_pages
from app.web.admin import users as users_pages
from app.web.admin import versions as finance
from app.web.templating import make_environment

DESCRIPTION = """政府购买服务指导性目录的公开数据接口。已公开的版本不会再改变：响应带强 ETag 与长缓存时间。

Public API of the government procurement-of-services guidance catalog."""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Return the app for `settings` (default: from the environment); the engine opens lazily."""
    settings = settings or Settings.from_env()
    engine = make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        sessions = app.state.sessions
        with publication.background_scheduler(
            sessions,
            enabled=settings.run_scheduler,
            index_later=lambda: search_index.index_in_worker(settings, sessions),  # as a publish from a page
        ):
            yield
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
    app.state.sessions = make_sessionmaker(engine)
    app.state.templates = make_environment()
    app.state.page_cache = PageCache(settings.page_cache_bytes)
    app.state.public_refs = {}
    errors.install(app)
    app.add_middleware(RequestIdMiddleware)
    app.mount("/static", StaticFiles(directory=settings.static_dir), name="static")
    app.include_router(health.router)
    app.include_router(api_catalogs.router)
    app.include_router(api_imports.router)
    app.include_router(api_screening.router)
    app.include_router(api_changes.router)
    app.include_router(api_drafts.router)
    app.include_router(api_draft_workflow.router)
    app.include_router(api_versions.router)
    app.include_router(api_workdays.router)
    app.include_router(api_publication.router)
    app.include_router(api_audit.router)
    app.include_router(public.router)
    app.include_router(auth_pages.router)
    app.include_router(finance.router)
    app.include_router(api_search.router)
    app.include_router(search_pages.router)
    app.include_router(stats_pages.router)
    app.include_router(editor_pages.router)
    app.include_router(review_pages.router)
    app.include_router(merge_pages.router)
    app.include_router(users_pages.router)
    app.include_router(departments_pages.router)
    app.include_router(rules_pages.router)
    return app


def create_app_from_env() -> FastAPI:
    """Return the app configured from the environment (uvicorn's --factory entry point)."""
    return create_app(Settings.from_env())
