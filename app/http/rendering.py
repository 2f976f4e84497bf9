"""Rendering HTML for a request: a whole page or the htmx fragment of it, with the viewer's session data.

The template environment is the app's (`app.state.templates`, built by web.templating), so the
error handler here and the pages in web render through the same helpers.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment

from app.http import sessions


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
    data = sessions.read(request)
    return {"session_csrf": data.csrf if data else None}


def render(request: Request, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Return `template` rendered with `context` (and the viewer's session data) as an HTML response."""
    body = render_bytes(request, template, **(_page_context(request) | context))
    return HTMLResponse(
        body, status_code=status_code, headers={"Cache-Control": "no-store"} if context.get("user") else None
    )
