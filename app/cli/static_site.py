"""`guidecat publish-static`: a catalog's public versions as files any web server or CDN can serve.

The pages are the live site's own: each one is asked of the app in-process (an ASGI call, no
socket and no HTTP client), so the routes, services, templates and caches are exactly the
live ones and the two sites cannot drift apart. Only the template environment differs: its
URL builder is `StaticUrls`, whose every link names a file written here (a query string means
nothing to a static server, so `/items/X?version=2` becomes `/versions/2/items/X/`). Starting
from the catalog's pages, every link inside the catalog is followed and written, so a link
in a written page resolves to a written file by construction; links to the live app's own
services (search, sign-in, the API docs) are left as they are and reported.

Output mirrors the live URLs under `out`, to be served at the site root: a page at
`/catalogs/{slug}/versions/{n}/` is `out/catalogs/{slug}/versions/{n}/index.html`, a download
keeps its path with an extension (`/api/v1/catalogs/{slug}/versions/{n}/nodes.csv`), and
`static/` is copied. Files are replaced one by one (written aside, then renamed).

By default every public version is written, so the history links between versions resolve.
With `seq` only that version is (and the catalog's own pages, which show the newest version,
only if it is the newest): a province adds each new version to the directory holding the
earlier ones. An item page costs what the live one does (about 15 ms here), so a 650,000-item
version takes hours: this runs once per publication, never per request. A site served at the
root holds every catalog: run once per catalog into the same directory.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from urllib.parse import quote, unquote, urldefrag, urlsplit

from fastapi import FastAPI
from sqlalchemy.orm import Session

from app.cli.inprocess import Call
from app.config import Settings
from app.db import queries
from app.errors import InvalidTransition, NotFound
from app.http import urls as live_urls
from app.services.catalogs import browse
from app.web.statistics import StatsUrls
from app.workflow.states import OPEN_VERSION_STATES

# the live app's own services: no static file can stand in for them
LIVE_ONLY = (
    "/search",
    "/docs",
    "/login",
    "/logout",
    "/desk",
    "/admin",
    "/editor",
    "/review",
    "/openapi.json",
)
# The static pages work without htmx (every tree link is a plain link to a type page): htmx
# would fetch a whole page into the tree. Until base.html can leave its script out, its
# script tag points at this no-op file.
_VERSION = re.compile(r"/versions/(\d+)(?:/|$)")
_LINK = re.compile(r'\s(?:href|src|action)="([^"]*)"')
_EXTENSION = {"csv": "csv", "xlsx": "xlsx", "ndjson": "ndjson", "json": "json"}


@dataclass(slots=True)
class Published:
    """What a run wrote, and the links it left to the live app."""

    out: Path
    pages: int = 0
    files: int = 0
    live_only: set[str] = field(default_factory=set)
    failed: list[tuple[str, int]] = field(default_factory=list)  # (url, HTTP status)


class StaticUrls:
    """app.web.urls for a static site: directory URLs end in a slash, queries become paths.

    Each URL it hands out is remembered with the live URL that renders it; a builder it does
    not know is delegated to the live one (and its link is checked like any other).
    """

    def __init__(self, latest: dict[str, int]) -> None:
        self._latest = latest
        self.live: dict[str, str] = {}

    def _pair(self, static: str, live: str) -> str:
        if live != static.rstrip("/"):  # the rest are found by dropping the slash: keep the map small
            self.live.setdefault(static, live)
        return static

    def __getattr__(self, name: str) -> Callable[..., str]:
        return getattr(live_urls, name)  # type: ignore[no-any-return]

    def home(self) -> str:
        return "/"

    def catalog(self, slug: str) -> str:
        return self._pair(f"/catalogs/{quote(slug)}/", live_urls.catalog(slug))

    def version(self, slug: str, seq: int) -> str:
        return self._pair(f"/catalogs/{quote(slug)}/versions/{seq}/", live_urls.version(slug, seq))

    def type_items(self, slug: str, seq: int, uid: str) -> str:
        return self._pair(
            f"/catalogs/{quote(slug)}/versions/{seq}/types/{quote(uid)}/",
            live_urls.type_items(slug, seq, uid),
        )

    def item(self, slug: str, uid: str, seq: int | None = None) -> str:
        # the newest version's item page is the item's own page, as on the live site
        if seq is None or seq == self._latest.get(slug):
            return self._pair(f"/catalogs/{quote(slug)}/items/{quote(uid)}/", live_urls.item(slug, uid, seq))
        static = f"/catalogs/{quote(slug)}/versions/{seq}/items/{quote(uid)}/"
        return self._pair(static, live_urls.item(slug, uid, seq))

    def api_nodes(self, slug: str, seq: int, **params: str | int) -> str:
        fmt = str(params.get("format", "json"))
        if set(params) - {"format", "bom"} or fmt not in _EXTENSION:
            return live_urls.api_nodes(slug, seq, **params)  # a filtered listing: the live API's
        static = f"/api/v1/catalogs/{quote(slug)}/versions/{seq}/nodes.{_EXTENSION[fmt]}"
        live = live_urls.api_nodes(slug, seq, **({**params, "bom": 1} if fmt == "csv" else params))
        return self._pair(static, live)

    def changes(self, slug: str, older: int | None = None, newer: int | None = None) -> str:
        if older is None or newer is None:
            return self._pair(f"/catalogs/{quote(slug)}/changes/", live_urls.changes(slug))
        return self._pair(
            f"/catalogs/{quote(slug)}/changes/{older}-{newer}/", live_urls.changes(slug, older, newer)
        )

    def api_diff(self, slug: str, older: int, newer: int, fmt: str) -> str:
        static = f"/api/v1/catalogs/{quote(slug)}/diff/{older}-{newer}.{fmt}"
        return self._pair(static, live_urls.api_diff(slug, older, newer, fmt))

    def print_version(self, slug: str, seq: int) -> str:
        return self._pair(
            f"/catalogs/{quote(slug)}/versions/{seq}/print/", live_urls.print_version(slug, seq)
        )


def publish(settings: Settings, slug: str, out: Path, *, seq: int | None = None) -> Published:
    """Write catalog `slug`'s public versions (only `seq` if given) as a static site under `out`.

    Raises NotFound for an unknown catalog, InvalidTransition for a version that is not public.
    """
    from app.main import create_app

    app = create_app(settings)
    try:
        with app.state.sessions() as session:
            seqs, latest = _versions(session, slug, seq)
        static_urls = StaticUrls(latest)
        env = app.state.templates
        env.globals.update(urls=static_urls, HTMX=None, STATIC_SITE=True, stats_urls=StatsUrls(static=True))
        result = Published(out)
        _copy_static(settings.static_dir, out)
        crawl = _Crawl(app, static_urls, result, _Scope(slug, seqs, unversioned=latest[slug] in seqs))
        _run_in_own_loop(crawl, _starts(static_urls, slug, seqs))
        return result
    finally:
        app.state.engine.dispose()


def _run_in_own_loop(crawl: _Crawl, starts: list[str]) -> None:
    """Run the crawl to the end on an event loop of its own thread.

    The caller may already be running a loop in this thread (a sync API such as Playwright's
    keeps one), where asyncio.run refuses to start; a thread of our own never has one.
    """
    failure: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(crawl.run(starts))
        except BaseException as exc:  # re-raised in the caller's thread
            failure.append(exc)

    worker = threading.Thread(target=target, name="publish-static")
    worker.start()
    worker.join()
    if failure:
        raise failure[0]


def _versions(session: Session, slug: str, seq: int | None) -> tuple[set[int], dict[str, int]]:
    """Return the versions to write (all public ones, or `seq` if it is public) and each catalog's newest."""
    cat, public = browse.public_versions(session, slug)
    if not public:
        raise NotFound(f"目录“{cat.name}”尚无已公开的版本，没有可以发布的内容")
    if seq is not None and seq not in {v.seq for v in public}:
        found = queries.version(session, cat.id, seq, statuses=OPEN_VERSION_STATES)
        if found is None:
            raise NotFound(f"目录“{cat.name}”没有第{seq}版")
        raise InvalidTransition(
            f"第{seq}版（{found.label}）尚未公开，不能发布为静态网站：只有已公开的版本才能对外提供"
        )
    newest = queries.latest_public_by_catalog(session)
    latest = {
        c.slug: newest[c.id].seq for c, _j in queries.catalogs_with_jurisdiction(session) if c.id in newest
    }
    return ({seq} if seq is not None else {v.seq for v in public}), latest


