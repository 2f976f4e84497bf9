"""`publish-static`: the demo catalog as files, every link resolving, served by a plain static server."""

from __future__ import annotations

import csv
import io
import json
import threading
import urllib.request
from collections.abc import Iterator
from functools import partial
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from app.cli import static_site
from app.config import Settings
from app.errors import InvalidTransition, NotFound
from tests.factories import ELDERLY, Item, published_catalog

# the nav links to the live app's own services (search, API docs, sign-in); see static_site.LIVE_ONLY
LIVE_NAV = {"/search", "/docs", "/login"}


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, _tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [v for k, v in attrs if k in ("href", "src", "action") and v]


# Publishing crawls the app in-process: every page is the live site's, which the HTTP tests check
# on both databases. The crawl of 7,000 pages is the suite's slowest setup, so it runs once.
pytestmark = pytest.mark.sqlite_only


def _links(page: Path) -> list[str]:
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.found


def _served_file(root: Path, path: str) -> Path:
    target = root / unquote(path).lstrip("/")
    return target / "index.html" if path.endswith("/") or target.is_dir() else target


@pytest.fixture(scope="module")
def site(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, static_site.Published]:
    """The demo catalog published once per backend (it reads the database, never writes it)."""
    out = tmp_path_factory.mktemp("site")
    result = static_site.publish(Settings(database_url=demo_url, run_scheduler=False), "shifanshi", out)
    return out, result


@pytest.fixture(scope="module")
def demo_items(demo_url: str) -> dict[int, set[str]]:
    """The uids of the items (三级 and 四级) of each demo version."""
    engine = create_engine(demo_url)
    found: dict[int, set[str]] = {}
    with engine.connect() as c:
        for seq in (1, 2):
            rows = c.execute(
                text(
                    "SELECT n.uid FROM node_revisions r JOIN nodes n ON n.id = r.node_id "
                    "WHERE r.level >= 3 AND r.valid_from <= :s AND (r.valid_to IS NULL OR r.valid_to > :s)"
                ),
                {"s": seq},
            )
            found[seq] = {uid for (uid,) in rows}
    engine.dispose()
    return found


def test_every_internal_link_resolves_to_a_written_file(site: tuple[Path, static_site.Published]) -> None:
    out, result = site
    pages = list(out.rglob("*.html"))
    assert len(pages) == result.pages > 3000
    missing, live, queries = set(), set(), set()
    for page in pages:
        for link in _links(page):
            url, _ = urldefrag(link)
            parts = urlsplit(url)
            if parts.scheme or parts.netloc or not url:
                continue
            if parts.path in LIVE_NAV:
                live.add(parts.path)
            elif parts.query:
                queries.add(url)
            elif not _served_file(out, parts.path).is_file():
                missing.add(url)
    assert missing == set()
    assert queries == set()  # a static server ignores the query: such a link would show the wrong page
    assert live == set() == result.live_only  # search, API docs and sign-in are not offered offline
    assert result.failed == []


def test_pages_mirror_the_live_urls(
    site: tuple[Path, static_site.Published], demo_items: dict[int, set[str]]
) -> None:
    out, _ = site
    catalog = out / "catalogs" / "shifanshi"
    assert (out / "index.html").is_file()
    assert "示范市政府购买服务指导性目录" in (catalog / "index.html").read_text(encoding="utf-8")
    for seq in (1, 2):
        assert (catalog / "versions" / str(seq) / "index.html").is_file()
        assert len(list((catalog / "versions" / str(seq) / "types").glob("*/index.html"))) > 50
    # the newest version's items are the items' own pages; an older version's have the version in the path
    assert {p.parent.name for p in (catalog / "items").glob("*/index.html")} >= demo_items[2]
    assert {p.parent.name for p in (catalog / "versions" / "1" / "items").glob("*/index.html")} >= demo_items[
        1
    ]
    assert (catalog / "changes" / "1-2" / "index.html").is_file()
    assert (catalog / "versions" / "2" / "statistics" / "index.html").is_file()
    assert (out / "statistics" / "index.html").is_file()
    assert (out / "static" / "guidecat-1.css").stat().st_mode & 0o777 == 0o644


def test_type_pages_are_plain_pages_without_htmx(site: tuple[Path, static_site.Published]) -> None:
    out, _ = site
    types = out / "catalogs" / "shifanshi" / "versions" / "2" / "types"
    page = next(iter(sorted(types.glob("*/index.html"))))
    html = page.read_text(encoding="utf-8")
    assert 'class="item-list"' in html  # the type's items are in the page, as the live no-JS page has them
    assert "htmx-2.0.11" not in html
    assert "/catalogs/shifanshi/versions/2/types/" in html


