"""Uploading into a department's draft: previewed, applied in the chosen scope, undone in one step."""

from __future__ import annotations

from typing import Any, cast

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalog.nodes import Level, NodeState
from app.db import draft_store
from app.db.models import AuditEvent, Catalog, Draft, DraftChange, DraftImport, Finding, User
from app.errors import Conflict, InvalidInput, NotFound
from app.services.demo import load_demo
from app.services.drafts import changes as draft_changes
from app.services.drafts import items as draft_items
from app.services.drafts import lifecycle as drafts
from app.services.imports import into_draft, undo
from app.services.imports.pipeline import ImportScope
from app.services.people import accounts
from tests.factories import SYSTEM
from tests.paths import CATALOGS
from tests.services.imports.workbooks import Row, department_xlsx

CIVIL = "106"  # 民政局 in the demo: 108 items in the 2025 version
BATHING = Row("基本公共服务", "养老服务", "老年人助浴上门服务", "为失能老年人提供上门助浴和皮肤护理服务。")


@pytest.fixture
def demo(session: Session) -> Session:
    load_demo(session, CATALOGS)
    return session


def user(session: Session, name: str) -> User:
    return session.scalars(select(User).where(User.username == name)).one()


def own_items(session: Session, draft_id: int) -> dict[str, NodeState]:
    """Return 民政局's items as the draft proposes them, by name."""
    proposed = draft_changes.snapshot(session, session.get_one(Draft, draft_id))
    return {s.name: s for s in proposed.values() if s.department == CIVIL and s.level >= Level.ITEM}


