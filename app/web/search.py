"""The search page: a GET form that works without JavaScript; with htmx the results update as you type."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from app.catalog.frameworks import ClassDef
from app.catalog.search_text import Field
from app.config import Settings
from app.formats.frameworks import load_framework
from app.http.deps import SearchQueryDep, SessionDep, SettingsDep
from app.http.rendering import is_fragment_request, render
from app.http.urls import hit_url, query_url
from app.services.catalogs import browse
from app.services.search import query as search
from app.services.search.query import SearchHit, SearchPage, SearchQuery

router = APIRouter(include_in_schema=False)


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
def search_page(
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
