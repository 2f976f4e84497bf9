"""Diffs computed from changed revisions only must equal diffs of whole versions; item history; as-of."""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalog.nodes import Level, NodeState
from app.db import store
from app.db.models import Catalog, Version
from app.errors import NotFound
from app.services.catalogs import authoring as catalogs
from app.services.catalogs import history
from app.services.catalogs.authoring import stable_uid
from app.services.drafts import changes as draft_changes
from app.services.drafts import items as draft_items
from app.services.drafts import lifecycle as drafts
from app.versioning.diff import diff
from tests.factories import CATALOGS, SYSTEM, Built


def _demo(session: Session) -> tuple[Catalog, Version, Version]:
    catalog = session.scalars(select(Catalog).where(Catalog.slug == "shifanshi")).one()
    v1, v2 = session.scalars(select(Version).order_by(Version.seq)).all()
    return catalog, v1, v2


def _full(session: Session, catalog: Catalog, seq: int) -> dict[str, object]:
    return {u: n.state for u, n in store.load_version(session, catalog.id, seq).items()}


def test_version_diff_reads_only_changes_yet_equals_the_whole_diff(demo_session: Session) -> None:
    catalog, v1, v2 = _demo(demo_session)
    whole = diff(_full(demo_session, catalog, 1), _full(demo_session, catalog, 2))  # type: ignore[arg-type]
    partial = history.compare_versions(demo_session, catalog, v1, v2)
    assert partial.changes == whole
    text = (CATALOGS / "demo" / "changes-2025.csv").read_text(encoding="utf-8")
    changed_keys = {row["key"] for row in csv.DictReader(text.splitlines())}
    assert {c.uid for c in whole} == {stable_uid("shifanshi", "item", key) for key in changed_keys}
    backwards = history.compare_versions(demo_session, catalog, v2, v1)
    assert backwards.changes == diff(_full(demo_session, catalog, 2), _full(demo_session, catalog, 1))  # type: ignore[arg-type]
    assert len(partial.before.keys() | partial.after.keys()) < 300  # not the 1,800 nodes of a version


def _next_version(session: Session, built: Built, states: dict[str, NodeState]) -> Version:
    version = catalogs.open_next_version(session, built.catalog, "调整")
    current = store.load_version(session, built.catalog.id, version.seq)
    catalogs.write_states(session, built.catalog, version.seq, states, current)
    version.status = "published"
    session.commit()
    return version


def test_version_diff_over_several_versions_equals_the_whole_diff_both_ways(session: Session) -> None:
    from tests.factories import ELDERLY, published_catalog

    built = published_catalog(session, ELDERLY)
    one = dict(built.states)
    i1, i2, i3, i4 = (built.uid(k) for k in ("i1", "i2", "i3", "i4"))
    meal = NodeState(
        "added-in-two", built.type_uid("A06"), Level.ITEM, "A06009", "老年助餐服务", department="101"
    )
    two = {u: s for u, s in one.items() if u != i4} | {
        i1: replace(one[i1], name="社区居家养老上门服务"),
        i2: replace(one[i2], parent=built.type_uid("A05"), code="A05009", sort_key=90),
        meal.uid: meal,
    }
    three = {u: s for u, s in two.items() if u != meal.uid} | {
        i1: one[i1],  # renamed back: touched between 1 and 3, yet the same in both
        i3: replace(one[i3], description="课后托管。"),
    }
    versions = [built.versions[0], _next_version(session, built, two), _next_version(session, built, three)]
    for a in versions:
        for b in versions:
            compared = history.compare_versions(session, built.catalog, a, b)
            whole_a, whole_b = _full(session, built.catalog, a.seq), _full(session, built.catalog, b.seq)
            assert compared.changes == diff(whole_a, whole_b), (a.seq, b.seq)  # type: ignore[arg-type]
            for change in compared.changes:
                assert compared.before.get(change.uid) == whole_a.get(change.uid)
                assert compared.after.get(change.uid) == whole_b.get(change.uid)
    assert {
        c.uid for c in history.compare_versions(session, built.catalog, versions[0], versions[2]).changes
    } == {
        i2,
        i3,
        i4,
    }


