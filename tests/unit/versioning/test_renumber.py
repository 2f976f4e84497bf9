"""Provisional codes: a draft's new items take the next free codes where the head holds theirs."""

from __future__ import annotations

from dataclasses import replace

from app.catalog.codes import CodeScheme
from app.catalog.nodes import Level, NodeState
from app.versioning.merge import merge
from app.versioning.renumber import Renumbering
from app.versioning.resolve import Edit, resolve
from tests.unit.versioning.test_merge import BASE, BATH, ELDER_TO_SOCIAL, MEAL, add, edit, node, problems

SHOWER = node("i-shower", "t-elder", "A05004", "老年助洁服务", department="民政局")
BATH_VISIT = node("i-bath-visit", "i-bath", "A0500301", "上门助浴", department="民政局")


def test_two_departments_adding_under_one_type_both_merge_and_the_second_is_renumbered() -> None:
    result = merge(BASE, add(MEAL)(BASE), add(BATH)(BASE))
    assert result.conflicts == ()
    assert result.merged["i-meal"].code == "A05003"
    assert result.merged["i-bath"].code == "A05004"
    assert result.code_changes == (Renumbering("i-bath", "A05003", "A05004"),)
    assert problems(result.merged) == []


def test_a_drafts_new_items_keep_their_order_after_the_heads() -> None:
    head_added = add(MEAL, SHOWER)  # another department's two items, merged first: A05003, A05004
    ours_new = [
        replace(BATH, uid=f"i-new{n}", name=f"新增服务{n}", code=f"A0500{n}") for n in (3, 4, 5)
    ]  # this draft's three, proposed as A05003..A05005
    result = merge(BASE, head_added(BASE), add(*ours_new)(BASE))
    assert result.conflicts == ()
    assert [result.merged[f"i-new{n}"].code for n in (3, 4, 5)] == ["A05005", "A05006", "A05007"]
    assert len(result.code_changes) == 3


def test_a_new_items_sub_items_follow_it() -> None:
    result = merge(BASE, add(MEAL)(BASE), add(BATH, BATH_VISIT)(BASE))
    assert (result.merged["i-bath"].code, result.merged["i-bath-visit"].code) == ("A05004", "A0500401")
    assert [r.uid for r in result.code_changes] == ["i-bath", "i-bath-visit"]
    assert problems(result.merged) == []


def test_an_item_moved_onto_a_code_the_head_gave_out_takes_the_next_one() -> None:
    result = merge(BASE, add(MEAL)(BASE), edit("i-after", parent="t-elder", code="A05003")(BASE))
    assert result.conflicts == ()
    assert result.merged["i-after"].code == "A05004"


def test_a_new_item_under_a_type_the_head_renumbered_keeps_its_suffix() -> None:
    result = merge(BASE, ELDER_TO_SOCIAL(BASE), add(MEAL)(BASE))
    assert result.conflicts == ()
    assert result.merged["i-meal"].code == "B03003"
    assert result.code_changes == (Renumbering("i-meal", "A05003", "B03003"),)


def test_no_renumbering_when_nothing_clashes() -> None:
    result = merge(BASE, add(replace(MEAL, parent="t-edu", code="A01002"))(BASE), add(BATH)(BASE))
    assert result.code_changes == ()
    assert result.merged["i-bath"].code == "A05003"


def test_codes_follow_the_catalogs_scheme() -> None:
    shanxi = CodeScheme.parse("A/01/01/01")
    assert str(shanxi) == "A/01/01/01"
    two = {
        uid: replace(s, code=s.code[:3] + s.code[4:]) if s.level is Level.ITEM else s
        for uid, s in BASE.items()
    }  # A05001 → A0501
    meal, bath = replace(MEAL, code="A0503"), replace(BATH, code="A0503")
    result = merge(two, add(meal)(two), add(bath)(two), scheme=shanxi)
    assert result.merged["i-bath"].code == "A0504"
    assert result.conflicts == ()


def test_a_renumbered_item_held_back_is_reported_once_a_resolution_writes_it() -> None:
    same_name = replace(BATH, name=MEAL.name)
    result = merge(BASE, add(MEAL)(BASE), add(same_name)(BASE))
    assert [c.uid for c in result.conflicts] == ["i-bath"]
    assert result.code_changes == ()  # held back: not written, so not reported
    (conflict,) = result.conflicts
    assert isinstance(conflict.theirs, NodeState)
    renamed = resolve(result, {("i-bath", None): Edit(replace(conflict.theirs, name="老年助餐服务（上门）"))})
    assert renamed.conflicts == ()
    assert renamed.merged["i-bath"].code == "A05004"
    assert renamed.code_changes == (Renumbering("i-bath", "A05003", "A05004"),)
