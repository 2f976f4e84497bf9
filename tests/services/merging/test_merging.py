"""Merging approved drafts into the next version: field-level auto-merge, stored conflicts, all or nothing."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.catalog.nodes import NodeState
from app.db import store
from app.db.models import Draft, NodeRevision, Version
from app.errors import InvalidTransition
from app.services.catalogs import authoring as catalogs
from app.services.drafts import items as draft_items
from app.services.drafts import lifecycle as drafts
from app.services.merging import conflicts as merge_conflicts
from app.services.merging import merge as merging
from app.services.merging import resolution
from app.services.versions import lifecycle as versions
from tests.factories import ELDERLY, SYSTEM, Built, issuer, published_catalog


@pytest.fixture
def built(session: Session) -> Built:
    return published_catalog(session, ELDERLY)


def approve(session: Session, draft: Draft) -> None:
    draft.status = "approved"  # the workflow's approve step, which has its own tests
    session.commit()


def states(session: Session, built: Built, seq: int) -> dict[str, NodeState]:
    return {u: n.state for u, n in store.load_version(session, built.catalog.id, seq).items()}


def edited(session: Session, built: Built, key: str, **fields: str) -> Draft:
    draft = drafts.create_draft(session, "ceshi", actor=SYSTEM)
    draft_items.edit_item(session, draft.id, built.uid(key), lock=1, actor=SYSTEM, **fields)
    approve(session, draft)
    return draft


def test_merge_writes_the_next_version_and_leaves_the_published_one_alone(
    session: Session, built: Built
) -> None:
    before = states(session, built, 1)
    draft = edited(session, built, "i1", name="社区居家养老上门服务")
    outcome = merging.merge_draft(session, draft.id, actor=SYSTEM)
    assert (outcome.merged, outcome.version.seq, outcome.version.status) == (True, 2, "assembling")
    assert states(session, built, 1) == before
    assert states(session, built, 2)[built.uid("i1")].name == "社区居家养老上门服务"
    assert session.get_one(Draft, draft.id).status == "merged"
    with pytest.raises(InvalidTransition, match="只有审核通过的草稿才能合并"):
        merging.merge_draft(session, draft.id, actor=SYSTEM)


def test_different_fields_of_one_node_merge_field_by_field(session: Session, built: Built) -> None:
    first = edited(session, built, "i2", name="养老机构服务质量第三方评估")
    second = edited(session, built, "i2", description="每年对全市养老机构开展一次评估。")
    assert merging.merge_draft(session, first.id, actor=SYSTEM).merged
    assert merging.merge_draft(session, second.id, actor=SYSTEM).merged
    merged = states(session, built, 2)[built.uid("i2")]
    assert (merged.name, merged.description) == (
        "养老机构服务质量第三方评估",
        "每年对全市养老机构开展一次评估。",
    )


def test_same_field_two_ways_is_a_stored_conflict_until_resolved(session: Session, built: Built) -> None:
    first = edited(session, built, "i1", name="社区居家养老上门服务")
    second = edited(session, built, "i1", name="居家养老综合服务")
    merging.merge_draft(session, first.id, actor=SYSTEM)
    blocked = merging.merge_draft(session, second.id, actor=SYSTEM)
    assert not blocked.merged
    [conflict] = blocked.conflicts
    assert (conflict.uid, conflict.field, conflict.kind) == (built.uid("i1"), "name", "same_field")
    assert (conflict.base, conflict.ours, conflict.theirs) == (
        "社区居家养老服务",
        "社区居家养老上门服务",
        "居家养老综合服务",
    )
    assert states(session, built, 2)[built.uid("i1")].name == "社区居家养老上门服务"  # nothing written
    resolution.decide(session, second.id, conflict.id, take="theirs", actor=SYSTEM)
    done = merging.merge_draft(session, second.id, actor=SYSTEM)
    assert done.merged
    assert states(session, built, 2)[built.uid("i1")].name == "居家养老综合服务"


def test_a_conflict_keeps_its_id_from_one_blocked_attempt_to_the_next(session: Session, built: Built) -> None:
    first = edited(session, built, "i1", name="社区居家养老上门服务", description="上门提供助餐服务。")
    second = edited(session, built, "i1", name="居家养老综合服务", description="提供助餐、助洁服务。")
    merging.merge_draft(session, first.id, actor=SYSTEM)
    before = {(c.field, c.id) for c in merging.merge_draft(session, second.id, actor=SYSTEM).conflicts}
    assert {f for f, _ in before} == {"name", "description"}
    settled, left_open = max(before, key=lambda fi: fi[1]), min(before, key=lambda fi: fi[1])
    resolution.decide(session, second.id, settled[1], take="theirs", actor=SYSTEM)
    again = merging.merge_draft(session, second.id, actor=SYSTEM)  # still blocked: one is open
    assert not again.merged
    assert [(c.field, c.id) for c in again.conflicts] == [left_open]  # not a new row with a new id
    assert {(c.field, c.id, c.resolution) for c in merge_conflicts.conflicts(session, second.id)} == {
        (*settled, "theirs"),
        (*left_open, None),
    }


def test_an_edited_resolution_is_used(session: Session, built: Built) -> None:
    first = edited(session, built, "i1", name="社区居家养老上门服务")
    second = edited(session, built, "i1", name="居家养老综合服务")
    merging.merge_draft(session, first.id, actor=SYSTEM)
    [conflict] = merging.merge_draft(session, second.id, actor=SYSTEM).conflicts
    resolution.decide(
        session, second.id, conflict.id, take="edit", value="社区居家养老综合服务", actor=SYSTEM
    )
    assert merging.merge_draft(session, second.id, actor=SYSTEM).merged
    assert states(session, built, 2)[built.uid("i1")].name == "社区居家养老综合服务"


def test_edit_versus_withdraw_is_a_conflict(session: Session, built: Built) -> None:
    withdraw = drafts.create_draft(session, "ceshi", actor=SYSTEM)
    draft_items.withdraw_item(session, withdraw.id, built.uid("i2"), lock=1, actor=SYSTEM)
    approve(session, withdraw)
    edit = edited(session, built, "i2", name="养老机构服务质量第三方评估")
    assert merging.merge_draft(session, withdraw.id, actor=SYSTEM).merged
    [conflict] = merging.merge_draft(session, edit.id, actor=SYSTEM).conflicts
    assert conflict.kind == "edit_delete"
    resolution.decide(session, edit.id, conflict.id, take="ours", actor=SYSTEM)
    assert merging.merge_draft(session, edit.id, actor=SYSTEM).merged
    assert built.uid("i2") not in states(session, built, 2)


def test_two_new_items_never_share_a_code(session: Session, built: Built) -> None:
    one, two = (drafts.create_draft(session, "ceshi", actor=SYSTEM) for _ in range(2))
    for draft, name in ((one, "老年助餐服务点运营"), (two, "老年人能力评估服务")):
        draft_items.add_item(
            session, draft.id, parent=built.type_uid("A06"), name=name, department="101", lock=1, actor=SYSTEM
        )
        approve(session, draft)
    assert merging.merge_draft(session, one.id, actor=SYSTEM).merged
    outcome = merging.merge_draft(session, two.id, actor=SYSTEM)
    assert (outcome.merged, outcome.conflicts) == (True, [])  # its provisional A06003 was taken
    codes = sorted(s.code for s in states(session, built, 2).values() if s.parent == built.type_uid("A06"))
    assert codes == ["A06001", "A06002", "A06003", "A06004"]
    [change] = merging.code_changes(session, session.get_one(Draft, two.id))
    assert (change.name, change.provisional, change.final) == ("老年人能力评估服务", "A06003", "A06004")
    assert [(r.provisional, r.final) for r in outcome.renumbered] == [("A06003", "A06004")]


def test_a_renumbered_item_takes_a_code_after_every_one_the_head_holds(
    session: Session, built: Built
) -> None:
    one, two = (drafts.create_draft(session, "ceshi", actor=SYSTEM) for _ in range(2))
    for n, name in enumerate(("老年助餐服务点运营", "老年人能力评估服务", "老年助浴服务"), start=1):
        draft_items.add_item(
            session, one.id, parent=built.type_uid("A06"), name=name, department="101", lock=n, actor=SYSTEM
        )
    draft_items.add_item(
        session,
        two.id,
        parent=built.type_uid("A06"),
        name="老年人防诈骗宣传",
        department="101",
        lock=1,
        actor=SYSTEM,
    )
    for draft in (one, two):
        approve(session, draft)
    assert merging.merge_draft(session, one.id, actor=SYSTEM).merged  # A06003, A06004, A06005
    outcome = merging.merge_draft(session, two.id, actor=SYSTEM)
    assert [(r.provisional, r.final) for r in outcome.renumbered] == [("A06003", "A06006")]
    codes = [s.code for s in states(session, built, 2).values() if s.parent == built.type_uid("A06")]
    assert sorted(codes) == ["A06001", "A06002", "A06003", "A06004", "A06005", "A06006"]


def test_a_merge_is_all_or_nothing(session: Session, built: Built, monkeypatch: pytest.MonkeyPatch) -> None:
    draft = drafts.create_draft(session, "ceshi", actor=SYSTEM)
    draft_items.edit_item(
        session, draft.id, built.uid("i1"), name="社区居家养老上门服务", lock=1, actor=SYSTEM
    )
    draft_items.withdraw_item(session, draft.id, built.uid("i3"), lock=2, actor=SYSTEM)
    approve(session, draft)
    revisions = session.scalar(select(func.count()).select_from(NodeRevision))

    def fail_after_closing(*_args: object, **_kwargs: object) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(catalogs.store, "insert_revisions", fail_after_closing)
    with pytest.raises(RuntimeError):
        merging.merge_draft(session, draft.id, actor=SYSTEM)
    session.rollback()
    monkeypatch.undo()
    assert session.scalar(select(func.count()).select_from(NodeRevision)) == revisions
    assert session.get_one(Draft, draft.id).status == "approved"
    assert states(session, built, 1) == built.states
    assert merging.merge_draft(session, draft.id, actor=SYSTEM).merged


def test_a_draft_opened_on_the_assembling_version_keeps_its_base(session: Session, built: Built) -> None:
    merging.merge_draft(session, edited(session, built, "i1", name="社区居家养老上门服务").id, actor=SYSTEM)
    late = edited(
        session, built, "i1", description="上门提供助餐、助洁服务。"
    )  # based on version 2, assembling
    merging.merge_draft(session, edited(session, built, "i1", name="社区居家养老助餐服务").id, actor=SYSTEM)
    outcome = merging.merge_draft(session, late.id, actor=SYSTEM)
    assert outcome.merged  # its base revision was superseded in version 2, not lost
    merged = states(session, built, 2)[built.uid("i1")]
    assert (merged.name, merged.description) == ("社区居家养老助餐服务", "上门提供助餐、助洁服务。")
    assert states(session, built, 1) == built.states


def test_issued_versions_are_fixed_and_the_next_merge_opens_a_new_one(session: Session, built: Built) -> None:
    merging.merge_draft(session, edited(session, built, "i1", name="社区居家养老上门服务").id, actor=SYSTEM)
    versions.issue(
        session,
        "ceshi",
        2,
        doc_number="测财购[2026]3号",
        on=date(2026, 3, 2),
        today=date(2026, 3, 2),
        actor=issuer(session),
    )
    v2 = states(session, built, 2)
    assert session.scalars(select(Version).where(Version.seq == 2)).one().doc_number == "测财购〔2026〕3号"
    outcome = merging.merge_draft(
        session, edited(session, built, "i1", name="居家养老综合服务").id, actor=SYSTEM
    )
    assert (outcome.merged, outcome.version.seq) == (True, 3)
    assert states(session, built, 2) == v2
    with pytest.raises(InvalidTransition, match="已印发"):
        catalogs.write_states(session, built.catalog, 2, {}, store.load_version(session, built.catalog.id, 2))


def test_rebase_moves_clean_changes_and_keeps_conflicts(session: Session, built: Built) -> None:
    mine = drafts.create_draft(session, "ceshi", actor=SYSTEM)
    draft_items.edit_item(session, mine.id, built.uid("i1"), name="居家养老综合服务", lock=1, actor=SYSTEM)
    draft_items.edit_item(
        session, mine.id, built.uid("i2"), description="每年评估一次。", lock=2, actor=SYSTEM
    )
    other = drafts.create_draft(session, "ceshi", actor=SYSTEM)
    draft_items.edit_item(
        session, other.id, built.uid("i1"), name="社区居家养老上门服务", lock=1, actor=SYSTEM
    )
    draft_items.edit_item(session, other.id, built.uid("i2"), name="养老机构评估", lock=2, actor=SYSTEM)
    approve(session, other)
    merging.merge_draft(session, other.id, actor=SYSTEM)
    kept = merging.rebase(session, mine.id, actor=SYSTEM)
    view = drafts.open_draft(session, mine.id, actor=SYSTEM)
    assert view.base.seq == 2
    assert [(c.uid, c.field, c.kind) for c in kept] == [(built.uid("i1"), "name", "same_field")]
    clean = next(c for c in view.changes if c.uid == built.uid("i2"))
    assert clean.base is not None
    assert clean.proposed is not None
    assert (clean.base.name, clean.proposed.name, clean.proposed.description) == (
        "养老机构评估",
        "养老机构评估",
        "每年评估一次。",
    )


def test_revert_undoes_a_merged_draft(session: Session, built: Built) -> None:
    draft = drafts.create_draft(session, "ceshi", actor=SYSTEM)
    draft_items.edit_item(
        session, draft.id, built.uid("i1"), name="社区居家养老上门服务", lock=1, actor=SYSTEM
    )
    draft_items.withdraw_item(session, draft.id, built.uid("i3"), lock=2, actor=SYSTEM)
    added = draft_items.add_item(
        session,
        draft.id,
        parent=built.type_uid("A06"),
        name="老年助餐服务点运营",
        department="101",
        lock=3,
        actor=SYSTEM,
    )
    approve(session, draft)
    merging.merge_draft(session, draft.id, actor=SYSTEM)
    revert = merging.revert_draft(session, draft.id, actor=SYSTEM)
    assert revert.reverts_draft_id == draft.id
    approve(session, revert)
    assert merging.merge_draft(session, revert.id, actor=SYSTEM).merged
    after = states(session, built, 2)
    assert after == built.states
    assert added.uid not in after


def test_a_merge_labels_the_version_it_opens_by_the_beijing_year(session: Session, built: Built) -> None:
    year = datetime.now(ZoneInfo("Asia/Shanghai")).year
    first = merging.merge_draft(
        session, edited(session, built, "i1", name="社区居家养老上门服务").id, actor=SYSTEM
    )
    assert first.version.label == f"{year}年版"
    versions.issue(
        session,
        "ceshi",
        2,
        doc_number="测财购[2026]3号",
        on=date(2026, 3, 2),
        today=date(2026, 3, 2),
        actor=issuer(session),
    )
    second = merging.merge_draft(
        session, edited(session, built, "i1", name="居家养老综合服务").id, actor=SYSTEM
    )
    assert (second.version.seq, second.version.label) == (3, f"{year}年第1次修订版")


def test_the_default_label_skips_the_labels_the_catalog_has(session: Session, built: Built) -> None:
    assert merging.default_label(session, built.catalog, today=date(2024, 5, 1)) == "2024年第1次修订版"
    assert merging.default_label(session, built.catalog, today=date(2031, 1, 1)) == "2031年版"


def test_an_explicit_label_is_kept(session: Session, built: Built) -> None:
    draft = edited(session, built, "i1", name="社区居家养老上门服务")
    outcome = merging.merge_draft(session, draft.id, actor=SYSTEM, label="2026年动态调整")
    assert outcome.version.label == "2026年动态调整"
