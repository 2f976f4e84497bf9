"""Exports as people receive them: golden files, the CLI to a file and to a pipe, the API's downloads."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import event, update
from sqlalchemy.orm import Session

from app.config import Settings
from app.db.export_query import LineRow, RowFilter
from app.db.models import Department, Jurisdiction, NodeRevision
from app.formats.exports import CSV_HEADER, Charset, csv_chunks
from app.formats.xlsx import display_width
from app.services.exports import files as exports
from app.services.exports import rows as export_rows
from app.services.exports.rows import ITEM_LEVELS, Entry
from tests.factories import ELDERLY, Item, published_catalog
from tests.paths import DATA, ROOT

GOLDEN = DATA / "export"
UPDATE = os.environ.get("GUIDECAT_UPDATE_GOLDEN") == "1"  # rewrite the golden files from this run
NODES = "/api/v1/catalogs/ceshi/versions/1/nodes"
ITEM_CODES = ["A01001", "A06001", "A0600101", "A06002", "E01001"]

# golden file → (format, bom, charset)
GOLDEN_FILES = {
    "elderly.csv": (exports.Format.CSV, True, Charset.UTF8),
    "elderly-gb18030.csv": (exports.Format.CSV, False, Charset.GB18030),
    "elderly.ndjson": (exports.Format.NDJSON, False, Charset.UTF8),
    "elderly.json": (exports.Format.JSON, False, Charset.UTF8),
}


def golden(name: str, produced: bytes) -> bytes:
    """Return the golden file `name` (written from `produced` first when updating)."""
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(produced)
    return path.read_bytes()


def export_bytes(
    session: Session, fmt: exports.Format, *, bom: bool = False, charset: Charset = Charset.UTF8
) -> bytes:
    out = io.BytesIO()
    exports.write(session, exports.find(session, "ceshi"), fmt, out, bom=bom, charset=charset)
    return out.getvalue()


def guidecat(*args: str, url: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("name", GOLDEN_FILES)
def test_exports_match_the_golden_files(session: Session, name: str) -> None:
    published_catalog(session, ELDERLY)
    fmt, bom, charset = GOLDEN_FILES[name]
    produced = export_bytes(session, fmt, bom=bom, charset=charset)
    expected = golden(name, produced)
    if fmt is exports.Format.JSON:
        assert json.loads(produced) == json.loads(expected)
    else:
        assert produced == expected


def test_golden_csv_is_one_row_per_item_with_full_paths() -> None:
    text = (GOLDEN / "elderly.csv").read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == CSV_HEADER
    assert [r[0] for r in rows[1:]] == ["1", "2", "3", "4", "5"]
    assert [r[1] for r in rows[1:]] == ITEM_CODES
    assert rows[3][2:8] == [
        "基本公共服务",
        "养老服务",
        "社区居家养老服务",
        "助餐服务",
        "为老年人提供集中用餐和送餐服务。",
        "民政局",
    ]
    assert (GOLDEN / "elderly-gb18030.csv").read_bytes().decode("gb18030") == text


def test_json_document_names_its_format_version_and_items(session: Session) -> None:
    published_catalog(session, ELDERLY)
    doc = json.loads(export_bytes(session, exports.Format.JSON))
    assert (doc["format"], doc["format_version"]) == ("guidecat-catalog", 1)
    assert doc["catalog"] == {
        "slug": "ceshi",
        "name": "测试市政府购买服务指导性目录",
        "jurisdiction": {"code": "990100", "name": "测试市"},
    }
    assert doc["version"] == {
        "seq": 1,
        "label": "2024年版",
        "status": "published",
        "doc_number": "测财购〔2024〕1号",
        "issued_on": "2024-03-15",
        "published_at": "2024-03-20T02:00:00Z",
    }
    sub = next(i for i in doc["items"] if i["level"] == 4)
    assert sub["path"] == ["基本公共服务", "养老服务", "社区居家养老服务"]
    assert sub["parent"] == next(i["uid"] for i in doc["items"] if i["code"] == "A06001")


def test_a_note_reaches_every_format(session: Session) -> None:
    built = published_catalog(session, ELDERLY)
    session.execute(
        update(NodeRevision).where(NodeRevision.code == "A06002").values(attrs={"note": "含第三方评估"})
    )
    session.commit()
    rows = list(csv.reader(io.StringIO(export_bytes(session, exports.Format.CSV).decode())))
    assert [r[8] for r in rows[1:]] == ["", "", "", "含第三方评估", ""]
    items = [json.loads(line) for line in export_bytes(session, exports.Format.NDJSON).splitlines()]
    assert {i["uid"]: i["note"] for i in items if i["note"]} == {built.uid("i2"): "含第三方评估"}


def test_parents_and_departments_out_of_the_usual_order_are_looked_up(session: Session) -> None:
    published_catalog(session, ELDERLY)
    # a 四级 code that sorts before its parent item, and a department of another jurisdiction
    session.execute(update(NodeRevision).where(NodeRevision.code == "A0600101").values(code="A01000"))
    other = Jurisdiction(code="990200", name="邻市", level="city")
    session.add(other)
    session.flush()
    outside = Department(jurisdiction_id=other.id, code="201", name="邻市民政局")
    session.add(outside)
    session.flush()
    session.execute(
        update(NodeRevision).where(NodeRevision.code == "E01001").values(department_id=outside.id)
    )
    session.commit()
    rows = list(csv.reader(io.StringIO(export_bytes(session, exports.Format.CSV).decode())))
    assert rows[1][1:8] == [
        "A01000",
        "基本公共服务",
        "养老服务",
        "社区居家养老服务",
        "助餐服务",
        "为老年人提供集中用餐和送餐服务。",
        "民政局",
    ]
    assert rows[-1][7] == "邻市民政局"


def test_a_whole_version_is_read_along_the_code_index_without_a_sort(session: Session) -> None:
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL plans by statistics; bench/io.py checks its plan on the large dataset")
    published_catalog(session, ELDERLY)
    seen: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, sql: str, params: Any, _ctx: Any, _many: bool) -> None:  # noqa: FBT001 (SQLAlchemy calls it so)
        seen.append((sql, params))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        export_bytes(session, exports.Format.CSV)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    sql, params = next((q, p) for q, p in seen if "ORDER BY node_revisions.code" in q)
    plan = " | ".join(
        row[3] for row in session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)
    )
    assert "USING INDEX ix_node_revisions_catalog_code" in plan
    assert "TEMP B-TREE" not in plan


def _entry(name: str, description: str, note: str) -> Entry:
    row = (7, "u1", 2, 3, "A01001", name, description, 1, note or None)
    return row, ("t1", ("基本公共服务", "公共教育")), ("101", "民政局")


@pytest.mark.parametrize(
    ("name", "description", "note"),
    [
        ("课后服务", "托管、辅导", ""),
        ("课后服务", "托管, 辅导", ""),
        ('"四点半"课堂', "托管", ""),
        ("课后服务", "第一行\n第二行", "备注\r\n两行"),
        ("", "", ""),
        (" 前后空格 ", "a,b", '引号"'),
    ],
)
def test_csv_bytes_are_exactly_what_csv_writer_writes(name: str, description: str, note: str) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    writer.writerow(["1", "A01001", "基本公共服务", "公共教育", name, "", description, "民政局", note, "u1"])
    assert b"".join(csv_chunks([_entry(name, description, note)])) == buffer.getvalue().encode()


def test_cli_writes_a_file_and_a_pipe(settings: Settings, session: Session, tmp_path: Path) -> None:
    published_catalog(session, ELDERLY)
    out = tmp_path / "ceshi.csv"
    to_file = guidecat(
        "export", "--catalog", "ceshi", "--format", "csv", "--bom", "-o", str(out), url=settings.database_url
    )
    assert to_file.returncode == 0, to_file.stderr.decode()
    assert out.read_bytes() == (GOLDEN / "elderly.csv").read_bytes()
    assert "ceshi" in to_file.stdout.decode()
    piped = guidecat("export", "--catalog", "ceshi", "--format", "ndjson", url=settings.database_url)
    assert piped.returncode == 0, piped.stderr.decode()
    assert piped.stdout == (GOLDEN / "elderly.ndjson").read_bytes()
    gbk = guidecat(
        "export",
        "--catalog",
        "ceshi",
        "--format",
        "csv",
        "--charset",
        "gb18030",
        "-o",
        "-",
        url=settings.database_url,
    )
    assert gbk.stdout == (GOLDEN / "elderly-gb18030.csv").read_bytes()


def test_cli_exports_any_version_but_defaults_to_the_newest_public(
    settings: Settings, session: Session
) -> None:
    published_catalog(session, ELDERLY, later=[Item("n1", "A06", "老年助餐服务点运营")], status="issued")
    default = guidecat("export", "--catalog", "ceshi", "--format", "ndjson", url=settings.database_url)
    assert len(default.stdout.splitlines()) == 5
    issued = guidecat(
        "export", "--catalog", "ceshi", "--version", "2", "--format", "json", url=settings.database_url
    )
    doc = json.loads(issued.stdout)
    assert doc["version"]["status"] == "issued"
    assert "老年助餐服务点运营" in [i["name"] for i in doc["items"]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--catalog", "nope"], "没有找到目录“nope”"),
        (["--catalog", "ceshi", "--version", "9"], "没有第9版"),
    ],
)
def test_cli_unknown_catalog_or_version_is_a_message(
    settings: Settings, session: Session, tmp_path: Path, args: list[str], message: str
) -> None:
    published_catalog(session, ELDERLY)
    out = tmp_path / "never.csv"
    result = guidecat("export", *args, "--format", "csv", "-o", str(out), url=settings.database_url)
    assert result.returncode == 1
    stderr = result.stderr.decode()
    assert stderr.startswith("错误：")
    assert message in stderr
    assert "Traceback" not in stderr
    assert not out.exists()


def test_cli_xlsx_to_a_file_and_to_a_pipe_are_the_same_sheet(
    settings: Settings, session: Session, tmp_path: Path
) -> None:
    published_catalog(session, ELDERLY)
    out = tmp_path / "ceshi.xlsx"
    assert (
        guidecat(
            "export", "--catalog", "ceshi", "--format", "xlsx", "-o", str(out), url=settings.database_url
        ).returncode
        == 0
    )
    piped = guidecat("export", "--catalog", "ceshi", "--format", "xlsx", url=settings.database_url)
    assert _sheet_values(out.read_bytes()) == _sheet_values(piped.stdout)


def _sheet_values(content: bytes) -> list[tuple[object, ...]]:
    return list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))  # type: ignore[union-attr]


def test_api_csv_options_match_the_golden_files(client: TestClient, session: Session) -> None:
    published_catalog(session, ELDERLY)
    with_bom = client.get(NODES, params={"format": "csv", "bom": 1})
    assert with_bom.content == (GOLDEN / "elderly.csv").read_bytes()
    gbk = client.get(NODES, params={"format": "csv", "charset": "gb18030", "bom": 1})
    assert gbk.headers["content-type"] == "text/csv; charset=gb18030"
    assert gbk.content == (GOLDEN / "elderly-gb18030.csv").read_bytes()  # no BOM in GB18030
    assert client.get(NODES, params={"format": "csv", "charset": "big5"}).status_code == 422


def test_api_level_picks_the_rows_of_csv(client: TestClient, session: Session) -> None:
    published_catalog(session, ELDERLY)
    types = list(csv.reader(io.StringIO(client.get(NODES, params={"format": "csv", "level": 2}).text)))
    assert len(types) == 1 + 60
    assert types[1][2:6] == ["基本公共服务", "公共教育", "", ""]
    subs = list(csv.reader(io.StringIO(client.get(NODES, params={"format": "csv", "level": 4}).text)))
    assert [r[1] for r in subs[1:]] == ["A0600101"]


def test_api_ndjson_keeps_every_node_and_items_match_the_golden(client: TestClient, session: Session) -> None:
    published_catalog(session, ELDERLY)
    lines = client.get(NODES, params={"format": "ndjson"}).content.splitlines(keepends=True)
    assert len(lines) == 6 + 60 + 5
    items = [line for line in lines if json.loads(line)["level"] >= 3]
    assert b"".join(items) == (GOLDEN / "elderly.ndjson").read_bytes()


def test_api_xlsx_has_the_heading_frozen_header_and_fitted_widths(
    client: TestClient, session: Session
) -> None:
    published_catalog(session, ELDERLY)
    response = client.get(NODES, params={"format": "xlsx"})
    assert (
        response.headers["content-type"]
        == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response.headers["content-disposition"] == "attachment; filename*=UTF-8''ceshi-v1.xlsx"
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    assert sheet["A1"].value == "测试市政府购买服务指导性目录（2024年版）"
    assert sheet["A2"].value == "文号：测财购〔2024〕1号  印发日期：2024年3月15日  公开日期：2024年3月20日"
    assert [c.value for c in sheet[3]] == CSV_HEADER
    assert sheet.freeze_panes == "A4"
    assert sheet.oddHeader is not None
    assert sheet.oddHeader.center.text == "2024年版 测财购〔2024〕1号"
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    assert [r[1] for r in rows] == ITEM_CODES
    assert rows[2][:6] == (3, "A0600101", "基本公共服务", "养老服务", "社区居家养老服务", "助餐服务")
    widths = {k: d.width for k, d in sheet.column_dimensions.items()}
    assert widths["E"] == display_width("义务教育阶段课后服务") + 2  # the longest 三级 name
    assert widths["G"] == display_width("为辖区居家老年人提供助餐、助洁、助浴等上门服务。") + 2
    assert widths["A"] == 6  # 序号: the header is wider than the numbers


def test_api_xlsx_leaves_no_temporary_file(
    client: TestClient, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    published_catalog(session, ELDERLY)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    assert client.get(NODES, params={"format": "xlsx"}).status_code == 200
    assert list(tmp_path.iterdir()) == []


def test_api_downloads_stream(demo_client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    produced: list[int] = []
    real = export_rows.line_batches

    def counted(*args: Any, **kwargs: Any) -> Iterator[Sequence[LineRow]]:
        for batch in real(*args, **kwargs):
            produced.extend(1 for _ in batch)
            yield batch

    monkeypatch.setattr(export_rows, "line_batches", counted)
    monkeypatch.setattr("app.db.export_query.BATCH", 100)
    url = "/api/v1/catalogs/shifanshi/versions/2/nodes"
    with demo_client.stream("GET", url, params={"format": "csv"}) as response:
        chunks = response.iter_raw()
        next(chunks)  # the header
        next(chunks)  # the first hundred rows
        seen_at_first_rows = len(produced)
        rest = list(chunks)
    assert seen_at_first_rows <= 300  # rows are read as the client takes them, not all first
    assert len(rest) >= 15
    assert len(produced) > 1700


AWKWARD = [
    Item("i1", "A06", "社区居家养老服务", "101", "助餐、助洁，上门服务。"),
    Item("i2", "A06", "养老机构服务, 质量评估", "101", "第三方评估"),
    Item("i3", "A01", '"四点半"课堂', "102", "第一行\n第二行"),
    Item("i4", "E01", "政府法律顾问服务", "103", "合同审查\r\n意见"),
    Item("i5", "A06", "助餐服务", "101", "集中用餐, 送餐", parent_key="i1"),
    Item("i6", "A06", "助浴服务", "101", "上门助浴", parent_key="i1"),
]


@pytest.mark.parametrize("charset", [Charset.UTF8, Charset.GB18030])
def test_csv_lines_are_the_rows_csv_chunks_writes_for_the_entries(session: Session, charset: Charset) -> None:
    # the export assembles lines from SQL's joined columns; csv_chunks over `entries` is the reference
    published_catalog(session, AWKWARD)
    session.execute(
        update(NodeRevision).where(NodeRevision.name == "助浴服务").values(attrs={"note": '含"上门",费用'})
    )
    session.commit()
    produced = export_bytes(session, exports.Format.CSV, bom=True, charset=charset)
    target = exports.find(session, "ceshi")
    rows = export_rows.entries(session, target.catalog, target.version.seq, RowFilter(levels=ITEM_LEVELS))
    assert produced == b"".join(csv_chunks(rows, bom=True, charset=charset))
    text = produced.decode("utf-8-sig" if charset is Charset.UTF8 else "gb18030")
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert [r[4] for r in parsed[1:]][:3] == ['"四点半"课堂', "社区居家养老服务", "社区居家养老服务"]
    assert parsed[4][5:7] == ["助浴服务", "上门助浴"]
    assert parsed[4][8] == '含"上门",费用'
    assert [r[0] for r in parsed[1:]] == [str(n) for n in range(1, 7)]


def test_csv_lines_find_a_sub_items_parent_read_chunks_before(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # one row to a batch: the sub-item's parent item was read in an earlier batch
    monkeypatch.setattr("app.db.export_query.BATCH", 1)
    published_catalog(session, ELDERLY)
    rows = list(csv.reader(io.StringIO(export_bytes(session, exports.Format.CSV).decode())))
    assert rows[3][1:6] == ["A0600101", "基本公共服务", "养老服务", "社区居家养老服务", "助餐服务"]
    assert golden("elderly.csv", b"") == export_bytes(session, exports.Format.CSV, bom=True)
