"""Public pages: catalogs, a version as a lazily expanding tree, items, what changed, print. No login."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from app.db.models import Catalog, Version
from app.http import downloads
from app.http.cache import IMMUTABLE, strong_etag
from app.http.deps import SessionDep, SessionmakerDep
from app.http.downloads import streamed_download
from app.http.errors import Refusal, refuse_in_place
from app.http.published import (
    cached_bytes,
    cached_bytes_hit,
    cached_html,
    cached_html_hit,
    known_public,
    public_list,
    remember_public_list,
    resolve_public,
    streamed_html,
)
from app.http.rendering import is_fragment_request, render, render_bytes
from app.services.catalogs import browse, history
from app.services.catalogs import changes_view as public_view

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep) -> Response:
    return render(request, "public/index.html", catalogs=browse.public_catalogs(session))


@router.get("/catalogs/{slug}", response_class=HTMLResponse)
async def catalog_latest(request: Request, slug: str) -> Response:
    found = _page_from_memory(request, slug, None)
    return found if found is not None else await run_in_threadpool(_catalog_page_read, request, slug, None)


@router.get("/catalogs/{slug}/versions/{seq}", response_class=HTMLResponse)
async def catalog_version(request: Request, slug: str, seq: int) -> Response:
    """A public version as a tree. Like the fragment, answered from memory on the event loop when the
    catalog's public versions and the version's tree are in memory; read in the threadpool otherwise."""
    found = _page_from_memory(request, slug, seq)
    return found if found is not None else await run_in_threadpool(_catalog_page_read, request, slug, seq)


@router.get("/catalogs/{slug}/versions/{seq}/types/{uid}", response_class=HTMLResponse)
async def type_items(request: Request, slug: str, seq: int, uid: str) -> Response:
    """The items of one type: a fragment for htmx, else the whole page with that type open.

    The hottest public route, and the one `async` route that reads data: a cached fragment of a
    published version is answered from memory on the event loop; anything that needs the
    database (a miss, the whole page) runs in the threadpool (docs/architecture.md, "async").
    """
    if is_fragment_request(request):
        ref = known_public(request, slug, seq)
        hit = None if ref is None else cached_html_hit(request, ("type", ref.version_id, uid))
        if hit is not None:
            return hit
    return await run_in_threadpool(_type_items, request, slug, seq, uid)


def _type_items(request: Request, slug: str, seq: int, uid: str) -> Response:
    sessions: sessionmaker[Session] = request.app.state.sessions
    if not is_fragment_request(request):
        with sessions() as session:
            return _catalog_page(request, session, slug, seq, open_uid=uid)
    ref = resolve_public(request, sessions, slug, seq)

    def build() -> bytes:
        with sessions() as session:
            return _items_html(request, session, slug, seq, uid)

    return cached_html(request, ("type", ref.version_id, uid), build)


@router.get("/catalogs/{slug}/items/{uid}", response_class=HTMLResponse)
def item_page(
    request: Request, slug: str, uid: str, session: SessionDep, version: Annotated[int | None, Query()] = None
) -> Response:
    """The item, its path, department, history and screening; a withdrawn one is shown marked so."""
    cat, view = public_view.item_view(session, slug, uid, version)
    return render(request, "public/item.html", catalog=cat, view=view)


@router.get("/catalogs/{slug}/changes", response_class=HTMLResponse)
def changes_page(
    request: Request,
    slug: str,
    session: SessionDep,
    older: Annotated[int | None, Query(alias="from")] = None,
    newer: Annotated[int | None, Query(alias="to")] = None,
) -> Response:
    """What changed between two public versions (default: the newest against the one before)."""
    cat, versions = browse.public_versions(session, slug)
    if older is None and newer is None and len(versions) < 2:  # nothing to compare yet: say so
        return render(request, "public/changes.html", catalog=cat, versions=versions, pair=None)

    def answer(refusal: Refusal) -> Response:  # two versions the wrong way round: the form says so
        context = {"catalog": cat, "versions": versions, "pair": None, "asked": (older, newer)}
        return render(request, "public/changes.html", status_code=refusal.status, refusal=refusal, **context)

    refuse_in_place(request, "compare", answer)
    a, b = history.public_pair(session, cat, older, newer)
    body = cached_bytes(request, ("changes", a.id, b.id), lambda: _changes_html(request, session, cat, a, b))
    return render(
        request,
        "public/changes.html",
        catalog=cat,
        versions=versions,
        pair=(a, b),
        changes_html=Markup(body.decode()),
    )


@router.get("/catalogs/{slug}/versions/{seq}/print", response_class=HTMLResponse)
def print_view(request: Request, slug: str, seq: int) -> Response:
    """The whole version laid out as the official attachment, for the browser's print to PDF."""
    sessions: sessionmaker[Session] = request.app.state.sessions
    ref = resolve_public(request, sessions, slug, seq)

    def render() -> Iterator[str]:
        with sessions() as session:  # its own: the stream outlives the request
            cat, ver = browse.public_version(session, slug, seq)
            template = request.app.state.templates.get_template("public/print.html")
            fourth = browse.has_subitems(session, cat, ver)
            rows = browse.print_rows(session, cat, ver)
            yield from template.generate(request=request, catalog=cat, version=ver, rows=rows, fourth=fourth)

    return streamed_html(request, ("print", ref.version_id), render)


