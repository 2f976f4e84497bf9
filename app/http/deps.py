"""Dependencies shared by the HTML and JSON routes, declared once as Annotated aliases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session, sessionmaker

from app.clock import beijing_today
from app.config import Settings
from app.services.search.query import PAGE_SIZE, SearchQuery


def get_session(request: Request) -> Iterator[Session]:
    """Yield a session for one request (opened lazily: no connection until the first query).

    A plain generator: FastAPI runs it in the threadpool, so closing the session (a rollback and
    a return to the pool, both I/O) never blocks the event loop.
    """
    session: Session = request.app.state.sessions()
    request.state.db_session = session  # a form refused in place is answered on it (http.errors)
    try:
        yield session
    finally:
        session.close()


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_sessionmaker(request: Request) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = request.app.state.sessions
    return factory


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionmakerDep = Annotated[sessionmaker[Session], Depends(get_sessionmaker)]


def today() -> date:
    """Return today's date in Beijing (a dependency, so tests can fix the day)."""
    return beijing_today()


Today = Annotated[date, Depends(today)]


def search_query(
    *,
    q: Annotated[
        str, Query(max_length=200, description="关键词：汉字、全拼或拼音首字母；空格分隔的多个词须同时出现")
    ] = "",
    catalog: Annotated[str | None, Query(description="目录 slug：只搜这一个目录")] = None,
    version: Annotated[
        int | None, Query(ge=1, description="与 catalog 同用：搜该目录的这一已公开版本")
    ] = None,
    jurisdiction: Annotated[str | None, Query(description="行政区划代码：只搜该地区的目录")] = None,
    subordinate: Annotated[bool, Query(description="与 jurisdiction 同用：含其下级地区")] = False,
    class_: Annotated[str | None, Query(alias="class", description="一级目录编码，如 A")] = None,
    type_: Annotated[str | None, Query(alias="type", description="二级目录编码，如 A06")] = None,
    department: Annotated[str | None, Query(description="部门编码")] = None,
    after: Annotated[int, Query(ge=0, description="翻页游标：上一页返回的 next")] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = PAGE_SIZE,
) -> SearchQuery:
    """Return the search the query string asks for (empty strings from a form count as absent)."""
    return SearchQuery(
        q=q,
        catalog=catalog or None,
        version=version,
        jurisdiction=jurisdiction or None,
        subordinate=subordinate,
        class_code=class_ or None,
        type_code=type_ or None,
        department=department or None,
        after=after,
        limit=limit,
    )


SearchQueryDep = Annotated[SearchQuery, Depends(search_query)]
