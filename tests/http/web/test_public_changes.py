"""The public "what changed" page: counts, changes by class and type, downloads, withdrawn items."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import UTC, date, datetime, time

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from app.catalog.nodes import Level, NodeState
from app.db import store
from app.db.models import Version
from app.services.catalogs import authoring as catalogs
from app.services.catalogs.authoring import stable_uid
from app.services.catalogs.changes_view import replacements
from app.services.catalogs.history import ChangeRow
from tests.factories import ELDERLY, Built, Item, item_states, published_catalog


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _main(html: str) -> str:
    return html.split('<main id="main">', 1)[1].split("</main>", 1)[0]


def next_version(
    session: Session, built: Built, states: dict[str, NodeState], *, status: str = "published"
) -> Version:
    """Write `states` as the next version with `status` (published: the one before is superseded)."""
    cat = built.catalog
    ver = catalogs.open_next_version(session, cat, f"{2024 + len(built.versions)}年调整版")
    catalogs.write_states(session, cat, ver.seq, states, store.load_version(session, cat.id, ver.seq))
    ver.status = status
    if status == "published":
        issued = date(2024 + len(built.versions), 6, 1)
        ver.doc_number, ver.issued_on = f"测财购〔{issued.year}〕{ver.seq}号", issued
        ver.published_at = datetime.combine(issued, time(2, 0), tzinfo=UTC)
        built.versions[-1].status = "superseded"
    built.versions.append(ver)
    built.states = states
    session.commit()
    return ver


def test_default_compares_the_newest_with_the_one_before(demo_client: TestClient) -> None:
    page = demo_client.get("/catalogs/shifanshi/changes")
    assert page.status_code == 200
    text = _text(_main(page.text))
    assert "2024年版（第1版）→ 2025年版（第2版）：145个目录条目有变动" in text
    summary = text.split("有变动", 1)[1].split("A 基本公共服务", 1)[0]
    assert summary.split() == ["56", "新增", "23", "撤销", "25", "更名", "18", "移动", "23", "内容调整"]
    assert page.text == demo_client.get("/catalogs/shifanshi/changes?from=1&to=2").text


def test_changes_are_grouped_by_class_and_type_and_link_to_the_item(demo_client: TestClient) -> None:
    html = _main(demo_client.get("/catalogs/shifanshi/changes").text)
    text = _text(html)
    # classes in code order, each type under its class
    assert text.index("A 基本公共服务") < text.index("A01 公共教育") < text.index("A06 养老服务")
    assert text.index("A06 养老服务") < text.index("B ") < text.index("E ")
    elderly = text.split("A06 养老服务", 1)[1].split("A07", 1)[0]
    assert "更名 A06001 社区居家养老上门服务 民政局" in elderly
    assert "名称 原为 社区居家养老服务 → 现为 社区居家养老上门服务" in elderly
    assert "新增 A06" in elderly
    assert "老年助餐服务点运营服务" in elderly
    renamed = stable_uid("shifanshi", "item", "i0233")
    assert f'href="/catalogs/shifanshi/items/{renamed}?version=2"' in html
    # a moved item is listed where it is now, with where it came from
    moved = text.split("E17 信息化建设与管理", 1)[1]
    assert "移动 E17077 公务用车运行监管平台运维服务" in moved
    assert "所属目录 原为 E18 后勤管理 → 现为 E17 信息化建设与管理" in moved
    # a withdrawn item links to its own URL, which stays reachable
    withdrawn = stable_uid("shifanshi", "item", "i0067")
    assert "撤销 A01032 中小学生暑期托管服务" in text
    assert f'href="/catalogs/shifanshi/items/{withdrawn}"' in html


def test_version_pickers_are_a_plain_get_form(demo_client: TestClient) -> None:
    html = demo_client.get("/catalogs/shifanshi/changes?from=2&to=2").text
    form = html.split('<form class="compare"', 1)[1].split("</form>", 1)[0]
    assert 'method="get" action="/catalogs/shifanshi/changes"' in form
    assert '<label for="compare-from">旧版本</label>' in form
    assert 'name="from"' in form
    assert '<label for="compare-to">新版本</label>' in form
    assert 'name="to"' in form
    assert '<option value="2" selected>2025年版（第2版）</option>' in form
    assert "hx-" not in form  # works without JavaScript
    assert "两个版本之间没有变动" in html


def test_downloads_of_the_change_table(demo_client: TestClient) -> None:
    html = demo_client.get("/catalogs/shifanshi/changes").text
    csv_url = "/api/v1/catalogs/shifanshi/diff?from=1&amp;to=2&amp;format=csv"
    xlsx_url = "/api/v1/catalogs/shifanshi/diff?from=1&amp;to=2&amp;format=xlsx"
    assert f'href="{csv_url}"' in html
    assert f'href="{xlsx_url}"' in html
    as_csv = demo_client.get(csv_url.replace("&amp;", "&"))
    assert as_csv.content.startswith(b"\xef\xbb\xbf")
    csv_rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    as_xlsx = demo_client.get(xlsx_url.replace("&amp;", "&"))
    assert as_xlsx.status_code == 200
    assert as_xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''shifanshi-v1-v2-" in as_xlsx.headers["content-disposition"]
    assert as_xlsx.headers["etag"] != as_csv.headers["etag"]
    sheet = load_workbook(io.BytesIO(as_xlsx.content), read_only=True).worksheets[0]
    rows = [[c if c is not None else "" for c in r] for r in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "示范市政府购买服务指导性目录新旧对照表（2024年版 → 2025年版）"
    assert rows[1:] == csv_rows  # the same table as the CSV, header included


def test_xlsx_change_table_keeps_formula_like_names_as_text(client: TestClient, session: Session) -> None:
    built = published_catalog(session, ELDERLY)
    next_version(session, built, item_states("ceshi", built.states, [Item("f", "A06", "=HYPERLINK(1)")]))
    body = client.get("/api/v1/catalogs/ceshi/diff?format=xlsx").content
    sheet = load_workbook(io.BytesIO(body)).worksheets[0]
    cell = next(c for row in sheet.iter_rows() for c in row if c.value == "=HYPERLINK(1)")
    assert cell.data_type == "s"


def test_only_public_versions_can_be_compared(client: TestClient, session: Session) -> None:
    built = published_catalog(session, ELDERLY)
    only = client.get("/catalogs/ceshi/changes")
    assert only.status_code == 200
    assert "目前只有一个已公开的版本" in only.text
    states = item_states("ceshi", built.states, [Item("secret", "A06", "尚未公开的养老条目")])
    next_version(session, built, states, status="issued")
    assert "目前只有一个已公开的版本" in client.get("/catalogs/ceshi/changes").text
    for url in ("/catalogs/ceshi/changes?from=1&to=2", "/catalogs/ceshi/changes?to=2"):
        page = client.get(url)
        assert page.status_code == 404
        assert "尚未公开的养老条目" not in page.text
    assert client.get("/api/v1/catalogs/ceshi/diff?from=1&to=2&format=xlsx").status_code == 404
    assert client.get(f"/catalogs/ceshi/items/{built.uid('secret')}").status_code == 404
    assert client.get("/catalogs/nope/changes").status_code == 404


def test_withdrawn_item_replaced_by_an_item_with_its_name(client: TestClient, session: Session) -> None:
    built = published_catalog(session, ELDERLY)
    states = {u: s for u, s in built.states.items() if u != built.uid("i2")}
    added = [Item("i2b", "A06", "养老机构 服务质量评估"), Item("x", "A06", "无关新增")]
    states = item_states("ceshi", states, added)
    states[built.uid("i2b")] = replace(states[built.uid("i2b")], code="A06009")  # only the name matches
    next_version(session, built, states)
    html = client.get("/catalogs/ceshi/changes").text
    line = _text(html).split("撤销 A06002 养老机构服务质量评估", 1)[1].split("新增", 1)[0]
    assert "由 A06009 养老机构 服务质量评估 替代" in line
    assert "无关新增" not in line
    page = client.get(f"/catalogs/ceshi/items/{built.uid('i2')}")
    assert page.status_code == 200
    text = _text(page.text)
    assert "A06002 养老机构服务质量评估 已撤销" in text
    assert "该条目自2025年调整版（第2版，测财购〔2025〕2号）起已撤销" in text
    assert "替代它的条目： A06009 养老机构 服务质量评估" in text
    assert f'href="/catalogs/ceshi/items/{built.uid("i2b")}?version=2"' in page.text


def test_withdrawn_item_without_a_replacement_says_so(client: TestClient, session: Session) -> None:
    built = published_catalog(session, ELDERLY)
    next_version(session, built, {u: s for u, s in built.states.items() if u != built.uid("i3")})
    text = _text(client.get(f"/catalogs/ceshi/items/{built.uid('i3')}").text)
    assert "已撤销" in text
    assert "没有同编码或同名称的新增条目替代它" in text
    assert "版本 2024年版" in text  # shown as its last public version had it


def test_a_withdrawn_item_that_comes_back_is_not_withdrawn(client: TestClient, session: Session) -> None:
    built = published_catalog(session, ELDERLY)
    full = dict(built.states)
    next_version(session, built, {u: s for u, s in full.items() if u != built.uid("i4")})
    next_version(session, built, full)  # a reverted merge puts it back with its uid
    text = _text(client.get(f"/catalogs/ceshi/items/{built.uid('i4')}").text)
    assert "已撤销" not in text
    assert "E01001 政府法律顾问服务" in text
    history_rows = text.split("历次变动", 1)[1].split("负面清单筛查", 1)[0]
    assert re.findall(
        r"(2026年调整版|2025年调整版|2024年版) \S+ \S+ \S+ (新增|撤销|首次列入)", history_rows
    ) == [
        ("2026年调整版", "新增"),
        ("2025年调整版", "撤销"),
        ("2024年版", "首次列入"),
    ]


def test_changes_page_escapes_names(client: TestClient, session: Session) -> None:
    built = published_catalog(session, ELDERLY)
    states = item_states("ceshi", built.states, [Item("x", "A06", "<img src=x onerror=alert(1)>")])
    next_version(session, built, states)
    html = client.get("/catalogs/ceshi/changes").text
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def _state(uid: str, code: str, name: str, level: Level = Level.ITEM) -> NodeState:
    return NodeState(uid, "t", level, code, name)


OLD = _state("old", "A06002", "养老机构服务质量评估")


@pytest.mark.parametrize(
    ("added", "replaced"),
    [
        (_state("new", "A06009", "养老机构服务质量评估"), True),  # same name, new code
        (_state("new", "A06009", "养老机构服务质量评估 "), True),  # spacing does not matter
        (_state("new", "A06002", "养老机构等级评定"), True),  # the code was handed on
        (_state("new", "A06009", "养老机构服务质量第三方评估"), False),  # similar is not the same
        (_state("new", "A0600201", "养老机构服务质量评估", Level.SUBITEM), False),  # another level
    ],
)
def test_replacement_rule(added: NodeState, *, replaced: bool) -> None:
    rows = [
        ChangeRow("old", ("撤销",), OLD, None, ()),
        ChangeRow("new", ("新增",), None, added, ()),
        ChangeRow("kept", ("更名",), OLD, replace(OLD, name="x"), ("名称",)),  # a rename replaces nothing
    ]
    assert replacements(rows) == ({"old": (added,)} if replaced else {})


def test_a_move_is_only_a_move_and_the_counters_add_up_to_the_heading(
    client: TestClient, session: Session
) -> None:
    built = published_catalog(session, ELDERLY)
    states = dict(built.states)
    i1, i2, a05 = built.uid("i1"), built.uid("i2"), built.type_uid("A05")
    # moved under another type, which gives it a new sort key there: bookkeeping, not content
    states[i2] = replace(states[i2], parent=a05, code="A05009", sort_key=states[i2].sort_key + 2630)
    # moved and renamed: two kinds on one item, still one item in the counts
    states[i1] = replace(states[i1], parent=a05, code="A05010", name="社区居家养老上门服务", sort_key=9000)
    next_version(session, built, states)
    html = client.get("/catalogs/ceshi/changes").text
    heading = int(re.search(r"：(\d+)个目录条目有变动", html).group(1))  # type: ignore[union-attr]
    counters = {kind: int(n) for n, kind in re.findall(r'<span class="n">(\d+)</span> (\S+)</li>', html)}
    assert heading == 2
    assert sum(counters.values()) == heading
    assert counters["内容调整"] == 0
    text = _text(_main(html))
    assert "移动 A05009" in text
    table = client.get("/api/v1/catalogs/ceshi/diff?from=1&to=2&format=csv").content.decode("utf-8-sig")
    moved = next(row for row in csv.reader(io.StringIO(table)) if row[-1] == i2)
    assert (moved[0], moved[6]) == ("移动", "")  # 变动类型 and 调整内容: no 排序, no 内容调整


def test_a_reversed_range_is_refused_never_shown_as_its_mirror(client: TestClient, session: Session) -> None:
    built = published_catalog(session, ELDERLY)
    states = {u: s for u, s in built.states.items() if u != built.uid("i4")}  # version 2 withdraws i4
    next_version(session, built, states)
    page = client.get("/catalogs/ceshi/changes?from=2&to=1")
    assert page.status_code == 422
    text = _text(_main(page.text))
    assert "请把较早的版本放在前面：比较第1版 → 第2版" in text
    assert "新增" not in text  # the withdrawn item is not offered as new
    assert '<option value="2" selected>' in page.text.split('id="compare-from"', 1)[1]  # the form as asked
    api = client.get("/api/v1/catalogs/ceshi/diff?from=2&to=1")
    assert api.status_code == 422
    assert "较早的版本" in api.json()["error"]["message"]
    forward = _text(_main(client.get("/catalogs/ceshi/changes?from=1&to=2").text))
    assert "撤销" in forward
