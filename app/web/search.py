"""The search page: a GET form that works without JavaScript; with htmx the results update as you type."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from app.catalog.frameworks import ClassDef
from app.catalog.search_text import Field
from app.config import Settings
from app.formats.frameworks import load_framework
from app.http import urls
from app.http.deps import SessionDep, SettingsDep
from app.services.catalogs import browse
from app.services.search import query as search
from app.services.search.query import SearchHit, SearchPage, SearchQuery
from app.web.templating import is_fragment_request, render

router = APIRouter(include_in_schema=False)


def search_query(
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
    limit: Annotated[int, Query(ge=1, le=200)] = search.PAGE_SIZE,
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


def hit_url(hit: SearchHit) -> str:
    """Return the version page with the hit's type open, anchored at the hit."""
    return f"{urls.type_items(hit.catalog_slug, hit.version_seq, hit.hit.type_uid)}#item-{hit.hit.uid}"


def query_url(query: SearchQuery, *, base: str = "/search", **changes: str | int | None) -> str:
    """Return `base` with the query's parameters, changed by `changes`."""
    params: dict[str, str | int | None] = {
        "q": query.q,
        "catalog": query.catalog,
        "version": query.version,
        "jurisdiction": query.jurisdiction,
        "subordinate": 1 if query.subordinate else None,
        "class": query.class_code,
        "type": query.type_code,
        "department": query.department,
    } | changes
    return f"{base}?{urlencode({k: v for k, v in params.items() if v not in (None, '')})}"


def marked(hit: SearchHit, field: str) -> Markup:
    """Return the hit's name or description escaped, each matched stretch wrapped in <mark>."""
    text = hit.hit.name if field == Field.NAME else hit.hit.description
    out, pos = Markup(""), 0
    for span in (s for s in hit.spans if s.field == field):
        out += escape(text[pos : span.start]) + Markup("<mark>") + escape(text[span.start : span.end])
        out += Markup("</mark>")
        pos = span.end
    return out + escape(text[pos:])


@router.get("/search", response_class=HTMLResponse)
async def search_page(
    request: Request, query: SearchQueryDep, session: SessionDep, settings: SettingsDep
) -> Response:
    page = search.search(session, query)
    if is_fragment_request(request):
        return render(request, "public/_search_results.html", **_results_context(page))
    return render(
        request, "public/search.html", **_results_context(page), **_form_context(session, settings, query)
    )


def _results_context(page: SearchPage) -> dict[str, Any]:
    next_url = None if page.next_after is None else query_url(page.query, after=page.next_after)
    return {"page": page, "hit_url": hit_url, "marked": marked, "next_url": next_url}


def _form_context(session: Session, settings: Settings, query: SearchQuery) -> dict[str, Any]:
    catalogs = [c for c in browse.public_catalogs(session) if c.latest is not None]
    chosen = next((c for c in catalogs if c.catalog.slug == query.catalog), None)
    frameworks = {c.catalog.framework for c in ([chosen] if chosen else catalogs)} or {"six_class"}
    classes: dict[str, ClassDef] = {}
    for slug in sorted(frameworks):
        for cls in load_framework(settings.catalogs_dir, slug).classes:
            classes.setdefault(cls.code, cls)
    departments = browse.department_names(session, chosen.catalog) if chosen else {}
    return {
        "query": query,
        "catalogs": catalogs,
        "classes": sorted(classes.values(), key=lambda c: c.code),
        "departments": sorted(departments.items()),
    }