@router.get("/catalogs/{slug}/versions/{seq}/catalog.json")
def version_json(
    request: Request, slug: str, seq: int, session: SessionDep, sessions: SessionmakerDep
) -> Response:
    """The whole public version as one JSON document, streamed, with a strong ETag."""
    cat, ver = browse.public_version(session, slug, seq)
    headers = {"ETag": strong_etag("catalog.json", ver.id), "Cache-Control": IMMUTABLE}
    if headers["ETag"] in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    chunks = public_view.json_download(sessions, slug, seq)
    return streamed_download(
        chunks, f"{cat.slug}-v{ver.seq}.json", media_type=downloads.JSON, headers=headers
    )


def _changes_html(request: Request, session: Session, cat: Catalog, a: Version, b: Version) -> bytes:
    view = public_view.changes_view(session, cat, a, b)
    return render_bytes(request, "public/_changes.html", catalog=cat, view=view)


def _items_html(request: Request, session: Session, slug: str, seq: int, uid: str) -> bytes:
    cat, ver = browse.public_version(session, slug, seq)
    node, items = browse.type_items(session, cat, ver, uid)
    return render_bytes(request, "public/_items.html", catalog=cat, version=ver, type=node, items=items)


def _tree_html(request: Request, session: Session, cat: Catalog, ver: Version) -> bytes:
    classes = browse.tree(session, cat, ver)
    return render_bytes(request, "public/_tree.html", catalog=cat, version=ver, classes=classes)


def _page_from_memory(request: Request, slug: str, seq: int | None) -> Response | None:
    """Return the catalog page if everything it shows is in memory (no I/O), else None."""
    known = public_list(request, slug)
    if known is None or not known.versions:
        return None
    ver = known.versions[0] if seq is None else next((v for v in known.versions if v.seq == seq), None)
    tree = None if ver is None else cached_bytes_hit(request, ("tree", ver.id))
    if ver is None or tree is None:
        return None
    return _catalog_html(request, known.catalog, known.versions, ver, tree, None)


def _catalog_page_read(request: Request, slug: str, seq: int | None) -> Response:
    sessions: sessionmaker[Session] = request.app.state.sessions
    with sessions() as session:
        return _catalog_page(request, session, slug, seq)


def _catalog_page(
    request: Request, session: Session, slug: str, seq: int | None, *, open_uid: str | None = None
) -> Response:
    cat, versions = browse.public_versions(session, slug)
    remember_public_list(request, cat, versions)
    ver = browse.pick_version(cat, versions, seq)
    tree = cached_bytes(request, ("tree", ver.id), lambda: _tree_html(request, session, cat, ver))
    if open_uid is not None:
        items = cached_bytes(
            request,
            ("type", ver.id, open_uid),
            lambda: _items_html(request, session, slug, ver.seq, open_uid),
        )
        tree = tree.replace(f"<!--items:{open_uid}-->".encode(), items)
    return _catalog_html(request, cat, versions, ver, tree, open_uid)


def _catalog_html(
    request: Request, cat: Catalog, versions: list[Version], ver: Version, tree: bytes, open_uid: str | None
) -> Response:
    return render(
        request,
        "public/catalog.html",
        catalog=cat,
        version=ver,
        versions=versions,
        latest=versions[0],
        tree_html=Markup(tree.decode()),
        open_uid=open_uid,
    )
