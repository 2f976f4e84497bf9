"""Every URL the pages link to, built in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

if TYPE_CHECKING:
    from app.services.search.query import SearchHit, SearchQuery


def home() -> str:
    return "/"


def safe_next(target: str) -> str:
    """Return `target` if it is a path on this site, else the desk: a sign-in never redirects away."""
    on_site = target.startswith("/") and not target.startswith(("//", "/\\")) and "\\" not in target
    return target if on_site else "/desk"


def sign_in(next_path: str) -> str:
    """Return the sign-in page that comes back to `next_path` (a path on this site) afterwards."""
    return f"/login?next={quote(safe_next(next_path))}"


def catalog(slug: str) -> str:
    return f"/catalogs/{quote(slug)}"


def version(slug: str, seq: int) -> str:
    return f"/catalogs/{quote(slug)}/versions/{seq}"


def type_items(slug: str, seq: int, uid: str) -> str:
    return f"/catalogs/{quote(slug)}/versions/{seq}/types/{quote(uid)}"


def item(slug: str, uid: str, seq: int | None = None) -> str:
    # Rendered hundreds of times per fragment: an int needs no urlencode.
    base = f"/catalogs/{quote(slug)}/items/{quote(uid)}"
    return base if seq is None else f"{base}?version={int(seq)}"


def api_nodes(slug: str, seq: int, **params: str | int) -> str:
    base = f"/api/v1/catalogs/{quote(slug)}/versions/{seq}/nodes"
    return f"{base}?{urlencode(params)}" if params else base


def static(name: str) -> str:
    return f"/static/{quote(name)}"


def changes(slug: str, older: int | None = None, newer: int | None = None) -> str:
    params = {k: v for k, v in (("from", older), ("to", newer)) if v is not None}
    base = f"/catalogs/{quote(slug)}/changes"
    return f"{base}?{urlencode(params)}" if params else base


def print_version(slug: str, seq: int) -> str:
    return f"/catalogs/{quote(slug)}/versions/{seq}/print"


def version_json(slug: str, seq: int) -> str:
    return f"/catalogs/{quote(slug)}/versions/{seq}/catalog.json"


def api_diff(slug: str, older: int, newer: int, fmt: str) -> str:
    query = urlencode({"from": older, "to": newer, "format": fmt})
    return f"/api/v1/catalogs/{quote(slug)}/diff?{query}"


def statistics() -> str:
    return "/statistics"


def version_statistics(slug: str, seq: int) -> str:
    return f"/catalogs/{quote(slug)}/versions/{int(seq)}/statistics"


def hit_url(hit: SearchHit) -> str:
    """Return the version page with the hit's type open, anchored at the hit."""
    return f"{type_items(hit.catalog_slug, hit.version_seq, hit.hit.type_uid)}#item-{hit.hit.uid}"


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
