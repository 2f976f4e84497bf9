"""Importing files as departments send them: a draft when valid, nothing at all otherwise."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.catalog.nodes import Level, NodeState
from app.db import draft_store, store
from app.db.models import Catalog, Draft
from app.db.store import load_version
from app.services.demo import load_demo
from app.services.drafts import changes as draft_changes
from app.services.imports.pipeline import ImportMode, ImportRequest, ImportResult, ImportScope, import_file
from app.services.people.accounts import create_token
from tests.databases import checksum
from tests.factories import SYSTEM
from tests.paths import CATALOGS, DATA, ROOT

DATA = DATA / "import"
EDUCATION = "102"  # 教育局 in the demo
EDUCATION_FILE = (
    "序号,目录编码,一级目录,二级目录,三级目录,服务内容,购买主体\n"
    "1,,基本公共服务,公共教育,义务教育阶段课后延时服务,为义务教育学校学生提供课后托管和兴趣拓展服务。,教育局\n"
    "2,,,,校园食品安全第三方检测服务,对中小学校食堂食品开展抽样检测。,教育局\n"
).encode()


@pytest.fixture
def demo(session: Session) -> Session:
    load_demo(session, CATALOGS)
    return session


def imported(session: Session, data: bytes, name: str = "教育局.csv", **kwargs: object) -> ImportResult:
    request = ImportRequest(catalog="shifanshi", data=data, filename=name, **kwargs)  # type: ignore[arg-type]
    return import_file(session, request, actor=SYSTEM, catalogs_dir=CATALOGS)


def education_items(session: Session) -> dict[str, str]:
    catalog = session.scalars(select(Catalog)).one()
    return {
        u: n.state.name
        for u, n in load_version(session, catalog.id, 2).items()
        if n.state.department == EDUCATION and n.state.level >= Level.ITEM
    }


def test_a_department_file_becomes_one_draft(demo: Session, engine: Engine) -> None:
    before_items = education_items(demo)
    before = checksum(engine)
    whole = ImportScope.REPLACE  # the file is the department's whole list
    dry = imported(demo, EDUCATION_FILE, department=EDUCATION, mode=ImportMode.DRY_RUN, scope=whole)
    assert dry.ok, dry.problems
    assert checksum(engine) == before  # a dry run writes nothing
    assert (dry.counts.added, dry.counts.changed, dry.counts.withdrawn) == (1, 1, len(before_items) - 1)

    result = imported(demo, EDUCATION_FILE, department=EDUCATION, scope=whole)
    assert result.ok
    assert result.counts == dry.counts
    draft = demo.get_one(Draft, result.draft_id)
    assert (draft.status, draft.title, draft.base_version_id) == ("editing", "导入：教育局.csv", 2)
    proposed = draft_changes.snapshot(demo, draft)
    mine = {s.name: s for s in proposed.values() if s.department == EDUCATION and s.level >= Level.ITEM}
    assert set(mine) == {"义务教育阶段课后延时服务", "校园食品安全第三方检测服务"}
    assert mine["义务教育阶段课后延时服务"].description == "为义务教育学校学生提供课后托管和兴趣拓展服务。"
    assert mine["校园食品安全第三方检测服务"].code.startswith("A01")
    assert mine["义务教育阶段课后延时服务"].uid in before_items  # recognised by name: same identity
    others = [s for s in proposed.values() if s.department not in (None, EDUCATION)]
    assert len(others) > 1500  # a department's file leaves other departments' items alone


def test_by_default_a_file_adds_and_updates_and_withdraws_nothing(demo: Session) -> None:
    before_items = education_items(demo)
    result = imported(demo, EDUCATION_FILE, department=EDUCATION)
    assert result.ok, result.problems
    assert (result.counts.added, result.counts.changed, result.counts.withdrawn) == (1, 1, 0)
    assert result.draft_id is not None
    proposed = draft_changes.snapshot(demo, demo.get_one(Draft, result.draft_id))
    mine = {s.name for s in proposed.values() if s.department == EDUCATION and s.level >= Level.ITEM}
    assert set(before_items.values()) <= mine
    assert "校园食品安全第三方检测服务" in mine


BAD_FILES = {
    "bad/bom-in-middle.csv": "第10行含有多余的 BOM 标记",
    "bad/truncated.xlsx": "XLSX 文件已损坏或不完整",
    "bad/formulas.xlsx": "公式单元格",
    "bad/missing-column.csv": "缺少必需的列“购买主体”",
    "bad/duplicated-header.csv": "列名重复：“服务内容”同时出现在 F 列和 I 列",
    "bad/empty.csv": "文件为空",
    "bad/png-renamed.csv": "文件不是文本或 Excel 表格",
}


def test_every_bad_file_is_explained_and_changes_nothing(demo: Session, engine: Engine) -> None:
    before = checksum(engine)
    for name, message in BAD_FILES.items():
        result = imported(demo, (DATA / name).read_bytes(), name=name)
        assert not result.ok, name
        assert any(message in p.reason for p in result.problems), (name, [p.reason for p in result.problems])
        assert result.draft_id is None
    huge = "序号,一级目录,二级目录,三级目录,服务内容,购买主体\n1,基本公共服务,公共教育,课后服务,{},教育局\n"
    result = imported(demo, huge.format("长" * 2_000_000).encode(), name="2mb.csv")
    assert [(p.row, p.column_letter, p.reason) for p in result.problems] == [
        (2, "E", "“服务内容”过长：2,000,000 个字符，最多 1,000 个")
    ]
    assert checksum(engine) == before


def test_warnings_do_not_stop_an_import(demo: Session) -> None:
    result = imported(
        demo, (DATA / "bad/extra-columns.csv").read_bytes(), name="extra.csv", mode=ImportMode.DRY_RUN
    )
    assert result.ok
    assert "未识别的列“联系人”，已忽略" in [p.reason for p in result.problems]
    declared = ImportRequest(
        catalog="shifanshi",
        data=(DATA / "bad/wrong-encoding-declared.csv").read_bytes(),
        declared_encoding="gbk",
        mode=ImportMode.DRY_RUN,
    )
    result = import_file(demo, declared, actor=SYSTEM, catalogs_dir=CATALOGS)
    assert result.ok
    assert any("声明的编码为 gbk" in p.reason for p in result.problems)


@pytest.mark.parametrize(
    "name", ["good/utf8.csv", "good/utf8-bom.csv", "good/gbk.csv", "good/semicolon.csv", "good/catalog.xlsx"]
)
def test_every_format_reads_to_the_same_changes(demo: Session, name: str) -> None:
    result = imported(demo, (DATA / name).read_bytes(), name=name, mode=ImportMode.DRY_RUN)
    assert result.ok, [p.reason for p in result.problems]
    assert result.rows == 8


def _token(session: Session, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_token(session, username, actor=SYSTEM)}"}


def test_the_api_is_finance_only_and_answers_problems_as_json(demo: Session, client: TestClient) -> None:
    upload = {"file": ("教育局.csv", EDUCATION_FILE, "text/csv")}
    assert client.post("/api/v1/catalogs/shifanshi/imports", files=upload).status_code == 401
    assert (
        client.post(
            "/api/v1/catalogs/shifanshi/imports", files=upload, headers={"Authorization": "Bearer gc_forged"}
        ).status_code
        == 401
    )
    editor = client.post("/api/v1/catalogs/shifanshi/imports", files=upload, headers=_token(demo, "minzheng"))
    assert editor.status_code == 403
    finance = _token(demo, "reviewer")
    dry = client.post(
        "/api/v1/catalogs/shifanshi/imports",
        files=upload,
        data={"department": EDUCATION, "dry_run": "true"},
        headers=finance,
    )
    assert dry.status_code == 200
    assert (dry.json()["added"], dry.json()["changed"], dry.json()["draft_id"]) == (1, 1, None)
    created = client.post(
        "/api/v1/catalogs/shifanshi/imports", files=upload, data={"department": EDUCATION}, headers=finance
    )
    assert created.status_code == 201
    assert created.json()["draft_id"] is not None
    bad = client.post(
        "/api/v1/catalogs/shifanshi/imports",
        headers=finance,
        files={"file": ("x.csv", (DATA / "bad/missing-column.csv").read_bytes(), "text/csv")},
    )
    assert bad.status_code == 422
    assert bad.json()["problems"][0]["reason"] == "缺少必需的列“购买主体”（或在导入时指定部门）"


def test_the_xlsx_report_marks_the_bad_cells(demo: Session, client: TestClient) -> None:
    data = (EDUCATION_FILE.decode() + "3,,,,,内容没有名称。,教育局\n4,,,,托育服务,,卫生局\n").encode()
    response = client.post(
        "/api/v1/catalogs/shifanshi/imports?report=xlsx",
        headers=_token(demo, "admin"),
        files={"file": ("教育局.csv", data, "text/csv")},
    )
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    problems = book.worksheets[-1]
    header, *rows = problems.iter_rows(values_only=True)
    reasons = [row[header.index("问题")] for row in rows]
    assert "三级目录名称为空" in reasons
    assert "未知的部门“卫生局”：请使用本地区部门的全称或编码" in reasons
    data_sheet = book.worksheets[0]
    marked = [c for row in data_sheet.iter_rows() for c in row if c.comment is not None]
    assert {c.comment.text for c in marked} >= {"未知的部门“卫生局”：请使用本地区部门的全称或编码"}


@pytest.mark.usefixtures("demo")
def test_the_command_line_reports_and_exits_1(settings: object, tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": settings.database_url}  # type: ignore[attr-defined]
    report = tmp_path / "问题.xlsx"
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "app.cli",
            "import",
            str(DATA / "bad/missing-column.csv"),
            "--catalog",
            "shifanshi",
            "--report",
            str(report),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 1
    assert "缺少必需的列“购买主体”" in bad.stderr
    assert "Traceback" not in bad.stderr
    assert load_workbook(report).sheetnames[-1] == "问题清单"
    ok_file = tmp_path / "教育局.csv"
    ok_file.write_bytes(EDUCATION_FILE)
    good = subprocess.run(
        [
            sys.executable,
            "-m",
            "app.cli",
            "import",
            str(ok_file),
            "--catalog",
            "shifanshi",
            "--department",
            EDUCATION,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert good.returncode == 0, good.stderr
    assert "校验通过：2 行；新增 1，修改 1" in good.stdout
    assert "已生成草稿 #" in good.stdout


def test_the_command_lines_size_cap_reaches_the_reader(demo: Session) -> None:
    big = (
        EDUCATION_FILE + b"#" * 60 + b"\n"
    )  # a comment-like row keeps it valid-looking; the cap is the point
    request = ImportRequest(
        catalog="shifanshi",
        data=big,
        filename="x.csv",
        department=EDUCATION,
        mode=ImportMode.DRY_RUN,
        max_bytes=len(big) - 1,
    )
    refused = import_file(demo, request, actor=SYSTEM, catalogs_dir=CATALOGS)
    assert not refused.ok
    assert any("上限" in p.reason for p in refused.problems)


@pytest.mark.parametrize(
    "state",
    [
        None,
        NodeState("u1", None, Level.ITEM, "A06001", '社区"养老"\n服务\\', "为老年人 提供\t助餐。", None, 10),
        NodeState("u2", "u1", Level.SUBITEM, "A0600101", "助餐", "", "101", 0, {"note": "含“第三方”评估"}),
        NodeState("u3", "p", Level.ITEM, "E01001", "法律顾问", "x", "103", 7, {"note": "n", "k": [1, None]}),
    ],
)
def test_a_change_is_stored_as_the_json_column_would_write_it(state: NodeState | None) -> None:
    assert draft_store.state_json(state) == json.dumps(draft_store.state_to_json(state))


@pytest.mark.parametrize("new", [2, 400])  # nodes looked up by uid; the catalog's nodes read whole
def test_bulk_nodes_keep_the_existing_and_make_the_missing(demo: Session, new: int) -> None:
    catalog = demo.scalars(select(Catalog)).one()
    existing = store.node_ids(demo, catalog.id, list(load_version(demo, catalog.id, 2))[:3])
    wanted = [*existing, *(f"new-node-{n}" for n in range(new))]
    ids = draft_store.ensure_nodes_bulk(demo, catalog.id, wanted)
    assert set(ids) == set(wanted)
    assert {u: ids[u] for u in existing} == existing
    assert store.node_ids(demo, catalog.id, wanted) == ids
    assert len(set(ids.values())) == len(wanted)


def test_an_imported_draft_reads_back_as_the_file_says(demo: Session) -> None:
    result = imported(demo, EDUCATION_FILE, department=EDUCATION)
    assert result.ok
    assert result.draft_id is not None
    changes = draft_store.load_changes(demo, result.draft_id)
    assert draft_changes.count({c.uid: (c.base, c.proposed) for c in changes}) == result.counts
    added = {c.proposed.name: c for c in changes if c.kind == "add" and c.proposed is not None}
    new = added["校园食品安全第三方检测服务"]
    assert new.proposed is not None
    assert (new.proposed.description, new.proposed.department, new.proposed.level) == (
        "对中小学校食堂食品开展抽样检测。",
        EDUCATION,
        Level.ITEM,
    )
    catalog_id = demo.scalars(select(Catalog.id)).one()
    assert store.node_ids(demo, catalog_id, [new.uid]) == {new.uid: new.node_id}
