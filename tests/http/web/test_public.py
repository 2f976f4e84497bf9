"""Public pages over HTTP: catalog list, the lazily expanding tree, fragments, items, errors."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.config import Settings
from app.db.models import Version
from tests.factories import ELDERLY, Item, published_catalog

HX = {"HX-Request": "true"}


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_home_lists_public_catalogs(client: TestClient, session: Session) -> None:
    assert "暂无已公开的目录" in client.get("/").text
    published_catalog(session, ELDERLY)
    page = client.get("/")
    assert page.status_code == 200
    assert '<html lang="zh-CN">' in page.text
    assert 'href="/catalogs/ceshi"' in page.text
    assert "现行版本：2024年版（测财购〔2024〕1号）" in _text(page.text)


def test_catalog_page_shows_classes_and_types_with_counts(client: TestClient, session: Session) -> None:
    built = published_catalog(session, ELDERLY)
    page = client.get("/catalogs/ceshi")
    text = _text(page.text)
    assert "A 基本公共服务 3项" in text  # two elderly-care items and one education item (四级 not counted)
    assert "A06 养老服务 2项" in text
    assert "E01 法律服务 1项" in text
    assert "F 其他适宜由社会力量承担的服务事项 0项" in text
    url = f"/catalogs/ceshi/versions/1/types/{built.type_uid('A06')}"
    # the same URL is the htmx fragment and, without JavaScript, a page with the type open
    assert f'href="{url}#type-{built.type_uid("A06")}" hx-get="{url}"' in page.text
    assert "社区居家养老服务" not in text  # items arrive lazily


def test_type_fragment_is_only_the_items(client: TestClient, session: Session) -> None:
    built = published_catalog(session, ELDERLY)
    url = f"/catalogs/ceshi/versions/1/types/{built.type_uid('A06')}"
    fragment = client.get(url, headers=HX)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    text = _text(fragment.text)
    assert "A06001 社区居家养老服务 民政局 为辖区居家老年人提供助餐、助洁、助浴等上门服务。" in text
    assert "A0600101 助餐服务" in text
    assert "A06002 养老机构服务质量评估" in text
    assert "课后服务" not in text
    etag = fragment.headers["etag"]
    assert client.get(url, headers={**HX, "If-None-Match": etag}).status_code == 304


def test_type_url_without_javascript_opens_the_type_in_the_page(client: TestClient, session: Session) -> None:
    built = published_catalog(session, ELDERLY)
    uid = built.type_uid("A06")
    page = client.get(f"/catalogs/ceshi/versions/1/types/{uid}")
    assert "<html" in page.text
    opened = page.text.split(f'id="items-{uid}">', 1)[1].split("</div>", 1)[0]
    assert "社区居家养老服务" in opened
    other = built.type_uid("A01")
    assert f'id="items-{other}"><!--items:{other}--></div>' in page.text  # other types stay closed


def test_item_page(client: TestClient, session: Session) -> None:
    built = published_catalog(session, ELDERLY)
    page = client.get(f"/catalogs/ceshi/items/{built.uid('i1')}")
    text = _text(page.text)
    assert "A06001 社区居家养老服务" in text
    assert "所属目录 A 基本公共服务 › A06 养老服务" in text
    assert "购买主体 民政局" in text
    assert "为辖区居家老年人提供助餐、助洁、助浴等上门服务。" in text
    assert "A0600101 助餐服务" in text  # its 四级 sub-item
    assert client.get(f"/catalogs/ceshi/items/{built.uid('i1')}?version=7").status_code == 404


def test_names_are_escaped(client: TestClient, session: Session) -> None:
    built = published_catalog(
        session, [Item("x", "A06", "<script>alert('养老')</script>", description="<b>不加粗</b>")]
    )
    fragment = client.get(f"/catalogs/ceshi/versions/1/types/{built.type_uid('A06')}", headers=HX).text
    item = client.get(f"/catalogs/ceshi/items/{built.uid('x')}").text
    for html in (fragment, item):
        assert "<script>alert" not in html
        assert "&lt;script&gt;alert(&#39;养老&#39;)&lt;/script&gt;" in html
        assert "&lt;b&gt;不加粗&lt;/b&gt;" in html


def test_old_version_is_marked_and_latest_moves_on(client: TestClient, session: Session) -> None:
    published_catalog(session, ELDERLY, later=[Item("n1", "A06", "老年助餐服务点运营")], status="issued")
    assert "2024年版" in _text(client.get("/catalogs/ceshi").text)
    assert client.get("/catalogs/ceshi/versions/2").status_code == 404  # issued, not yet public
    v2 = session.query(Version).filter_by(seq=2).one()
    v2.status = "published"
    session.commit()
    latest = _text(client.get("/catalogs/ceshi").text)
    assert "2025年版（第2版）" in latest
    assert "A06 养老服务 3项" in latest
    old = _text(client.get("/catalogs/ceshi/versions/1").text)
    assert "非现行版本" in old
    assert "A06 养老服务 2项" in old


def test_errors_are_chinese_pages_or_fragments(client: TestClient, session: Session) -> None:
    published_catalog(session, ELDERLY)
    page = client.get("/catalogs/nope")
    assert page.status_code == 404
    assert "没有找到目录“nope”" in page.text
    assert "<html" in page.text
    missing = client.get("/catalogs/ceshi/versions/1/types/nope", headers=HX)
    assert missing.status_code == 404
    assert missing.headers["HX-Retarget"] == "#flash"
    assert "第1版中没有这个二级目录" in missing.text
    assert client.get("/no/such/page").status_code == 404


def test_pages_work_on_a_phone_viewport(client: TestClient, session: Session) -> None:
    published_catalog(session, ELDERLY)
    page = client.get("/catalogs/ceshi").text
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    css = client.get("/static/guidecat-1.css")
    assert css.status_code == 200
    assert "@media (max-width: 40rem)" in css.text
    assert client.get("/static/htmx-2.0.11.min.js").status_code == 200


def test_publication_time_is_shown_in_beijing_time(client: TestClient, session: Session) -> None:
    published_catalog(session, ELDERLY)  # published at 02:00 UTC on 2024-03-20
    assert "公开于 2024年03月20日 10:00" in _text(client.get("/").text)
    version = client.get("/api/v1/catalogs/ceshi/versions").json()[0]
    assert version["published_at"] in ("2024-03-20T02:00:00Z", "2024-03-20T02:00:00+00:00")


def test_error_subclasses_inherit_their_family_status() -> None:
    from app.errors import CatalogError, InvalidInput, NotFound
    from app.http.errors import status_of

    class MissingYear(InvalidInput):
        pass

    class Gone(NotFound):
        pass

    assert [status_of(e) for e in (MissingYear("x"), Gone("y"), CatalogError("z"))] == [422, 404, 400]


def test_fragments_are_sent_gzipped_to_browsers_that_accept_it(client: TestClient, session: Session) -> None:
    built = published_catalog(session, ELDERLY)
    url = f"/catalogs/ceshi/versions/1/types/{built.type_uid('A06')}"
    plain = client.get(url, headers={**HX, "Accept-Encoding": "identity"})
    packed = client.get(url, headers={**HX, "Accept-Encoding": "gzip, deflate"})
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.text == plain.text  # the client inflates it
    assert packed.headers["etag"] != plain.headers["etag"]  # two representations, two tags
    assert "Accept-Encoding" in packed.headers["vary"]
    assert packed.num_bytes_downloaded < plain.num_bytes_downloaded * 0.75  # fewer bytes on the wire


def test_the_page_cache_stays_within_its_byte_budget() -> None:
    from app.http.cache import PageCache

    cache = PageCache(max_bytes=100)
    cache.put("a", b"x" * 40, 40)
    cache.put("b", b"y" * 40, 40)
    assert cache.get("a") == b"x" * 40  # a is now the most recently used
    cache.put("c", b"z" * 40, 40)  # 120 > 100: the least recently used (b) goes
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (b"x" * 40, None, b"z" * 40)
    cache.put("huge", b"!" * 101, 101)  # bigger than the whole budget: not kept
    assert cache.get("huge") is None


def test_every_version_page_offers_the_downloads(demo_client: TestClient) -> None:
    for seq in (1, 2):
        html = demo_client.get(f"/catalogs/shifanshi/versions/{seq}").text
        downloads = html.split('<p class="downloads">', 1)[1].split("</p>", 1)[0]
        base = f"/api/v1/catalogs/shifanshi/versions/{seq}/nodes"
        assert f'href="{base}?format=csv&amp;bom=1" download>CSV</a>' in downloads
        assert f'href="{base}?format=xlsx" download>XLSX</a>' in downloads
        assert f'href="/catalogs/shifanshi/versions/{seq}/catalog.json" download>JSON</a>' in downloads
        assert f'href="/catalogs/shifanshi/versions/{seq}/print">打印版</a>' in downloads
    assert 'href="/catalogs/shifanshi/changes?from=1&amp;to=2">本版与2024年版相比的变动' in html


def test_csv_download_is_utf8_with_bom_and_xlsx_opens(demo_client: TestClient) -> None:
    import csv
    import io

    from openpyxl import load_workbook

    raw = demo_client.get("/api/v1/catalogs/shifanshi/versions/2/nodes?format=csv&bom=1").content
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw[3:].decode("utf-8"))))
    assert rows[0][:8] == [
        "序号",
        "目录编码",
        "一级目录",
        "二级目录",
        "三级目录",
        "四级目录",
        "服务内容",
        "购买主体",
    ]
    book = load_workbook(
        io.BytesIO(demo_client.get("/api/v1/catalogs/shifanshi/versions/2/nodes?format=xlsx").content)
    )
    assert book.worksheets[0].max_row - 3 == len(rows) - 1  # title, facts and header rows above the items


def test_json_download_is_the_whole_version(demo_client: TestClient) -> None:
    response = demo_client.get("/catalogs/shifanshi/versions/1/catalog.json")
    assert response.status_code == 200
    assert "filename*=UTF-8''shifanshi-v1.json" in response.headers["content-disposition"]
    body = response.json()
    assert body["version"]["doc_number"] == "示财购〔2024〕3号"
    assert len(body["items"]) == 1774  # every 三级 and 四级 item of the 2024 edition
    assert body["items"][0]["path"][0] == "基本公共服务"
    again = demo_client.get(
        "/catalogs/shifanshi/versions/1/catalog.json", headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304


def test_print_view_is_the_official_attachment(demo_client: TestClient) -> None:
    page = demo_client.get("/catalogs/shifanshi/versions/2/print")
    assert page.status_code == 200
    html = page.text
    head = _text(html.split("<table", 1)[0])
    assert (
        "附件 示范市政府购买服务指导性目录 2025年版 文号：示财购〔2025〕12号 印发日期：2025年03月14日" in head
    )
    thead = html.split("<thead>", 1)[1].split("</thead>", 1)[0]
    assert _text(thead).split()[-8:] == [
        "序号",
        "目录编码",
        "一级目录",
        "二级目录",
        "三级目录",
        "四级目录",
        "服务内容",
        "购买主体",
    ]
    body = html.split("<tbody>", 1)[1]
    rows = body.count("<tr>")
    api = demo_client.get("/api/v1/catalogs/shifanshi/versions/2/nodes?format=csv").text.splitlines()
    assert rows == len(api) - 1  # every item, as in the CSV
    first = _text(body.split("</tr>", 1)[0]).split()
    assert first[:5] == ["1", "A01001", "基本公共服务", "公共教育", "义务教育阶段课后延时服务"]
    assert 'href="/static/public-print-1.css"' in html
    css = demo_client.get("/static/public-print-1.css").text
    for rule in ("size: A4", "display: table-header-group", "break-inside: avoid"):
        assert rule in css
    for etag in (
        page.headers["etag"],
        demo_client.get("/catalogs/shifanshi/versions/2/print").headers["etag"],
    ):
        revalidated = demo_client.get("/catalogs/shifanshi/versions/2/print", headers={"If-None-Match": etag})
        assert revalidated.status_code == 304


def test_print_view_streams_once_then_comes_from_the_cache(demo_client: TestClient) -> None:
    url = "/catalogs/shifanshi/versions/1/print"
    first = demo_client.get(url, headers={"Accept-Encoding": "identity"})
    cache = demo_client.app.state.page_cache  # type: ignore[attr-defined]
    kept = [v for k, v in cache._items.items() if k[0] == "print" and isinstance(v[0], bytes)]
    assert [v[0] for v in kept] == [first.content]
    second = demo_client.get(url, headers={"Accept-Encoding": "gzip"})
    assert second.headers["content-encoding"] == "gzip"
    assert second.text == first.text


def test_print_view_and_json_of_an_unpublished_version_are_not_found(
    client: TestClient, session: Session
) -> None:
    published_catalog(session, ELDERLY, later=[Item("n1", "A06", "尚未公开的条目")], status="issued")
    for url in ("/catalogs/ceshi/versions/2/print", "/catalogs/ceshi/versions/2/catalog.json"):
        response = client.get(url)
        assert response.status_code == 404
        assert "尚未公开的条目" not in response.text
    assert "尚未公开的条目" not in client.get("/catalogs/ceshi/versions/1/print").text
    three_levels = client.get("/catalogs/ceshi/versions/1/print").text
    assert '<th scope="col">四级目录</th>' in three_levels  # ELDERLY has a 四级 sub-item


def test_a_warm_catalog_page_reads_nothing_yet_shows_a_publication_at_once(
    session: Session, settings: Settings
) -> None:
    from dataclasses import replace

    from sqlalchemy import event

    from app.main import create_app
    from app.services.versions import lifecycle
    from tests.factories import SYSTEM

    published_catalog(session, ELDERLY, later=[Item("n1", "A06", "老年助餐服务点运营")], status="issued")
    statements: list[str] = []
    trusted = replace(settings, public_list_seconds=3600)  # as in production, but never expiring here
    with TestClient(create_app(trusted)) as client:
        engine = client.app.state.engine  # type: ignore[attr-defined]
        event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        assert "2024年版" in _text(client.get("/catalogs/ceshi").text)
        read_first = len(statements)
        assert "2024年版" in _text(client.get("/catalogs/ceshi").text)
        assert len(statements) == read_first > 0  # the second answer came from memory
        lifecycle.publish(session, "ceshi", 2, actor=SYSTEM)  # a publication by this process
        assert "2025年版（第2版）" in _text(client.get("/catalogs/ceshi").text)  # shows at once