def _starts(static_urls: StaticUrls, slug: str, seqs: set[int]) -> list[str]:
    starts = ["/", "/statistics/"]
    for seq in sorted(seqs):
        starts += [static_urls.version(slug, seq), f"/catalogs/{quote(slug)}/versions/{seq}/statistics/"]
    return starts


def _copy_static(source: Path, out: Path) -> None:
    target = out / "static"
    target.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        if path.is_file():
            shutil.copy2(path, target / path.name)


@dataclass(frozen=True, slots=True)
class _Scope:
    """Which URLs this run writes: the catalog's, in the chosen versions, plus the site's front pages."""

    slug: str
    seqs: set[int]
    unversioned: bool  # the newest version is written: so are the catalog's version-less pages

    def covers(self, path: str) -> bool:
        if path in ("/", "/statistics", "/statistics/") or path.startswith("/statistics/"):
            return True
        slug = quote(self.slug)
        if not (path.startswith(f"/catalogs/{slug}/") or path.startswith(f"/api/v1/catalogs/{slug}/")):
            return False
        found = _VERSION.search(path)
        return int(found.group(1)) in self.seqs if found else self.unversioned


def _directory(path: str) -> str:
    """Return `path` ending in a slash unless its last segment names a file."""
    return path if path.endswith("/") or "." in path.rsplit("/", 1)[-1] else path + "/"