def test_change_rows_group_each_node_once(demo_session: Session) -> None:
    catalog, v1, v2 = _demo(demo_session)
    rows = history.rows(history.compare_versions(demo_session, catalog, v1, v2))
    by_kind: dict[str, int] = {}
    for row in rows:
        for kind in row.kinds:
            by_kind[kind] = by_kind.get(kind, 0) + 1
    assert by_kind["新增"] == 56
    assert by_kind["撤销"] == 23
    assert by_kind["移动"] == 18
    assert by_kind["更名"] >= 20
    renamed = next(r for r in rows if r.uid == stable_uid("shifanshi", "item", "i0032"))
    assert renamed.old is not None
    assert renamed.new is not None
    assert (renamed.old.name, renamed.new.name) == ("义务教育阶段课后服务", "义务教育阶段课后延时服务")
    assert set(renamed.fields) == {"名称", "说明"}
    assert len({r.uid for r in rows}) == len(rows)


def test_draft_diff_equals_the_diff_of_its_whole_snapshot(session: Session) -> None:
    from tests.factories import ELDERLY, published_catalog

    built = published_catalog(session, ELDERLY)
    draft = drafts.create_draft(session, "ceshi", actor=SYSTEM)
    draft_items.move_item(
        session, draft.id, built.uid("i1"), parent=built.type_uid("A05"), lock=1, actor=SYSTEM
    )
    draft_items.edit_item(session, draft.id, built.uid("i2"), name="养老机构评估", lock=2, actor=SYSTEM)
    draft_items.withdraw_item(session, draft.id, built.uid("i4"), lock=3, actor=SYSTEM)
    draft_items.add_item(
        session,
        draft.id,
        parent=built.type_uid("A06"),
        name="老年助餐服务点运营",
        department="101",
        lock=4,
        actor=SYSTEM,
    )
    compared = history.compare_draft(session, draft)
    assert compared.changes == diff(built.states, draft_changes.snapshot(session, draft))
    labels = {r.new.name if r.new else r.old.name if r.old else "": r.label for r in history.rows(compared)}
    assert labels == {
        "社区居家养老服务": "移动",
        "助餐服务": "重新编号",  # its 四级 sub-item follows it to the new type
        "养老机构评估": "更名",
        "政府法律顾问服务": "撤销",
        "老年助餐服务点运营": "新增",
    }


def test_item_history_across_public_versions(demo_session: Session) -> None:
    catalog, _, _ = _demo(demo_session)
    entries = history.item_history(demo_session, catalog, stable_uid("shifanshi", "item", "i0032"))
    assert [(e.version.seq, e.kinds) for e in entries] == [(1, ("新增",)), (2, ("更名",))]
    added_2025 = history.item_history(demo_session, catalog, stable_uid("shifanshi", "item", "i1775"))
    assert [(e.version.seq, e.kinds) for e in added_2025] == [(2, ("新增",))]
    with pytest.raises(NotFound):
        history.item_history(demo_session, catalog, "nonexistent")


@pytest.mark.parametrize(
    ("day", "seq"),
    [(date(2024, 3, 22), 1), (date(2024, 12, 31), 1), (date(2025, 3, 21), 2), (date(2026, 11, 21), 2)],
)
def test_as_of_finds_the_version_current_that_day(demo_session: Session, day: date, seq: int) -> None:
    catalog, _, _ = _demo(demo_session)
    assert history.version_as_of(demo_session, catalog, day).seq == seq


def test_as_of_before_any_publication_is_not_found(demo_session: Session) -> None:
    catalog, _, _ = _demo(demo_session)
    with pytest.raises(NotFound, match="尚未公开任何版本"):
        history.version_as_of(demo_session, catalog, date(2024, 3, 21))
