"""The structural diff: tagged changes in tree order, their labels, and applying them back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from app.catalog.nodes import Level, NodeState
from app.errors import Conflict
from app.versioning.changes import Added, Change, FieldChange, Modified, Moved, Removed, Renumbered, Reordered
from app.versioning.diff import apply, diff

Snapshot = dict[str, NodeState]


def node(uid: str, parent: str | None, code: str, name: str, **fields: object) -> NodeState:
    level = {1: Level.CLASS, 3: Level.TYPE, 6: Level.ITEM, 8: Level.SUBITEM}[len(code)]
    return NodeState(uid=uid, parent=parent, level=level, code=code, name=name, **fields)  # type: ignore[arg-type]


BASE: Snapshot = {
    s.uid: s
    for s in [
        node("c-basic", None, "A", "基本公共服务"),
        node("t-edu", "c-basic", "A01", "教育"),
        node("i-after", "t-edu", "A01001", "课后服务", department="教育局"),
        node("t-elder", "c-basic", "A05", "养老服务"),
        node("i-home", "t-elder", "A05001", "社区居家养老服务", department="民政局"),
        node("i-inst", "t-elder", "A05002", "机构养老服务", department="民政局"),
        node("c-social", None, "B", "社会管理性服务"),
        node("t-community", "c-social", "B01", "社区治理"),
        node("t-legal", "c-social", "B02", "法律援助"),
    ]
}


def edit(snapshot: Snapshot, uid: str, **fields: object) -> Snapshot:
    return {**snapshot, uid: replace(snapshot[uid], **fields)}  # type: ignore[arg-type]


def without(snapshot: Snapshot, *uids: str) -> Snapshot:
    return {uid: s for uid, s in snapshot.items() if uid not in uids}


def plus(snapshot: Snapshot, *states: NodeState) -> Snapshot:
    return {**snapshot, **{s.uid: s for s in states}}


MEAL = node("i-meal", "t-elder", "A05003", "老年助餐服务", department="民政局")


def elder_moved_to_social(snapshot: Snapshot) -> Snapshot:
    moved = edit(snapshot, "t-elder", parent="c-social", code="B03")
    moved = edit(moved, "i-home", code="B03001")
    return edit(moved, "i-inst", code="B03002")


CASES: list[tuple[str, Callable[[Snapshot], Snapshot], list[Change]]] = [
    ("nothing changed", lambda b: dict(b), []),
    ("item added", lambda b: plus(b, MEAL), [Added(MEAL)]),
    ("item removed", lambda b: without(b, "i-inst"), [Removed(BASE["i-inst"])]),
    (
        "item renamed",
        lambda b: edit(b, "i-home", name="居家养老上门服务"),
        [Modified("i-home", (FieldChange("name", "社区居家养老服务", "居家养老上门服务"),))],
    ),
    (
        "several fields in field order",
        lambda b: edit(b, "i-home", department="卫健委", description="上门照护", attrs={"预算": 120}),
        [
            Modified(
                "i-home",
                (
                    FieldChange("description", "", "上门照护"),
                    FieldChange("department", "民政局", "卫健委"),
                    FieldChange("attrs", {}, {"预算": 120}),
                ),
            )
        ],
    ),
    (
        "code changed under the same parent",
        lambda b: edit(b, "i-inst", code="A05009"),
        [Renumbered("i-inst", "A05002", "A05009")],
    ),
    (
        "moved to another type and renamed",
        lambda b: edit(b, "i-after", parent="t-elder", code="A05003", name="老年大学课程服务"),
        [
            Moved("i-after", "t-edu", "t-elder", "A01001", "A05003"),
            Modified("i-after", (FieldChange("name", "课后服务", "老年大学课程服务"),)),
        ],
    ),
    (
        "type moved to another class with its items renumbered",
        elder_moved_to_social,
        [
            Moved("t-elder", "c-basic", "c-social", "A05", "B03"),
            Renumbered("i-home", "A05001", "B03001"),
            Renumbered("i-inst", "A05002", "B03002"),
        ],
    ),
    (
        "tree order: added, removed where it stood, then the next class",
        lambda b: edit(plus(without(b, "i-home"), MEAL), "t-legal", name="法律援助服务"),
        [
            Removed(BASE["i-home"]),
            Added(MEAL),
            Modified("t-legal", (FieldChange("name", "法律援助", "法律援助服务"),)),
        ],
    ),
    (
        "a whole type removed, parent before children",
        lambda b: without(b, "t-edu", "i-after"),
        [Removed(BASE["t-edu"]), Removed(BASE["i-after"])],
    ),
    (
        "sort key orders siblings before code",
        lambda b: edit(edit(b, "i-inst", sort_key=-1, name="养老机构服务"), "i-home", name="居家养老"),
        [  # the sort key is bookkeeping: Reordered, never a field of Modified
            Reordered("i-inst", 0, -1, moved=False),
            Modified("i-inst", (FieldChange("name", "机构养老服务", "养老机构服务"),)),
            Modified("i-home", (FieldChange("name", "社区居家养老服务", "居家养老"),)),
        ],
    ),
]


@pytest.mark.parametrize(("target", "expected"), [(t, e) for _, t, e in CASES], ids=[c[0] for c in CASES])
def test_diff_reports_each_change_in_tree_order(
    target: Callable[[Snapshot], Snapshot], expected: list[Change]
) -> None:
    assert diff(BASE, target(BASE)) == expected


@pytest.mark.parametrize("target", [t for _, t, _ in CASES], ids=[c[0] for c in CASES])
def test_applying_the_diff_gives_the_target(target: Callable[[Snapshot], Snapshot]) -> None:
    goal = target(BASE)
    assert apply(BASE, diff(BASE, goal)) == goal


def test_apply_leaves_its_input_alone() -> None:
    before = dict(BASE)
    apply(BASE, [Removed(BASE["i-home"]), Added(MEAL)])
    assert before == BASE


@pytest.mark.parametrize(
    ("change", "label"),
    [
        (Added(MEAL), "新增"),
        (Removed(MEAL), "撤销"),
        (Modified("i-home", (FieldChange("name", "甲", "乙"),)), "更名"),
        (
            Modified("i-home", (FieldChange("name", "甲", "乙"), FieldChange("description", "", "说明"))),
            "更名",
        ),
        (Modified("i-home", (FieldChange("department", "民政局", "卫健委"),)), "内容调整"),
        (Moved("i-home", "t-elder", "t-edu", "A05001", "A01002"), "移动"),
        (Renumbered("i-home", "A05001", "A05009"), "重新编号"),
    ],
)
def test_changes_carry_chinese_labels(change: Change, label: str) -> None:
    assert change.label == label


def test_field_change_names_its_field_in_chinese() -> None:
    assert FieldChange("department", "民政局", "卫健委").label == "部门"


@pytest.mark.parametrize(
    "changes",
    [
        [Added(BASE["i-home"])],
        [Removed(replace(BASE["i-home"], name="别的名称"))],
        [Removed(MEAL)],
        [Modified("i-home", (FieldChange("name", "不是原来的名称", "新名称"),))],
        [Modified("i-meal", (FieldChange("name", "老年助餐服务", "新名称"),))],
        [Moved("i-home", "t-edu", "t-elder", "A01001", "A05003")],
        [Renumbered("i-home", "A05009", "A05001")],
    ],
    ids=[
        "add existing",
        "remove changed",
        "remove absent",
        "stale field",
        "modify absent",
        "stale move",
        "stale code",
    ],
)
def test_apply_refuses_a_change_that_does_not_fit(changes: list[Change]) -> None:
    with pytest.raises(Conflict, match="变更无法应用"):
        apply(BASE, changes)


def test_a_move_is_a_move_and_its_new_sort_key_no_content_change() -> None:
    # Moving an item under another type gives it a sort key there: bookkeeping, not content.
    home = BASE["i-home"]
    target = edit(BASE, "i-home", parent="t-edu", code="B01001", sort_key=home.sort_key + 15040)
    changes = diff(BASE, target)
    assert [type(c) for c in changes] == [Moved, Reordered]
    reordered = changes[1]
    assert isinstance(reordered, Reordered)
    assert not reordered.shown
    assert not any(isinstance(c, Modified) for c in changes)
    assert apply(BASE, changes) == target