def test_json_and_csv_downloads(
    site: tuple[Path, static_site.Published], demo_items: dict[int, set[str]]
) -> None:
    out, _ = site
    document = json.loads(
        (out / "catalogs" / "shifanshi" / "versions" / "2" / "catalog.json").read_text("utf-8")
    )
    assert document["version"]["seq"] == 2
    assert {i["uid"] for i in document["items"]} == demo_items[2]
    raw = (out / "api" / "v1" / "catalogs" / "shifanshi" / "versions" / "2" / "nodes.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:2] == ["序号", "目录编码"]
    assert len(rows) - 1 == len(demo_items[2])
    stats = (out / "catalogs" / "shifanshi" / "versions" / "2" / "statistics" / "classes.csv").read_bytes()
    assert stats.startswith(b"\xef\xbb\xbf")


@pytest.fixture
def served(site: tuple[Path, static_site.Published]) -> Iterator[str]:
    out, _ = site
    handler = partial(SimpleHTTPRequestHandler, directory=str(out))
    handler.log_message = lambda *_args: None  # type: ignore[method-assign]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_plain_static_server_serves_the_site(served: str, demo_items: dict[int, set[str]]) -> None:
    with urllib.request.urlopen(f"{served}/catalogs/shifanshi") as answer:  # redirected to the directory
        assert answer.status == 200
        html = answer.read().decode()
    assert "示范市政府购买服务指导性目录" in html
    uid = sorted(demo_items[2])[0]
    with urllib.request.urlopen(f"{served}/catalogs/shifanshi/items/{uid}/") as answer:
        assert "服务内容" in answer.read().decode()
    with urllib.request.urlopen(f"{served}/api/v1/catalogs/shifanshi/versions/2/nodes.csv") as answer:
        assert answer.read(3) == b"\xef\xbb\xbf"


# --- only public versions are ever written --------------------------------------------------


def test_an_unpublished_version_is_refused_and_never_written(session: Session, tmp_path: Path) -> None:
    published_catalog(session, ELDERLY, later=[Item("n1", "A06", "老年助餐服务点运营")], status="issued")
    settings = Settings(
        database_url=session.get_bind().url.render_as_string(hide_password=False), run_scheduler=False
    )
    with pytest.raises(InvalidTransition, match="第2版（2025年版）尚未公开"):
        static_site.publish(settings, "ceshi", tmp_path / "refused", seq=2)
    assert not (tmp_path / "refused" / "catalogs").exists()
    with pytest.raises(NotFound, match="没有第7版"):
        static_site.publish(settings, "ceshi", tmp_path / "refused", seq=7)
    out = tmp_path / "site"
    result = static_site.publish(settings, "ceshi", out)
    assert result.failed == []
    written = "".join(p.read_text(encoding="utf-8", errors="replace") for p in out.rglob("*") if p.is_file())
    assert "社区居家养老服务" in written
    assert "老年助餐服务点运营" not in written
    assert not (out / "catalogs" / "ceshi" / "versions" / "2").exists()


def test_one_version_can_be_written_alone(session: Session, tmp_path: Path) -> None:
    published_catalog(session, ELDERLY, later=[Item("n1", "A06", "老年助餐服务点运营")])
    settings = Settings(
        database_url=session.get_bind().url.render_as_string(hide_password=False), run_scheduler=False
    )
    out = tmp_path / "site"
    result = static_site.publish(settings, "ceshi", out, seq=1)
    assert result.failed == []
    catalog = out / "catalogs" / "ceshi"
    assert (catalog / "versions" / "1" / "index.html").is_file()
    assert (catalog / "versions" / "1" / "items").is_dir()
    # version 2 and the catalog's own pages (which show the newest version) belong to version 2's run
    assert not (catalog / "versions" / "2").exists()
    assert not (catalog / "items").exists()
    assert not (catalog / "index.html").exists()


def test_publishing_works_where_an_event_loop_is_already_running(session: Session, tmp_path: Path) -> None:
    # a caller with a running loop in its thread (Playwright's sync API keeps one) must still publish
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    published_catalog(session, ELDERLY)
    settings = Settings(
        database_url=session.get_bind().url.render_as_string(hide_password=False), run_scheduler=False
    )

    async def inside_a_loop() -> static_site.Published:
        return static_site.publish(settings, "ceshi", tmp_path / "site")

    # in a thread of its own, as this one may run a loop already (the browser tests' Playwright)
    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(asyncio.run, inside_a_loop()).result()
    assert result.failed == []
    assert (tmp_path / "site" / "catalogs" / "ceshi" / "versions" / "1" / "index.html").is_file()
