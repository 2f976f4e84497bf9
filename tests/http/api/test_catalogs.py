"""The read API over HTTP: catalogs, versions, nodes with filters, keyset pages, streams and ETags."""

from __future__ import annotations

import csv
import io
import json

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import ELDERLY, Item, published_catalog

NODES = "/api/v1/catalogs/ceshi/versions/1/nodes"


def test_catalogs_and_versions(client: TestClient, session: Session) -> None:
    published_catalog(session, ELDERLY, later=[Item("n1", "A06", "老年助餐服务点运营")])
    catalogs = client.get("/api/v1/catalogs").json()
    assert [(c["slug"], c["latest_version"], c["jurisdiction"]["code"]) for c in catalogs] == [
        ("ceshi", 2, "990100")
    ]
    versions = client.get("/api/v1/catalogs/ceshi/versions").json()
    assert [(v["seq"], v["label"], v["status"]) for v in versions] == [
        (2, "2025年版", "published"),
        (1, "2024年版", "superseded"),
    ]
    assert versions[1]["doc_number"] == "测财购〔2024〕1号"
    assert versions[1]["issued_on"] == "2024-03-15"


def test_unpublished_versions_are_invisible(client: TestClient, session: Session) -> None:
    published_catalog(session, ELDERLY, later=[Item("n1", "A06", "老年助餐服务点运营")], status="issued")
    assert [v["seq"] for v in client.get("/api/v1/catalogs/ceshi/versions").json()] == [1]
    assert client.get("/api/v1/catalogs").json()[0]["latest_version"] == 1
    response = client.get("/api/v1/catalogs/ceshi/versions/2/nodes")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_unknown_catalog_or_version_is_a_json_404(client: TestClient, session: Session) -> None:
    published_catalog(session, ELDERLY)
    for url in ["/api/v1/catalogs/nope/versions", "/api/v1/catalogs/ceshi/versions/9/nodes", "/api/v1/nope"]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["error"]["message"]


def test_nodes_filters(client: TestClient, session: Session) -> None:
    built = published_catalog(session, ELDERLY)
    items = client.get(NODES, params={"level": 3}).json()["items"]
    assert [i["name"] for i in items] == [
        "义务教育阶段课后服务",
        "社区居家养老服务",
        "养老机构服务质量评估",
        "政府法律顾问服务",
    ]
    first = items[1]
    assert first["code"] == "A06001"
    assert first["path"] == ["基本公共服务", "养老服务"]
    assert first["department"] == {"code": "101", "name": "民政局"}
    assert first["parent"] == built.type_uid("A06")

    by_code = client.get(NODES, params={"parent": "A06"}).json()["items"]
    by_uid = client.get(NODES, params={"parent": built.type_uid("A06")}).json()["items"]
    assert (
        [i["name"] for i in by_code]
        == [i["name"] for i in by_uid]
        == ["社区居家养老服务", "养老机构服务质量评估"]
    )

    sub = client.get(NODES, params={"level": 4}).json()["items"]
    assert [(s["name"], s["path"]) for s in sub] == [
        ("助餐服务", ["基本公共服务", "养老服务", "社区居家养老服务"])
    ]

    dept = client.get(NODES, params={"department": "103"}).json()["items"]
    assert [d["name"] for d in dept] == ["政府法律顾问服务"]
    assert client.get(NODES, params={"department": "999"}).status_code == 404
    assert client.get(NODES, params={"parent": "Z99"}).status_code == 404
    assert client.get(NODES, params={"level": 5}).status_code == 422


def test_keyset_pages_walk_the_whole_version_once(client: TestClient, session: Session) -> None:
    published_catalog(session, ELDERLY)
    whole = client.get(NODES, params={"limit": 1000}).json()
    assert whole["next"] is None
    seen: list[str] = []
    url: str | None = f"{NODES}?limit=7"
    pages = 0
    while url:
        page = client.get(url).json()
        assert len(page["items"]) <= 7
        seen.extend(i["uid"] for i in page["items"])
        url = page["next"]
        pages += 1
    assert seen == [i["uid"] for i in whole["items"]]
    assert len(seen) == 6 + 60 + 5  # classes, types, items (with one 四级)
    assert pages == 11


def test_bad_cursor_is_a_clear_422(client: TestClient, session: Session) -> None:
    published_catalog(session, ELDERLY)
    response = client.get(NODES, params={"after": "not-a-cursor"})
    assert response.status_code == 422
    assert "游标" in response.json()["error"]["message"]


def test_ndjson_streams_every_node(client: TestClient, session: Session) -> None:
    published_catalog(session, ELDERLY)
    response = client.get(NODES, params={"format": "ndjson"})
    assert response.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert len(lines) == 71
    assert lines[0]["code"] == "A"
    assert [n["code"] for n in lines] == sorted(n["code"] for n in lines)


def test_csv_has_the_published_columns_and_optional_bom(client: TestClient, session: Session) -> None:
    published_catalog(session, ELDERLY)
    plain = client.get(NODES, params={"format": "csv", "level": 3})
    assert plain.headers["content-type"] == "text/csv; charset=utf-8"
    assert not plain.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(plain.content.decode("utf-8"))))
    assert rows[0][:9] == [
        "序号",
        "目录编码",
        "一级目录",
        "二级目录",
        "三级目录",
        "四级目录",
        "服务内容",
        "购买主体",
        "备注",
    ]
    assert rows[2][:8] == [
        "2",
        "A06001",
        "基本公共服务",
        "养老服务",
        "社区居家养老服务",
        "",
        "为辖区居家老年人提供助餐、助洁、助浴等上门服务。",
        "民政局",
    ]
    with_bom = client.get(NODES, params={"format": "csv", "bom": 1})
    assert with_bom.content.startswith(b"\xef\xbb\xbf")
    assert "attachment" in with_bom.headers["content-disposition"]
    # without `level`, one row per item (三级 and 四级), as the published catalog prints it
    items = list(csv.reader(io.StringIO(with_bom.content.decode("utf-8-sig"))))
    assert [r[1] for r in items[1:]] == ["A01001", "A06001", "A0600101", "A06002", "E01001"]
    assert items[3][2:6] == ["基本公共服务", "养老服务", "社区居家养老服务", "助餐服务"]


def test_published_versions_carry_strong_etags_and_answer_304(client: TestClient, session: Session) -> None:
    published_catalog(session, ELDERLY)
    first = client.get(NODES, params={"level": 3})
    etag = first.headers["etag"]
    assert etag.startswith('"')
    assert not etag.startswith("W/")
    assert first.headers["cache-control"] == "public, max-age=31536000, immutable"
    again = client.get(NODES, params={"level": 3}, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    other = client.get(NODES, params={"level": 2}, headers={"If-None-Match": etag})
    assert other.status_code == 200
    assert other.headers["etag"] != etag


def test_openapi_documents_the_read_api(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {
        "/api/v1/catalogs",
        "/api/v1/catalogs/{slug}/versions",
        "/api/v1/catalogs/{slug}/versions/{seq}/nodes",
    } <= set(spec["paths"])
    assert client.get("/docs").status_code == 200
