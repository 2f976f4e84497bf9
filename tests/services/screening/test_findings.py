"""Screening in the services, on real databases: rules storage, drafts, the gate, overrides, versions,
the import report and the `guidecat screen` / `guidecat rules load` commands."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db.models import AuditEvent, Department, Draft, RuleSet, User
from app.db.models import Finding as FindingRow
from app.errors import Forbidden, InvalidInput, ScreeningBlocked
from app.services.demo import load_demo
from app.services.drafts import items as draft_items
from app.services.drafts import lifecycle as drafts
from app.services.imports.pipeline import ImportMode, ImportRequest, import_file
from app.services.people import accounts as people
from app.services.screening import drafts as screening
from app.services.screening.versions import FindingFilter
from tests.databases import checksum
from tests.factories import ELDERLY, SYSTEM, Built, Item, published_catalog
from tests.paths import CATALOGS, ROOT

SHIPPED = json.loads((CATALOGS / "screening" / "rules.json").read_text(encoding="utf-8"))
ARTICLE_5 = "《政府购买服务管理办法》（财政部令第102号）第十条第（五）项"
DISPATCH = "机关食堂劳务派遣服务"
STATIONED = "派驻3名工作人员到采购人处坐班。"
FLAGGED = [
    Item("f1", "A06", "养老机构劳务派遣服务", "101", "为养老机构提供护理员。"),
    Item("f2", "E01", "档案整理辅助服务", "103", STATIONED),
]


def rules_text(version: str, **changes: Any) -> str:
    """Return the shipped rules as JSON with another rules_version and `changes` applied to its first rule."""
    doc = json.loads(json.dumps(SHIPPED))
    doc["rules_version"] = version
    doc["rules"][0].update(changes)
    return json.dumps(doc, ensure_ascii=False)


def user(session: Session, built: Built, name: str, role: str, department: str | None = None) -> User:
    dept_id = None
    if department is not None:
        dept_id = session.scalars(
            select(Department.id).where(
                Department.jurisdiction_id == built.catalog.jurisdiction_id, Department.code == department
            )
        ).one()
    found = people.add_user(
        session,
        username=name,
        password="correct-horse-1",
        role=role,
        jurisdiction_id=built.catalog.jurisdiction_id,
        department_id=dept_id,
    )
    session.commit()
    return found


def active_version(session: Session) -> str | None:
    return session.scalars(select(RuleSet.rules_version).where(RuleSet.active)).first()


@pytest.fixture
def built(session: Session) -> Built:
    return published_catalog(session, ELDERLY)


# --- rules storage ----------------------------------------------------------------------------


def test_the_shipped_rules_are_stored_once_on_first_use(session: Session) -> None:
    row, matcher = screening.active_rules(session)
    again, same = screening.active_rules(session)
    session.commit()
    assert (row.id, row.rules_version, row.active, matcher.version) == (again.id, "2026.1", True, "2026.1")
    assert same is matcher  # compiled once per process
    assert session.scalars(select(RuleSet.rules_version)).all() == ["2026.1"]
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "rules.load")).one()
    assert event.summary["after"] == "2026.1"


def test_new_rules_become_active_and_the_old_ones_stay_to_explain_old_findings(session: Session) -> None:
    screening.active_rules(session)
    session.commit()
    row = screening.load_rules(session, rules_text("2026.2-载入测试"), actor=SYSTEM)
    assert (row.rules_version, row.active) == ("2026.2-载入测试", True)
    stored = {r.rules_version: r.active for r in session.scalars(select(RuleSet))}
    assert stored == {"2026.1": False, "2026.2-载入测试": True}
    _, matcher = screening.active_rules(session)
    assert matcher.version == "2026.2-载入测试"
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "rules.load").order_by(AuditEvent.id)
    )
    assert [e.summary["before"] for e in events] == [None, "2026.1"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            rules_text("2026.3", triggers=["(疗休养"]),
            "triggers 中的 “(疗休养” 不是有效的正则表达式",
            id="regex",
        ),
        pytest.param(
            rules_text("2026.3", severity="stop"),
            "severity 只能是 block 或 warn，而不是 'stop'",
            id="severity",
        ),
        pytest.param(rules_text("2026.1"), "规则版本 2026.1 已经载入过", id="same-version"),
        pytest.param(rules_text("v" * 33), "rules_version 最长 32 个字符", id="long-version"),
        pytest.param("{", "规则文件不是有效的 JSON", id="not-json"),
    ],
)
def test_a_bad_rules_file_is_explained_and_the_old_rules_stay(
    session: Session, engine: Engine, text: str, message: str
) -> None:
    screening.active_rules(session)
    session.commit()
    before = checksum(engine)
    with pytest.raises(InvalidInput) as error:
        screening.load_rules(session, text, actor=SYSTEM)
    assert message in error.value.message
    session.rollback()
    assert checksum(engine) == before
    assert active_version(session) == "2026.1"


def test_only_a_finance_admin_replaces_the_rules(session: Session, built: Built) -> None:
    reviewer = user(session, built, "reviewer", "finance_reviewer")
    with pytest.raises(Forbidden):
        screening.load_rules(session, rules_text("2026.4"), actor=reviewer)
    admin = user(session, built, "admin", "finance_admin")
    assert screening.load_rules(session, rules_text("2026.4"), actor=admin).loaded_by_id == admin.id


# --- drafts: saving, the gate, overrides ------------------------------------------------------


def stored(session: Session, draft: Draft) -> list[tuple[str, str, str, str]]:
    rows = session.scalars(select(FindingRow).where(FindingRow.draft_id == draft.id).order_by(FindingRow.id))
    return [(r.rule_id, r.field, r.match, r.rules_version) for r in rows]


def test_screening_draft_nodes_replaces_their_findings(session: Session, built: Built) -> None:
    draft = drafts.create_draft(session, "ceshi", actor=SYSTEM, department="101")
    uid = built.uid("i2")
    draft_items.edit_item(session, draft.id, uid, description=STATIONED, lock=None, actor=SYSTEM)
    found = screening.screen_draft_nodes(session, draft, [uid, built.uid("i1")])
    session.commit()
    assert [(f.rule_id, f.match, f.code, f.name) for f in found[uid]] == [
        ("X10-5-stationed", "派驻3名工作人员", "A06002", "养老机构服务质量评估"),
        ("X10-5-stationed", "到采购人处坐班", "A06002", "养老机构服务质量评估"),
    ]
    assert found[built.uid("i1")] == []
    expected = [
        ("X10-5-stationed", "description", m, "2026.1") for m in ("派驻3名工作人员", "到采购人处坐班")
    ]
    assert stored(session, draft) == expected
    assert [f.explanation[:7] for f in screening.draft_findings(session, draft.id, actor=SYSTEM)] == [
        "服务内容写明向"
    ] * 2

    draft_items.edit_item(
        session, draft.id, uid, description="每年开展一次第三方评估。", lock=None, actor=SYSTEM
    )
    assert screening.screen_draft_nodes(session, draft, [uid]) == {uid: []}
    session.commit()
    assert stored(session, draft) == []


def test_blocking_findings_stop_submit_until_a_finance_reviewer_overrides_them(
    session: Session, built: Built
) -> None:
    reviewer = user(session, built, "reviewer", "finance_reviewer")
    editor = user(session, built, "minzheng", "dept_editor", "101")
    draft = drafts.create_draft(session, "ceshi", actor=SYSTEM, department="101")
    uid = built.uid("i1")
    draft_items.edit_item(
        session, draft.id, uid, name="社区养老劳务派遣服务", description=STATIONED, lock=None, actor=SYSTEM
    )
    blocked = screening.blocking(session, draft)
    assert [(f.uid, f.rule_id, f.match, f.blocks) for f in blocked] == [
        (uid, "X10-5-dispatch", "劳务派遣", True)
    ]
    error = ScreeningBlocked("有 1 项负面清单问题未处理，不能送审", details=blocked)
    assert error.findings == tuple(blocked)
    assert isinstance(error.details, list)
    assert error.details[0]["rule_id"] == "X10-5-dispatch"

    refusals = [
        (editor, "X10-5-dispatch", "派遣单位只负责培训", Forbidden),
        (reviewer, "X10-5-dispatch", "  ", InvalidInput),
        (reviewer, "X10-5-stationed", "只是提示，不阻止", InvalidInput),  # a warn finding needs no override
    ]
    for actor, rule, reason, exc in refusals:
        with pytest.raises(exc):
            screening.record_override(session, draft.id, uid, rule, reason=reason, actor=actor)
        session.rollback()
    reason = "经核实为食堂托管服务，按服务成果付费"
    screening.record_override(session, draft.id, uid, "X10-5-dispatch", reason=reason, actor=reviewer)
    assert screening.blocking(session, draft) == []
    session.commit()
    listed = {
        (f.rule_id, f.override, f.blocks) for f in screening.draft_findings(session, draft.id, actor=SYSTEM)
    }
    assert ("X10-5-dispatch", reason, False) in listed
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "screening.override")).one()
    assert (event.actor_name, event.summary["rule"], event.summary["after"]) == (
        "reviewer",
        "X10-5-dispatch",
        reason,
    )


def test_blocking_sees_only_items_the_draft_still_proposes(session: Session, built: Built) -> None:
    draft = drafts.create_draft(session, "ceshi", actor=SYSTEM, department="101")
    uid = built.uid("i2")
    draft_items.edit_item(session, draft.id, uid, name="养老机构劳务派遣服务", lock=None, actor=SYSTEM)
    assert [f.rule_id for f in screening.blocking(session, draft)] == ["X10-5-dispatch"]
    draft_items.withdraw_item(session, draft.id, uid, lock=None, actor=SYSTEM)
    assert screening.blocking(session, draft) == []
    session.commit()
    assert stored(session, draft) == []


# --- whole versions ---------------------------------------------------------------------------


def test_screening_a_version_stores_its_findings_and_screening_again_replaces_them(session: Session) -> None:
    published_catalog(session, ELDERLY + FLAGGED)
    first = screening.screen_version(session, "ceshi", 1, actor=SYSTEM)
    again = screening.screen_version(session, "ceshi", None, actor=SYSTEM)
    assert (again.items, again.flagged, again.findings) == (len(ELDERLY) + 2, 2, 3)
    assert [(r.rule_id, r.severity.value, r.findings, r.items) for r in again.by_rule] == [
        ("X10-5-dispatch", "block", 1, 1),
        ("X10-5-stationed", "warn", 2, 1),
    ]
    assert first == again
    assert len(session.scalars(select(FindingRow)).all()) == 3  # replaced, not added
    rows = screening.version_findings(session, "ceshi", 1, filters=FindingFilter(), actor=SYSTEM)
    assert [(r.code, r.name, r.department_name, r.rule_id, r.match) for r in rows] == [
        ("A06003", "养老机构劳务派遣服务", "民政局", "X10-5-dispatch", "劳务派遣"),
        ("E01002", "档案整理辅助服务", "司法局", "X10-5-stationed", "派驻3名工作人员"),
        ("E01002", "档案整理辅助服务", "司法局", "X10-5-stationed", "到采购人处坐班"),
    ]
    assert rows[0].explanation.startswith("以劳务派遣方式用工")
    blocks = screening.version_findings(
        session, "ceshi", 1, filters=FindingFilter(severity="block"), actor=SYSTEM
    )
    only_103 = screening.version_findings(
        session, "ceshi", 1, filters=FindingFilter(department="103"), actor=SYSTEM
    )
    assert ([r.rule_id for r in blocks], len(only_103)) == (["X10-5-dispatch"], 2)
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "version.screen")).all()
    assert [e.summary["findings"] for e in events] == [3, 3]


def test_a_department_editor_may_not_screen_a_version(session: Session, built: Built) -> None:
    editor = user(session, built, "minzheng", "dept_editor", "101")
    with pytest.raises(Forbidden):
        screening.screen_version(session, "ceshi", 1, actor=editor)


# --- the import report ------------------------------------------------------------------------

EDUCATION_FILE = (
    "序号,目录编码,一级目录,二级目录,三级目录,服务内容,购买主体\n"
    "1,,基本公共服务,公共教育,义务教育阶段课后延时服务,为义务教育学校学生提供课后托管和兴趣拓展服务。,教育局\n"
    "2,,,,学校食堂劳务派遣服务,为中小学校食堂提供厨工。,教育局\n"
).encode()


def test_an_import_reports_findings_as_warnings_and_still_succeeds(session: Session) -> None:
    load_demo(session, CATALOGS)
    request = ImportRequest(catalog="shifanshi", data=EDUCATION_FILE, filename="教育局.csv", department="102")
    dry_run = dataclasses.replace(request, mode=ImportMode.DRY_RUN)
    dry = import_file(session, dry_run, actor=SYSTEM, catalogs_dir=CATALOGS)
    result = import_file(session, request, actor=SYSTEM, catalogs_dir=CATALOGS)
    assert result.ok
    assert result.draft_id is not None
    warnings = [p for p in result.problems if "负面清单" in p.reason]
    assert [(p.row, p.column, p.column_letter, p.value, p.severity.value) for p in warnings] == [
        (3, "三级目录", "E", "劳务派遣", "warning")
    ]
    assert warnings[0].reason.startswith(f"负面清单（送审时阻止）：{ARTICLE_5}：以劳务派遣方式用工")
    assert warnings[0].reason.endswith("（规则 X10-5-dispatch）")
    assert [p.reason for p in dry.problems if "负面清单" in p.reason] == [warnings[0].reason]
    listed = screening.draft_findings(session, result.draft_id, actor=SYSTEM)
    assert [(f.name, f.rule_id, f.blocks) for f in listed] == [
        ("学校食堂劳务派遣服务", "X10-5-dispatch", True)
    ]


# --- the command line -------------------------------------------------------------------------


def guidecat(*args: str, settings: Settings) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": settings.database_url}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def finding(rule: str, severity: str, match: str) -> dict[str, str]:
    return {"rule": rule, "article": ARTICLE_5, "severity": severity, "match": match}


def test_screen_file_prints_one_json_object_per_item(settings: Settings, tmp_path: Path) -> None:
    good = guidecat("screen", "tests/data/import/good/utf8.csv", "--format", "json", settings=settings)
    assert (good.returncode, good.stderr) == (0, "")
    lines = [json.loads(line) for line in good.stdout.splitlines()]
    assert [(o["row"], o["findings"]) for o in lines] == [(n, []) for n in range(2, 10)]
    assert lines[0]["name"] == "社区居家养老服务"

    path = tmp_path / "待筛查.csv"
    path.write_text(
        "三级目录,服务内容\n"
        f"{DISPATCH},\n"
        ",\n"
        f"档案数字化服务,{STATIONED}\n"
        "社区居家养老服务,为辖区居家老年人提供助餐服务。\n",
        encoding="utf-8",
    )
    flagged = guidecat("screen", str(path), "--format", "json", settings=settings)
    assert flagged.returncode == 0, flagged.stderr
    expected = [
        {"row": 2, "name": DISPATCH, "findings": [finding("X10-5-dispatch", "block", "劳务派遣")]},
        {
            "row": 4,
            "name": "档案数字化服务",
            "findings": [
                finding("X10-5-stationed", "warn", "派驻3名工作人员"),
                finding("X10-5-stationed", "warn", "到采购人处坐班"),
            ],
        },
        {"row": 5, "name": "社区居家养老服务", "findings": []},
    ]
    assert flagged.stdout.splitlines() == [json.dumps(o, ensure_ascii=False) for o in expected]


def test_rules_load_and_screen_catalog_commands(session: Session, settings: Settings, tmp_path: Path) -> None:
    published_catalog(session, ELDERLY + FLAGGED)
    bad = tmp_path / "bad.json"
    bad.write_text(rules_text("2026.5", severity="stop"), encoding="utf-8")
    refused = guidecat("rules", "load", str(bad), settings=settings)
    assert refused.returncode == 1
    assert refused.stderr.startswith("错误：规则文件无效：")
    assert "severity 只能是 block 或 warn" in refused.stderr
    assert "Traceback" not in refused.stderr
    good = tmp_path / "good.json"
    good.write_text(rules_text("2026.5"), encoding="utf-8")
    loaded = guidecat("rules", "load", str(good), settings=settings)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.startswith("已启用负面清单规则 2026.5（19 条规则）")

    screened = guidecat("screen", "--catalog", "ceshi", "--version", "1", settings=settings)
    assert screened.returncode == 0, screened.stderr
    lines = screened.stdout.splitlines()
    assert lines[0].split() == ["规则", "条款", "级别", "命中", "条目"]
    assert lines[1].split() == ["X10-5-dispatch", "第十条第（五）项", "block", "1", "1"]
    assert lines[-1] == "ceshi 第1版：筛查 7 个条目，2 个条目共 3 处命中（阻止 1，提示 2）；规则版本 2026.5"
    neither = guidecat("screen", settings=settings)
    assert (neither.returncode, neither.stderr.startswith("错误：请指定要筛查的文件")) == (1, True)
