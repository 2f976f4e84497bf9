"""Jinja2 with autoescape always on, and the one helper that renders a page or a fragment."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from app.http import urls

TEMPLATES = Path(__file__).parent / "templates"
CHINA = ZoneInfo("Asia/Shanghai")
HTMX = "htmx-2.0.11.min.js"
STYLESHEET = "guidecat-1.css"


def _date(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.astimezone(CHINA).strftime("%Y年%m月%d日 %H:%M")
    return value.strftime("%Y年%m月%d日")


def make_environment() -> Environment:
    """Return the template environment; autoescaping cannot be switched off per template."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.globals.update(urls=urls, HTMX=HTMX, STYLESHEET=STYLESHEET, STATIC_SITE=False)
    env.filters["cn_date"] = _date
    return env


def is_fragment_request(request: Request) -> bool:
    """Return whether htmx asked for a fragment (and not for a history restore of a whole page)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render_bytes(request: Request, template: str, **context: Any) -> bytes:
    """Return `template` rendered with `context` as UTF-8 bytes (no per-user data: it may be cached)."""
    env: Environment = request.app.state.templates
    return env.get_template(template).render(request=request, **context).encode()


def _page_context(request: Request) -> dict[str, Any]:
    """Return what every whole page needs about its viewer: the session's CSRF token, or None."""
    from app.http import sessions

    data = sessions.read(request)
    return {"session_csrf": data.csrf if data else None}


def render(request: Request, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Return `template` rendered with `context` (and the viewer's session data) as an HTML response."""
    body = render_bytes(request, template, **(_page_context(request) | context))
    return HTMLResponse(
        body, status_code=status_code, headers={"Cache-Control": "no-store"} if context.get("user") else None
    )
