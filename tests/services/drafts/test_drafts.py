"""Drafts as change sets over a real database: instant, one change per node, stale writes refused."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.catalog.nodes import Level
from app.db.models import AuditEvent, DraftChange, NodeRevision
from app.errors import Conflict, InvalidInput, InvalidTransition
from app.services.drafts import changes as draft_changes
from app.services.drafts import items as draft_items
from app.services.drafts import lifecycle as drafts
from tests.factories import ELDERLY, SYSTEM, Built, published_catalog


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def built(session: Session) -> Built:
    return published_catalog(session, ELDERLY)


def test_creating_a_draft_copies_nothing(session: Session, built: Built) -> None:
    revisions = _count(session, NodeRevision)
    draft = drafts.create_draft(session, "ceshi", actor=SYSTEM, department="101", title="2026年调整")
    view = drafts.open_draft(session, draft.id, actor=SYSTEM)
    assert (view.base.seq, view.changes, draft.status, draft.lock_version) == (1, [], "editing", 1)
    assert _count(session, NodeRevision) == revisions
    assert draft_changes.snapshot(session, draft) == built.states


def test_add_edit_twice_keeps_one_change_and_editing_back_drops_it(session: Session, built: Built) -> None:
    draft = drafts.create_draft(session, "ceshi", actor=SYSTEM, department="101")
    added = draft_items.add_item(
        session,
        draft.id,
        parent=built.type_uid("A06"),
        name="老年助餐服务点运营",
        description="运营社区老年助餐点。",
        department="101",
        lock=1,
        actor=SYSTEM,
    )
    assert (added.code, added.level, added.department) == ("A06003", Level.ITEM, "101")
    uid = built.uid("i2")
    draft_items.edit_item(session, draft.id, uid, name="养老机构服务质量第三方评估", lock=2, actor=SYSTEM)
    draft_items.edit_item(
        session, draft.id, uid, description="每年对养老机构开展一次评估。", lock=3, actor=SYSTEM
    )
    view = drafts.open_draft(session, draft.id, actor=SYSTEM)
    assert sorted((c.kind, c.uid) for c in view.changes) == sorted([("add", added.uid), ("update", uid)])
    changed = next(c for c in view.changes if c.uid == uid)
    assert changed.proposed is not None
    assert (changed.proposed.name, changed.proposed.description) == (
        "养老机构服务质量第三方评估",
        "每年对养老机构开展一次评估。",
    )
    original = built.states[uid]
    draft_items.edit_item(
        session, draft.id, uid, name=original.name, description=original.description, lock=4, actor=SYSTEM
    )
    assert [c.uid for c in drafts.open_draft(session, draft.id, actor=SYSTEM).changes] == [added.uid]
    assert _count(session, DraftChange) == 1
    assert (
        session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action.like("draft.%")))
        == 5
    )


def test_a_stale_write_is_a_conflict_not_an_overwrite(session: Session, built: Built) -> None:
    draft = drafts.create_draft(session, "ceshi", actor=SYSTEM)
    draft_items.edit_item(
        session, draft.id, built.uid("i1"), name="社区居家养老上门服务", lock=1, actor=SYSTEM
    )
    with pytest.raises(Conflict, match="已被他人修改"):
        draft_items.edit_item(session, draft.id, built.uid("i1"), name="另一个名字", lock=1, actor=SYSTEM)
    session.rollback()
    proposed = drafts.open_draft(session, draft.id, actor=SYSTEM).changes[0].proposed
    assert proposed is not None
    assert proposed.name == "社区居家养老上门服务"


def test_move_recodes_the_item_and_its_subitems(session: Session, built: Built) -> None:
    draft = drafts.create_draft(session, "ceshi", actor=SYSTEM)
    moved = draft_items.move_item(
        session, draft.id, built.uid("i1"), parent=built.type_uid("A05"), lock=1, actor=SYSTEM
    )
    assert (moved.parent, moved.code) == (built.type_uid("A05"), "A05001")
    snapshot = draft_changes.snapshot(session, draft)
    assert snapshot[built.uid("i5")].code == "A0500101"
    kinds = {c.uid: c.kind for c in drafts.open_draft(session, draft.id, actor=SYSTEM).changes}
    assert kinds == {built.uid("i1"): "move", built.uid("i5"): "update"}
    with pytest.raises(InvalidInput, match="三级目录只能移到二级目录下"):
        draft_items.move_item(
            session, draft.id, built.uid("i2"), parent=built.uid("i3"), lock=2, actor=SYSTEM
        )


def test_withdraw_takes_subitems_along_and_discard_restores(session: Session, built: Built) -> None:
    draft = drafts.create_draft(session, "ceshi", actor=SYSTEM)
    draft_items.withdraw_item(session, draft.id, built.uid("i1"), lock=1, actor=SYSTEM)
    snapshot = draft_changes.snapshot(session, draft)
    assert built.uid("i1") not in snapshot
    assert built.uid("i5") not in snapshot
    draft_items.discard_change(session, draft.id, built.uid("i1"), lock=2, actor=SYSTEM)
    draft_items.discard_change(session, draft.id, built.uid("i5"), lock=3, actor=SYSTEM)
    assert draft_changes.snapshot(session, draft) == built.states
    with pytest.raises(InvalidInput, match="一级、二级目录由财政部门维护"):
        draft_items.withdraw_item(session, draft.id, built.type_uid("A06"), lock=4, actor=SYSTEM)


def test_reorder_within_a_type(session: Session, built: Built) -> None:
    draft = drafts.create_draft(session, "ceshi", actor=SYSTEM)
    order = [built.uid("i2"), built.uid("i1")]
    draft_items.reorder(session, draft.id, built.type_uid("A06"), order, lock=1, actor=SYSTEM)
    snapshot = draft_changes.snapshot(session, draft)
    children = sorted(
        (s for s in snapshot.values() if s.parent == built.type_uid("A06")), key=lambda s: s.sort_key
    )
    assert [s.uid for s in children] == order
    with pytest.raises(InvalidInput, match="恰好包含"):
        draft_items.reorder(session, draft.id, built.type_uid("A06"), [built.uid("i2")], lock=2, actor=SYSTEM)


def test_a_department_reorders_its_own_items_where_it_shares_a_type(session: Session) -> None:
    from app.db.models import Department
    from app.services.people import accounts as people
    from tests.factories import Item

    other = Item("j1", "A06", "老年人教育培训服务", "102", "为老年人开设课程。")
    built = published_catalog(session, [*ELDERLY, other])
    dept = session.scalars(select(Department).where(Department.code == "101")).one()
    editor = people.add_user(
        session,
        username="minzheng",
        password="password-1",
        role="dept_editor",
        jurisdiction_id=built.catalog.jurisdiction_id,
        department_id=dept.id,
    )
    session.commit()
    a06 = built.type_uid("A06")
    before = {s.uid: s.sort_key for s in built.states.values() if s.parent == a06}
    draft = drafts.create_draft(session, "ceshi", actor=editor)
    with pytest.raises(InvalidInput, match="本部门"):  # 教育局's item is not 民政局's to place
        draft_items.reorder(
            session, draft.id, a06, [built.uid("i2"), built.uid("j1"), built.uid("i1")], lock=1, actor=editor
        )
    session.rollback()  # as the request that failed would
    draft_items.reorder(session, draft.id, a06, [built.uid("i2"), built.uid("i1")], lock=1, actor=editor)
    after = {s.uid: s.sort_key for s in draft_changes.snapshot(session, draft).values() if s.parent == a06}
    assert after[built.uid("j1")] == before[built.uid("j1")]  # the other department's place is kept
    assert after[built.uid("i2")] == before[built.uid("i1")]
    assert after[built.uid("i1")] == before[built.uid("i2")]


@pytest.mark.parametrize(
    ("name", "description", "message"),
    [
        ("   ", "", "名称不能为空"),
        ("长" * 101, "", "名称过长：101 个字符，最多 100 个"),
        ("x服务", "长" * 1001, "服务内容过长"),
        ("社区居家养老服务", "", "同一目录、同一部门下已有“社区居家养老服务”"),
    ],
)
def test_bad_items_are_refused_with_a_reason(
    session: Session, built: Built, name: str, description: str, message: str
) -> None:
    draft = drafts.create_draft(session, "ceshi", actor=SYSTEM)
    with pytest.raises(InvalidInput, match=message):
        draft_items.add_item(
            session,
            draft.id,
            parent=built.type_uid("A06"),
            name=name,
            description=description,
            department="101",
            lock=1,
            actor=SYSTEM,
        )


def test_a_submitted_draft_cannot_be_edited(session: Session, built: Built) -> None:
    draft = drafts.create_draft(session, "ceshi", actor=SYSTEM)
    draft.status = "submitted"
    session.commit()
    with pytest.raises(InvalidTransition, match="不能修改"):
        draft_items.edit_item(session, draft.id, built.uid("i1"), name="x服务", lock=1, actor=SYSTEM)


def test_opening_a_page_counts_every_kind_and_pages_through_the_same_changes(
    session: Session, built: Built
) -> None:
    draft = drafts.create_draft(session, "ceshi", actor=SYSTEM)
    draft_items.move_item(
        session, draft.id, built.uid("i1"), parent=built.type_uid("A05"), lock=1, actor=SYSTEM
    )
    draft_items.edit_item(session, draft.id, built.uid("i2"), name="养老机构评估", lock=2, actor=SYSTEM)
    draft_items.withdraw_item(session, draft.id, built.uid("i4"), lock=3, actor=SYSTEM)
    draft_items.add_item(
        session, draft.id, parent=built.type_uid("A06"), name="老年助餐服务点运营", lock=4, actor=SYSTEM
    )
    whole = drafts.open_draft(session, draft.id, actor=SYSTEM)
    expected = drafts.KindCounts(add=1, update=2, move=1, delete=1)
    assert (whole.counts, whole.next_after) == (expected, None)
    pages, after = [], None
    while True:
        page = drafts.open_draft(session, draft.id, limit=2, after=after, actor=SYSTEM)
        assert page.counts == expected  # the whole draft's counts on every page
        assert len(page.changes) <= 2
        pages.append(page.changes)
        if page.next_after is None:
            break
        after = page.next_after
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [c for p in pages for c in p] == whole.changes
    exact = drafts.open_draft(session, draft.id, limit=5, actor=SYSTEM)
    assert (exact.changes, exact.next_after) == (whole.changes, None)
    with pytest.raises(InvalidInput, match="每页条数至少为 1"):
        drafts.open_draft(session, draft.id, limit=0, actor=SYSTEM)
