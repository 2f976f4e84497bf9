"""The pages' Jinja2 environment: autoescape always on, the filters and globals every template uses.

Rendering itself (a page or a fragment) is app.http.rendering, shared with the error handler.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from app.clock import BEIJING
from app.http import urls
from app.http.errors import NO_REFUSAL

TEMPLATES = Path(__file__).parent / "templates"
HTMX = "htmx-2.0.11.min.js"
STYLESHEET = "guidecat-1.css"


def _date(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.astimezone(BEIJING).strftime("%Y年%m月%d日 %H:%M")
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
    env.globals.update(urls=urls, HTMX=HTMX, STYLESHEET=STYLESHEET, STATIC_SITE=False, refusal=NO_REFUSAL)
    env.filters["cn_date"] = _date
    return env