def links_in(html: str) -> list[str]:
    """Return every href, src and action in `html` (as the app's templates write them: double-quoted)."""
    return [unescape(m) for m in _LINK.findall(html)]


def file_for(out: Path, path: str, *, page: bool) -> Path:
    """Return the file that serves URL `path` under `out` (a page's is its directory's index.html)."""
    relative = unquote(path).lstrip("/")
    if page and not relative.endswith(".html"):
        return out / relative / "index.html"
    return out / relative


class _Crawl:
    def __init__(self, app: FastAPI, static_urls: StaticUrls, result: Published, scope: _Scope) -> None:
        self.app, self.urls, self.result, self.scope = app, static_urls, result, scope
        self.seen: set[str] = set()

    async def run(self, starts: list[str]) -> None:
        queue = list(starts)
        while queue:
            path = queue.pop()
            if path in self.seen:
                continue
            self.seen.add(path)
            html = await self._fetch(path)
            for link in links_in(html) if html is not None else ():
                target = self._follow(link)
                if target is not None and target not in self.seen:
                    queue.append(target)

    def _follow(self, link: str) -> str | None:
        url, _fragment = urldefrag(link)
        parts = urlsplit(url)
        if (
            parts.scheme
            or parts.netloc
            or not parts.path.startswith("/")
            or parts.path.startswith("/static/")
        ):
            return None
        if parts.path.rstrip("/") in LIVE_ONLY or any(parts.path.startswith(p + "/") for p in LIVE_ONLY):
            self.result.live_only.add(parts.path)
            return None
        if parts.query:
            self.result.live_only.add(url)  # no static file answers a query
            return None
        return _directory(parts.path) if self.scope.covers(parts.path) else None

    async def _fetch(self, path: str) -> str | None:
        """Write the answer to `path` under the output; return it if it is a page (to follow its links)."""
        live = self.urls.live.get(path) or (path.rstrip("/") or "/")
        call = Call(self.app, live)
        status, kind, body = await call.into(self.result.out)
        if status != 200 or body is None:
            self.result.failed.append((path, status))
            return None
        page = kind.startswith("text/html")
        body.replace(file_for(self.result.out, path, page=page))
        if page:
            self.result.pages += 1
            return body.text()
        self.result.files += 1
        return None