def stored(session: Session, draft_id: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Return the draft's change rows and findings as they are stored (without their ids)."""
    session.expire_all()
    changes = session.scalars(select(DraftChange).where(DraftChange.draft_id == draft_id)).all()
    findings = session.scalars(select(Finding).where(Finding.draft_id == draft_id)).all()
    return (
        sorted((c.node_id, c.kind, c.base_revision_id, repr(c.fields), c.updated_at) for c in changes),
        sorted((f.node_id, f.rule_id, f.field, f.match, f.start, f.created_at) for f in findings),
    )


def edited_draft(session: Session) -> tuple[Draft, User, str]:
    """Return 民政局's draft with one edit made in the browser (its item's uid), as the clerk left it."""
    clerk = user(session, "minzheng")
    draft = drafts.create_draft(session, "shifanshi", actor=clerk, title="2026年调整")
    items = own_items(session, draft.id)
    assert len(items) == 108
    uid = items["困难群众救助对象核查服务"].uid
    draft_items.edit_item(
        session, draft.id, uid, description="对低保、特困等救助申请家庭开展入户调查和经济状况核查。",
        lock=draft.lock_version, actor=clerk,
    )  # fmt: skip
    return session.get_one(Draft, draft.id), clerk, uid


def test_a_one_row_upload_adds_its_row_and_leaves_the_department_and_the_browser_edit_alone(
    demo: Session,
) -> None:
    draft, clerk, edited = edited_draft(demo)
    before = stored(demo, draft.id)
    data = department_xlsx("民政局2026年政府购买服务目录（新增）", [BATHING])

    preview = into_draft.preview_upload(
        demo, draft.id, data=data, filename="民政局新增.xlsx", actor=clerk, catalogs_dir=CATALOGS
    )
    assert preview.ok, preview.result.problems
    assert preview.scope is ImportScope.ADD_UPDATE
    assert preview.effect is not None
    assert preview.other is not None
    assert [it.name for it in preview.effect.added] == ["老年人助浴上门服务"]
    assert (preview.effect.changed, preview.effect.withdrawn) == ((), ())
    assert preview.other.counts.withdrawn == 108  # what replacing the whole list would have done
    assert preview.token
    assert stored(demo, draft.id) == before  # a preview writes nothing to the draft

    applied = into_draft.apply_upload(
        demo, draft.id, token=preview.token, scope=ImportScope.ADD_UPDATE, actor=clerk, catalogs_dir=CATALOGS
    )
    items = own_items(demo, draft.id)
    assert len(items) == 109
    assert items["老年人助浴上门服务"].code.startswith("A06")
    assert items["困难群众救助对象核查服务"].description.endswith("入户调查和经济状况核查。")
    assert applied.import_id is not None
    event = demo.scalars(select(AuditEvent).where(AuditEvent.action == "draft.import")).one()
    assert event.summary["scope"] == "add_update"
    assert (event.summary["added"], event.summary["withdrawn"]) == (1, 0)

    undo.undo_import(demo, draft.id, applied.import_id, lock=applied.lock_version, actor=clerk)
    assert stored(demo, draft.id) == before
    assert edited in {s.uid for s in own_items(demo, draft.id).values()}
    assert demo.scalars(select(AuditEvent.action).where(AuditEvent.action == "draft.import_undo")).one()


def test_replacing_the_whole_list_says_how_many_it_withdraws_and_is_undone_exactly(demo: Session) -> None:
    draft, clerk, _ = edited_draft(demo)
    # a finding to bring back: an item renamed to something the negative list blocks
    uid = own_items(demo, draft.id)["受助人员寻亲服务"].uid
    draft_items.edit_item(
        demo, draft.id, uid, name="受助人员寻亲劳务派遣服务", lock=draft.lock_version, actor=clerk
    )
    before = stored(demo, draft.id)
    assert before[1], "the renamed item has its finding"
    data = department_xlsx("民政局2026年政府购买服务目录", [BATHING])

    preview = into_draft.preview_upload(
        demo, draft.id, data=data, filename="民政局.xlsx", scope=ImportScope.REPLACE, actor=clerk,
        catalogs_dir=CATALOGS,
    )  # fmt: skip
    assert preview.effect is not None
    assert preview.other is not None
    assert preview.effect.counts.withdrawn == 108
    assert "受助人员寻亲劳务派遣服务" in {it.name for it in preview.effect.withdrawn}
    assert preview.other.counts.withdrawn == 0

    applied = into_draft.apply_upload(
        demo, draft.id, token=preview.token, scope=ImportScope.REPLACE, actor=clerk, catalogs_dir=CATALOGS
    )
    assert list(own_items(demo, draft.id)) == ["老年人助浴上门服务"]
    assert stored(demo, draft.id)[1] == []
    assert applied.import_id is not None
    undo.undo_import(demo, draft.id, applied.import_id, lock=None, actor=clerk)
    assert stored(demo, draft.id) == before
    assert len(own_items(demo, draft.id)) == 108


def test_an_upload_updates_the_items_it_names_as_the_draft_has_them(demo: Session) -> None:
    clerk = user(demo, "minzheng")
    draft = drafts.create_draft(demo, "shifanshi", actor=clerk)
    items = own_items(demo, draft.id)
    elderly = next(s.parent for s in items.values() if s.code.startswith("A06") and s.level is Level.ITEM)
    assert elderly is not None
    added = draft_items.add_item(
        demo, draft.id, parent=elderly, name="老年人助浴上门服务",
        description="上门助浴。", lock=1, actor=clerk,
    )  # fmt: skip
    gone = items["受助人员寻亲服务"]
    draft_items.withdraw_item(demo, draft.id, gone.uid, lock=2, actor=clerk)
    data = department_xlsx(
        "民政局目录调整",
        [
            BATHING,  # the item added in the browser, recognised by its name: updated, not doubled
            Row(
                "基本公共服务", "社会救助", "受助人员寻亲服务", gone.description, code=gone.code
            ),  # back again
            Row("基本公共服务", "社会救助", "低收入人口动态监测服务", "对低收入人口开展动态监测和预警。"),
        ],
    )
    preview = into_draft.preview_upload(
        demo, draft.id, data=data, filename="调整.xlsx", actor=clerk, catalogs_dir=CATALOGS
    )
    assert preview.effect is not None
    assert [(it.name, it.fields) for it in preview.effect.changed] == [
        ("低收入人口动态监测服务", ("服务内容",)),
        ("老年人助浴上门服务", ("服务内容",)),
    ]
    assert [(it.name, it.uid) for it in preview.effect.added] == [("受助人员寻亲服务", gone.uid)]
    into_draft.apply_upload(
        demo, draft.id, token=preview.token, scope=ImportScope.ADD_UPDATE, actor=clerk, catalogs_dir=CATALOGS
    )
    after = own_items(demo, draft.id)
    assert len(after) == 109
    assert after["老年人助浴上门服务"].uid == added.uid
    assert after["老年人助浴上门服务"].description == BATHING.description
    assert after["受助人员寻亲服务"] == gone


def test_a_stale_preview_is_refused_and_a_later_edit_ends_the_undo(demo: Session) -> None:
    draft, clerk, edited = edited_draft(demo)
    data = department_xlsx("民政局新增", [BATHING])
    preview = into_draft.preview_upload(
        demo, draft.id, data=data, filename="新增.xlsx", actor=clerk, catalogs_dir=CATALOGS
    )
    draft_items.edit_item(demo, draft.id, edited, name="困难群众救助对象入户核查服务", lock=2, actor=clerk)
    with pytest.raises(Conflict, match="预览之后草稿已有修改"):
        into_draft.apply_upload(
            demo, draft.id, token=preview.token, scope=ImportScope.ADD_UPDATE, actor=clerk,
            catalogs_dir=CATALOGS,
        )  # fmt: skip
    assert "老年人助浴上门服务" not in own_items(demo, draft.id)

    again = into_draft.preview_upload(
        demo, draft.id, data=None, token=preview.token, actor=clerk, catalogs_dir=CATALOGS
    )
    applied = into_draft.apply_upload(
        demo, draft.id, token=again.token, scope=ImportScope.ADD_UPDATE, actor=clerk, catalogs_dir=CATALOGS
    )
    assert applied.import_id is not None
    with pytest.raises(Conflict, match="已经"):  # a second confirmation (a double click) applies nothing
        into_draft.apply_upload(
            demo, draft.id, token=again.token, scope=ImportScope.ADD_UPDATE, actor=clerk,
            catalogs_dir=CATALOGS,
        )  # fmt: skip
    draft_items.edit_item(
        demo, draft.id, edited, name="困难群众救助对象核查服务", lock=applied.lock_version, actor=clerk
    )
    assert undo.undoable(demo, demo.get_one(Draft, draft.id)) is None
    with pytest.raises(Conflict, match="之后草稿又有修改") as refused:
        undo.undo_import(demo, draft.id, applied.import_id, lock=applied.lock_version + 1, actor=clerk)
    details = cast(list[dict[str, Any]], refused.value.details)
    assert [d["action"] for d in details] == ["draft.edit"]
    assert "老年人助浴上门服务" in own_items(demo, draft.id)


def test_a_bad_file_keeps_nothing_and_the_token_is_the_uploaders_own(demo: Session) -> None:
    draft, clerk, _ = edited_draft(demo)
    bad = department_xlsx(
        "民政局新增",
        [
            BATHING,
            Row("基本公共服务", "不存在的类型", "社区助餐服务", "集中助餐。"),
            Row("基本公共服务", "养老服务", "", "缺名称"),
        ],
    )
    preview = into_draft.preview_upload(
        demo, draft.id, data=bad, filename="新增.xlsx", actor=clerk, catalogs_dir=CATALOGS
    )
    assert not preview.ok
    assert preview.token == ""
    assert preview.effect is None
    rows = {(p.row, p.column) for p in preview.result.problems}
    assert (4, "二级目录") in rows  # row 4 of the sheet: the title, the header, then the rows
    assert demo.scalars(select(DraftImport)).all() == []

    good = into_draft.preview_upload(
        demo, draft.id, data=department_xlsx("民政局新增", [BATHING]), filename="新增.xlsx", actor=clerk,
        catalogs_dir=CATALOGS,
    )  # fmt: skip
    finance = accounts.add_user(
        demo, username="caizheng", password="caizheng-password", role="finance_reviewer",
        jurisdiction_id=demo.scalars(select(Catalog.jurisdiction_id)).one(),
    )  # fmt: skip
    demo.commit()
    with pytest.raises(Conflict, match="预览已失效"):
        into_draft.apply_upload(
            demo, draft.id, token=good.token, scope=ImportScope.ADD_UPDATE, actor=finance,
            catalogs_dir=CATALOGS,
        )  # fmt: skip
    row = demo.scalars(select(DraftImport)).one()
    row.data = b"another file"
    demo.commit()
    with pytest.raises(Conflict, match="文件在预览之后已改变"):
        into_draft.apply_upload(
            demo, draft.id, token=good.token, scope=ImportScope.ADD_UPDATE, actor=clerk,
            catalogs_dir=CATALOGS,
        )  # fmt: skip
    with pytest.raises(NotFound):
        undo.undo_import(demo, draft.id, row.id, lock=None, actor=clerk)  # never applied


def test_only_a_departments_draft_takes_an_upload(demo: Session) -> None:
    finance_draft = drafts.create_draft(demo, "shifanshi", actor=SYSTEM)
    with pytest.raises(InvalidInput, match="只有部门的草稿"):
        into_draft.preview_upload(
            demo, finance_draft.id, data=department_xlsx("新增", [BATHING]), filename="x.xlsx", actor=SYSTEM,
            catalogs_dir=CATALOGS,
        )  # fmt: skip


def test_the_api_path_applies_at_once_on_the_version_it_names(demo: Session) -> None:
    draft, clerk, _ = edited_draft(demo)
    data = department_xlsx("民政局新增", [BATHING])
    with pytest.raises(Conflict):
        into_draft.import_into_draft(
            demo, draft.id, data=data, filename="x.xlsx", lock=1, actor=clerk, catalogs_dir=CATALOGS
        )
    done = into_draft.import_into_draft(
        demo, draft.id, data=data, filename="x.xlsx", lock=2, actor=clerk, catalogs_dir=CATALOGS
    )
    assert done.import_id is not None
    assert done.lock_version == 3
    assert draft_store.load_changes(demo, draft.id)
    assert len(own_items(demo, draft.id)) == 109
