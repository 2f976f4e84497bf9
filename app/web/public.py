"""Public pages: the catalogs, a version as a lazily expanding tree, an item. No login."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session, sessionmaker

from app.db.models import Catalog, Version
from app.deps import SessionDep
from app.services import browse
from app.web.published import cached_bytes, cached_html, resolve_public
from app.web.templating import is_fragment_request, render, render_bytes

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, session: SessionDep) -> Response:
    return render(request, "public/index.html", catalogs=browse.public_catalogs(session))


@router.get("/catalogs/{slug}", response_class=HTMLResponse)
async def catalog_latest(request: Request, slug: str, session: SessionDep) -> Response:
    return _catalog_page(request, session, slug, None)


@router.get("/catalogs/{slug}/versions/{seq}", response_class=HTMLResponse)
async def catalog_version(request: Request, slug: str, seq: int, session: SessionDep) -> Response:
    return _catalog_page(request, session, slug, seq)


@router.get("/catalogs/{slug}/versions/{seq}/types/{uid}", response_class=HTMLResponse)
async def type_items(request: Request, slug: str, seq: int, uid: str) -> Response:
    """The items of one type: a fragment for htmx, else the whole page with that type open.

    No session dependency: a cached fragment of a published version needs no database, so
    one is opened only on a cache miss (this is the hottest public route).
    """
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
async def item_page(
    request: Request, slug: str, uid: str, session: SessionDep, version: Annotated[int | None, Query()] = None
) -> Response:
    cat, ver = browse.public_version(session, slug, version)
    node, path, children = browse.item(session, cat, ver, uid)
    return render(
        request, "public/item.html", catalog=cat, version=ver, node=node, path=path, children=children
    )


def _items_html(request: Request, session: Session, slug: str, seq: int, uid: str) -> bytes:
    cat, ver = browse.public_version(session, slug, seq)
    node, items = browse.type_items(session, cat, ver, uid)
    return render_bytes(request, "public/_items.html", catalog=cat, version=ver, type=node, items=items)


def _tree_html(request: Request, session: Session, cat: Catalog, ver: Version) -> bytes:
    classes = browse.tree(session, cat, ver)
    return render_bytes(request, "public/_tree.html", catalog=cat, version=ver, classes=classes)


def _catalog_page(
    request: Request, session: Session, slug: str, seq: int | None, *, open_uid: str | None = None
) -> Response:
    cat, versions = browse.public_versions(session, slug)
    ver = browse.pick_version(cat, versions, seq)
    tree = cached_bytes(request, ("tree", ver.id), lambda: _tree_html(request, session, cat, ver))
    if open_uid is not None:
        items = cached_bytes(
            request,
            ("type", ver.id, open_uid),
            lambda: _items_html(request, session, slug, ver.seq, open_uid),
        )
        tree = tree.replace(f"<!--items:{open_uid}-->".encode(), items)
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
