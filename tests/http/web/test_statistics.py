"""Statistics per catalog version and across catalogs: pages with SVG charts, CSV tables, the report XLSX."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from app.catalog.nodes import Level
from app.db import queries
from app.services.catalogs import browse, history
from app.services.stats.figures import catalog_stats
from app.services.stats.report import default_since
from tests.factories import ELDERLY, Item, published_catalog

LATER = [Item("n1", "A06", "老年助餐服务点运营", "101"), Item("n2", "A01", "校园午餐配送服务", "102")]


def _csv(body: bytes) -> list[list[str]]:
    assert body.startswith("\ufeff".encode()), "Excel needs the UTF-8 BOM"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def _sheet_rows(body: bytes, name: str) -> list[tuple[object, ...]]:
    return list(load_workbook(io.BytesIO(body))[name].iter_rows(values_only=True))


# --- the demo catalog: the numbers agree with the tree and with the diff machinery ------------


def test_class_counts_match_the_public_tree(demo_session: Session) -> None:
    stats = catalog_stats(demo_session, "shifanshi")
    cat, ver = browse.public_version(demo_session, "shifanshi")
    tree = browse.tree(demo_session, cat, ver)
    assert [(c.code, c.items) for c in stats.by_class] == [(c.node.code, c.item_count) for c in tree]
    assert stats.items == sum(c.item_count for c in tree) > 1000
    assert sum(t.items for t in stats.by_type) == stats.items
    assert sum(d.items for d in stats.by_department) == stats.items
    assert sum(sum(row.values()) for row in stats.matrix.values()) == stats.items
    assert stats.by_department == sorted(stats.by_department, key=lambda d: (-d.items, d.code))


def test_changes_per_version_agree_with_the_diff(demo_session: Session) -> None:
    stats = catalog_stats(demo_session, "shifanshi")
    newest, first = stats.changes
    cat = stats.catalog
    rows = history.rows(history.compare_versions(demo_session, cat, first.version, newest.version))
    items = [r for r in rows if any(s is not None and s.level == Level.ITEM for s in (r.new, r.old))]
    assert newest.added == sum(1 for r in items if r.old is None) > 0
    assert newest.withdrawn == sum(1 for r in items if r.new is None) > 0
    assert newest.changed == sum(1 for r in items if r.old is not None and r.new is not None)
    assert newest.items == first.items + newest.added - newest.withdrawn
    assert (first.added, first.withdrawn, first.items) == (first.items, 0, first.items)


def test_catalog_page_draws_accessible_charts_next_to_tables(demo_client: TestClient) -> None:
    page = demo_client.get("/catalogs/shifanshi/statistics")
    assert page.status_code == 200
    html = page.text
    assert 'href="/static/stats-1.css"' in html
    assert html.count('role="img"') == 4  # classes, types, departments, changes
    assert "<title>各一级目录的三级目录数</title>" in html
    assert 'aria-label="各一级目录的三级目录数（图表，数字见下表）"' in html
    assert html.count("<table") == 4
    assert "<script" not in html.split("<main", 1)[1]  # the charts need no JavaScript
    assert "/catalogs/shifanshi/versions/2/statistics/classes.csv" in html
    assert "/statistics/report.xlsx?catalog=shifanshi" in html
    older = demo_client.get("/catalogs/shifanshi/statistics", params={"version": 1})
    assert "非现行版本" in older.text
    assert "非现行版本" not in html
    assert demo_client.get("/catalogs/shifanshi/versions/1/statistics").text == older.text
    # the first version is compared with nothing: it has a row in the table but no bars
    assert "<title>2025年版 新增：" in html
    assert "<title>2024年版 新增：" not in html
    assert older.text.count('role="img"') == 3


def test_each_table_downloads_as_csv(demo_client: TestClient, demo_session: Session) -> None:
    stats = catalog_stats(demo_session, "shifanshi")
    classes = demo_client.get("/catalogs/shifanshi/versions/2/statistics/classes.csv")
    assert classes.headers["content-type"] == "text/csv; charset=utf-8"
    rows = _csv(classes.content)
    assert rows[0] == ["一级目录编码", "一级目录", "三级目录数"]
    assert rows[1:] == [[c.code, c.name, str(c.items)] for c in stats.by_class]
    changes = _csv(demo_client.get("/catalogs/shifanshi/versions/2/statistics/changes.csv").content)
    assert [r[0] for r in changes[1:]] == ["2", "1"]
    assert changes[1][5:] == [
        str(stats.changes[0].added),
        str(stats.changes[0].withdrawn),
        str(stats.changes[0].changed),
    ]
    departments = _csv(demo_client.get("/catalogs/shifanshi/versions/2/statistics/departments.csv").content)
    assert len(departments) - 1 == len(stats.by_department)
    assert demo_client.get("/catalogs/shifanshi/versions/2/statistics/secrets.csv").status_code == 404


def test_overview_covers_every_catalog(demo_client: TestClient, demo_session: Session) -> None:
    stats = catalog_stats(demo_session, "shifanshi")
    page = demo_client.get("/statistics")
    assert page.status_code == 200
    assert 'href="/catalogs/shifanshi/versions/2/statistics"' in page.text
    catalogs = _csv(demo_client.get("/statistics/catalogs.csv").content)
    assert catalogs[1][:2] == ["990100", "示范市"]
    assert catalogs[1][4] == str(stats.items)
    classes = _csv(demo_client.get("/statistics/classes.csv").content)
    assert sum(int(r[4]) for r in classes[1:]) == stats.items


def test_half_year_report(demo_client: TestClient, demo_session: Session) -> None:
    stats = catalog_stats(demo_session, "shifanshi")
    answer = demo_client.get(
        "/statistics/report.xlsx", params={"catalog": "shifanshi", "since": "2024-06-30"}
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    matrix = _sheet_rows(answer.content, "分类分部门统计")
    assert matrix[2][:3] == ("部门编码", "购买主体", "A 基本公共服务")
    assert matrix[-1][1] == "合计"
    assert matrix[-1][-1] == stats.items
    assert "第1版 2024年版（2024年6月30日时现行）" in str(matrix[1][0])
    summary = _sheet_rows(answer.content, "增减汇总")
    assert summary[-1] == (
        "合计",
        stats.changes[0].added,
        stats.changes[0].withdrawn,
        stats.changes[0].added - stats.changes[0].withdrawn,
    )
    added = _sheet_rows(answer.content, "新增明细")
    assert len(added) - 3 == stats.changes[0].added
    assert added[2] == ("目录编码", "三级目录", "一级目录", "二级目录", "购买主体")
    withdrawn = _sheet_rows(answer.content, "撤销明细")
    assert len(withdrawn) - 3 == stats.changes[0].withdrawn
    # since after the newest version: nothing added or withdrawn since then
    later = demo_client.get("/statistics/report.xlsx", params={"catalog": "shifanshi", "since": "2025-12-31"})
    assert _sheet_rows(later.content, "增减汇总")[-1] == ("合计", 0, 0, 0)
    assert len(_sheet_rows(later.content, "新增明细")) == 3


def test_report_rejects_a_bad_date(demo_client: TestClient) -> None:
    answer = demo_client.get(
        "/statistics/report.xlsx", params={"catalog": "shifanshi", "since": "2025-13-01"}
    )
    assert answer.status_code == 422


@pytest.mark.parametrize(
    ("today", "since"),
    [
        (date(2026, 1, 8), date(2025, 6, 30)),  # the report on July–December
        (date(2026, 7, 3), date(2025, 12, 31)),  # the report on January–June
        (date(2026, 11, 21), date(2025, 12, 31)),  # mid-half: from the last report on January–June
        (date(2026, 12, 29), date(2025, 12, 31)),  # six months back is 29 June: before the end
        (date(2026, 12, 30), date(2026, 6, 30)),
        (date(2026, 6, 30), date(2025, 6, 30)),
        (date(2026, 3, 31), date(2025, 6, 30)),  # six months back is 31 September: clamped, still after
    ],
)
def test_default_since_is_the_half_year_end_six_months_back(today: date, since: date) -> None:
    assert default_since(today) == since


# --- only public versions are counted --------------------------------------------------------


def test_an_unpublished_version_is_never_counted(session: Session, client: TestClient) -> None:
    built = published_catalog(session, ELDERLY, later=LATER, status="issued")
    assert queries.version(session, built.catalog.id, 2, statuses=("issued",)) is not None
    page = client.get("/catalogs/ceshi/statistics")
    assert page.status_code == 200
    assert "<dd>4 项</dd>" in page.text  # version 1's 三级 items; version 2's two are not public
    assert client.get("/catalogs/ceshi/versions/2/statistics").status_code == 404
    assert client.get("/catalogs/ceshi/statistics", params={"version": 2}).status_code == 404
    assert client.get("/catalogs/ceshi/versions/2/statistics/classes.csv").status_code == 404
    changes = _csv(client.get("/catalogs/ceshi/versions/1/statistics/changes.csv").content)
    assert [r[0] for r in changes[1:]] == ["1"]
    catalogs = _csv(client.get("/statistics/catalogs.csv").content)
    assert catalogs[1][3:5] == ["2024年版", "4"]
    report = client.get("/statistics/report.xlsx", params={"catalog": "ceshi", "since": "2023-12-31"})
    names = [row[1] for row in _sheet_rows(report.content, "新增明细")[3:]]
    assert sorted(names) == sorted(i.name for i in ELDERLY if i.parent_key is None)
    assert "老年助餐服务点运营" not in names


def test_published_later_version_is_counted(session: Session, client: TestClient) -> None:
    published_catalog(session, ELDERLY, later=LATER)
    changes = _csv(client.get("/catalogs/ceshi/versions/2/statistics/changes.csv").content)
    assert changes[1][0] == "2"
    assert changes[1][4:7] == ["6", "2", "0"]
    report = client.get("/statistics/report.xlsx", params={"catalog": "ceshi", "since": "2024-12-31"})
    names = sorted(row[1] for row in _sheet_rows(report.content, "新增明细")[3:])
    assert names == sorted(i.name for i in LATER)


def test_a_catalog_without_public_versions_has_no_statistics(session: Session, client: TestClient) -> None:
    published_catalog(session, ELDERLY, status="issued", later=LATER)
    assert client.get("/catalogs/nowhere/statistics").status_code == 404
    assert client.get("/statistics/report.xlsx", params={"catalog": "nowhere"}).status_code == 404


def test_names_are_escaped_in_tables_and_charts(session: Session, client: TestClient) -> None:
    published_catalog(session, ELDERLY, name="<script>alert(1)</script>目录")
    html = client.get("/statistics").text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;目录" in html
    page = client.get("/catalogs/ceshi/statistics").text
    assert "<script>alert(1)" not in page
