"""Three-way merge and conflict resolution, one table row per auto-merge case and per conflict kind.

Base: 基本公共服务 (A) → 教育 (A01) → 课后服务; 养老服务 (A05) → 社区居家养老服务, 机构养老服务;
社会管理性服务 (B) → 社区治理 (B01), 法律援助 (B02). "ours" is the head, "theirs" the draft.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace

import pytest
from anytree import LoopError

from app.catalog.nodes import Level, NodeState
from app.catalog.tree import build_tree
from app.errors import InvalidInput
from app.versioning.conflicts import PLACEMENT, ConflictKey, ConflictKind
from app.versioning.merge import MergeResult, merge
from app.versioning.resolve import Choice, Edit, Take, resolve
from app.versioning.snapshot import Placement

Snapshot = dict[str, NodeState]
Edit_ = Callable[[Snapshot], Snapshot]


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
MEAL = node("i-meal", "t-elder", "A05003", "老年助餐服务", department="民政局")
BATH = node("i-bath", "t-elder", "A05003", "老年助浴服务", department="民政局")
TUTOR = node("i-tutor", "t-edu", "A01002", "托管服务", department="教育局")


def edit(uid: str, **fields: object) -> Edit_:
    return lambda s: {**s, uid: replace(s[uid], **fields)}  # type: ignore[arg-type]


def drop(*uids: str) -> Edit_:
    return lambda s: {uid: state for uid, state in s.items() if uid not in uids}


def add(*states: NodeState) -> Edit_:
    return lambda s: {**s, **{state.uid: state for state in states}}


def then(*edits: Edit_) -> Edit_:
    def run(s: Snapshot) -> Snapshot:
        for step in edits:
            s = step(s)
        return s

    return run


SAME: Edit_ = dict
ELDER_TO_SOCIAL = then(
    edit("t-elder", parent="c-social", code="B03"),
    edit("i-home", code="B03001"),
    edit("i-inst", code="B03002"),
)
ELDER_RENUMBERED = then(
    edit("t-elder", code="A06"), edit("i-home", code="A06001"), edit("i-inst", code="A06002")
)


def problems(snapshot: Snapshot) -> list[str]:
    """Return what makes `snapshot` an invalid catalog: tree problems, cycles, duplicate codes."""
    try:
        _, found = build_tree(snapshot.values())
    except LoopError:
        return ["cycle"]
    slots = Counter((s.parent, s.code) for s in snapshot.values())
    return [p.reason for p in found] + [f"duplicate {code}" for (_, code), n in slots.items() if n > 1]


AUTO: list[tuple[str, Edit_, Edit_, Edit_]] = [
    (
        "only the draft changed",
        SAME,
        edit("i-home", name="居家养老上门服务"),
        edit("i-home", name="居家养老上门服务"),
    ),
    (
        "only the head changed",
        edit("i-home", name="居家养老上门服务"),
        SAME,
        edit("i-home", name="居家养老上门服务"),
    ),
    (
        "different fields of one node",
        edit("i-home", name="居家养老上门服务"),
        edit("i-home", description="为居家老人提供上门照护"),
        edit("i-home", name="居家养老上门服务", description="为居家老人提供上门照护"),
    ),
    (
        "head changes the department, draft moves the item",
        edit("i-after", department="民政局"),
        edit("i-after", parent="t-elder", code="A05003"),
        edit("i-after", department="民政局", parent="t-elder", code="A05003"),
    ),
    (
        "the same rename on both sides",
        edit("i-inst", name="养老机构运营服务"),
        edit("i-inst", name="养老机构运营服务"),
        edit("i-inst", name="养老机构运营服务"),
    ),
    ("both remove one item", drop("i-inst"), drop("i-inst"), drop("i-inst")),
    ("items added under different types", add(TUTOR), add(MEAL), add(TUTOR, MEAL)),
    (
        "one side removes, the other edits another node",
        drop("i-inst"),
        edit("i-home", sort_key=2),
        then(drop("i-inst"), edit("i-home", sort_key=2)),
    ),
    (
        "head moves a type to another class, draft renames an item under it",
        ELDER_TO_SOCIAL,
        edit("i-home", name="居家养老上门服务"),
        then(ELDER_TO_SOCIAL, edit("i-home", name="居家养老上门服务")),
    ),
    (
        "draft renumbers an item, head adds an item elsewhere",
        add(TUTOR),
        edit("i-inst", code="A05009"),
        then(add(TUTOR), edit("i-inst", code="A05009")),
    ),
    (
        "a code the draft gave outside the scheme is not the merge's doing",
        SAME,
        add(replace(MEAL, code="A05-3")),
        add(replace(MEAL, code="A05-3")),
    ),
    (
        "nor a legacy code the head keeps under a type the draft renumbers",
        add(replace(MEAL, code="养老-3")),
        ELDER_RENUMBERED,
        then(add(replace(MEAL, code="养老-3")), ELDER_RENUMBERED),
    ),
    (
        "nor two codes the draft itself duplicated",
        SAME,
        add(MEAL, BATH),
        add(MEAL, BATH),
    ),
    (
        "the same type move on both sides",
        ELDER_TO_SOCIAL,
        ELDER_TO_SOCIAL,
        ELDER_TO_SOCIAL,
    ),
]


@pytest.mark.parametrize(("ours", "theirs", "expected"), [a[1:] for a in AUTO], ids=[a[0] for a in AUTO])
def test_changes_that_do_not_collide_merge_by_themselves(ours: Edit_, theirs: Edit_, expected: Edit_) -> None:
    result = merge(BASE, ours(BASE), theirs(BASE))
    assert result.conflicts == ()
    assert result.clean
    assert result.merged == expected(BASE)


# (id, ours, theirs, conflicts as (uid, kind, field), what the merged result holds)
CONFLICTS: list[tuple[str, Edit_, Edit_, list[tuple[str, ConflictKind, str | None]], Edit_]] = [
    (
        "same field changed two ways",
        edit("i-home", name="社区居家养老服务（含助餐）"),
        edit("i-home", name="居家养老上门服务", description="上门照护"),
        [("i-home", ConflictKind.SAME_FIELD, "name")],
        edit("i-home", name="社区居家养老服务（含助餐）", description="上门照护"),
    ),
    (
        "same item renumbered two ways",
        edit("i-inst", code="A05009"),
        edit("i-inst", code="A05008"),
        [("i-inst", ConflictKind.SAME_FIELD, PLACEMENT)],
        edit("i-inst", code="A05009"),
    ),
    (
        "draft deletes what the head edited",
        edit("i-home", name="居家养老上门服务"),
        drop("i-home"),
        [("i-home", ConflictKind.EDIT_DELETE, None)],
        edit("i-home", name="居家养老上门服务"),
    ),
    (
        "draft edits what the head deleted",
        drop("i-home"),
        edit("i-home", name="居家养老上门服务"),
        [("i-home", ConflictKind.EDIT_DELETE, None)],
        drop("i-home"),
    ),
    (
        "draft adds under a type the head removed",
        drop("t-edu", "i-after"),
        add(TUTOR),
        [("i-tutor", ConflictKind.ORPHAN, None)],
        drop("t-edu", "i-after"),
    ),
    (
        "draft moves under a type the head removed",
        drop("t-edu", "i-after"),
        edit("i-home", parent="t-edu", code="A01002"),
        [("i-home", ConflictKind.ORPHAN, PLACEMENT)],
        drop("t-edu", "i-after"),
    ),
    (
        "head adds under a type the draft removed",
        add(TUTOR),
        drop("t-edu", "i-after"),
        [("t-edu", ConflictKind.ORPHAN, None)],
        then(add(TUTOR), drop("i-after")),
    ),
    (
        "draft removes a type whose item the head edited",
        edit("i-home", name="居家养老上门服务"),
        drop("t-elder", "i-home", "i-inst"),
        [("t-elder", ConflictKind.ORPHAN, None), ("i-home", ConflictKind.EDIT_DELETE, None)],
        then(edit("i-home", name="居家养老上门服务"), drop("i-inst")),
    ),
    (
        "draft renumbers an item in place onto a code the head gave out",
        add(MEAL),
        edit("i-inst", code="A05003"),
        [("i-inst", ConflictKind.DUPLICATE_CODE, PLACEMENT)],
        add(MEAL),
    ),
    (
        "two items of one department given one name",
        add(MEAL),
        add(replace(BATH, name=MEAL.name)),
        [("i-bath", ConflictKind.DUPLICATE_NAME, None)],
        add(MEAL),
    ),
    (
        "an item renamed to its sibling's name",
        add(MEAL),
        edit("i-inst", name=MEAL.name),
        [("i-inst", ConflictKind.DUPLICATE_NAME, "name")],
        add(MEAL),
    ),
    (
        "an item moved next to one of the same name",
        add(replace(TUTOR, name="机构养老服务", department="民政局")),
        edit("i-inst", parent="t-edu", code="A01002"),
        [("i-inst", ConflictKind.DUPLICATE_NAME, PLACEMENT)],
        add(replace(TUTOR, name="机构养老服务", department="民政局")),
    ),
    (
        "moves that make a node its own ancestor",
        edit("i-inst", parent="i-home", level=Level.SUBITEM, code="A0500101"),
        edit("i-home", parent="i-inst", level=Level.SUBITEM, code="A0500201"),
        [("i-home", ConflictKind.CYCLE, PLACEMENT)],
        edit("i-inst", parent="i-home", level=Level.SUBITEM, code="A0500101"),
    ),
    (
        "draft moves a type away from an item the head added",
        add(MEAL),
        ELDER_TO_SOCIAL,
        [
            ("t-elder", ConflictKind.CODE_SCHEME, PLACEMENT),
            ("i-home", ConflictKind.CODE_SCHEME, PLACEMENT),
            ("i-inst", ConflictKind.CODE_SCHEME, PLACEMENT),
        ],
        add(MEAL),
    ),
]


@pytest.mark.parametrize(
    ("ours", "theirs", "expected", "merged"), [c[1:] for c in CONFLICTS], ids=[c[0] for c in CONFLICTS]
)
def test_collisions_become_conflicts_and_the_head_value_stays(
    ours: Edit_, theirs: Edit_, expected: list[tuple[str, ConflictKind, str | None]], merged: Edit_
) -> None:
    result = merge(BASE, ours(BASE), theirs(BASE))
    assert [(c.uid, c.kind, c.field) for c in result.conflicts] == expected
    assert result.merged == merged(BASE)
    assert problems(result.merged) == []


def test_a_conflict_shows_the_three_values_and_explains_itself_in_chinese() -> None:
    result = merge(BASE, edit("i-home", name="甲服务")(BASE), edit("i-home", name="乙服务")(BASE))
    (conflict,) = result.conflicts
    assert (conflict.base, conflict.ours, conflict.theirs) == ("社区居家养老服务", "甲服务", "乙服务")
    assert (
        conflict.message_zh
        == "「甲服务」的名称两边改法不同：现行目录为「甲服务」，草稿为「乙服务」（原为「社区居家养老服务」）"
    )
    assert conflict.kind.label == "同一内容两边改法不同"


@pytest.mark.parametrize(
    ("ours", "theirs", "words"),
    [
        (drop("t-edu", "i-after"), add(TUTOR), ["托管服务", "教育", "已撤销"]),
        (add(TUTOR), drop("t-edu", "i-after"), ["教育", "托管服务", "暂缓"]),
        (add(MEAL), edit("i-inst", code="A05003"), ["机构养老服务", "A05003", "老年助餐服务"]),
        (add(MEAL), add(replace(BATH, name=MEAL.name)), ["老年助餐服务", "A05003", "A05004", "同一部门"]),
        (add(MEAL), ELDER_TO_SOCIAL, ["养老服务", "B03", "老年助餐服务", "A05003"]),
        (
            edit("i-inst", parent="i-home", level=Level.SUBITEM, code="A0500101"),
            edit("i-home", parent="i-inst", level=Level.SUBITEM, code="A0500201"),
            ["社区居家养老服务", "机构养老服务", "循环"],
        ),
        (drop("i-home"), edit("i-home", name="居家养老上门服务"), ["现行目录已撤销", "居家养老上门服务"]),
        (edit("i-home", name="居家养老上门服务"), drop("i-home"), ["草稿撤销了", "居家养老上门服务"]),
    ],
    ids=[
        "orphan added",
        "orphan held back",
        "duplicate",
        "same name",
        "scheme type",
        "cycle",
        "deleted by head",
        "deleted by draft",
    ],
)
def test_the_first_message_names_the_nodes_involved(ours: Edit_, theirs: Edit_, words: list[str]) -> None:
    message = merge(BASE, ours(BASE), theirs(BASE)).conflicts[0].message_zh
    assert all(word in message for word in words), message


def test_structural_conflict_values_are_whole_nodes_or_placements() -> None:
    added = merge(BASE, drop("t-edu", "i-after")(BASE), add(TUTOR)(BASE)).conflicts[0]
    assert (added.base, added.ours, added.theirs) == (None, None, TUTOR)
    moved = merge(BASE, ELDER_TO_SOCIAL(BASE), edit("i-home", code="A05009")(BASE)).conflicts[0]
    assert moved.kind is ConflictKind.SAME_FIELD
    assert (moved.base, moved.ours, moved.theirs) == (
        Placement("t-elder", Level.ITEM, "A05001"),
        Placement("t-elder", Level.ITEM, "B03001"),
        Placement("t-elder", Level.ITEM, "A05009"),
    )


def merged_with(ours: Edit_, theirs: Edit_) -> MergeResult:
    return merge(BASE, ours(BASE), theirs(BASE))


RESOLUTIONS: list[
    tuple[str, MergeResult, dict[ConflictKey, Choice], Edit_, list[tuple[str, ConflictKind, str | None]]]
] = [
    (
        "take the draft's name",
        merged_with(edit("i-home", name="甲服务"), edit("i-home", name="乙服务")),
        {("i-home", "name"): Take.THEIRS},
        edit("i-home", name="乙服务"),
        [],
    ),
    (
        "keep the head's name",
        merged_with(edit("i-home", name="甲服务"), edit("i-home", name="乙服务")),
        {("i-home", "name"): Take.OURS},
        edit("i-home", name="甲服务"),
        [],
    ),
    (
        "edit the name",
        merged_with(edit("i-home", name="甲服务"), edit("i-home", name="乙服务")),
        {("i-home", "name"): Edit("丙服务")},
        edit("i-home", name="丙服务"),
        [],
    ),
    (
        "accept the draft's delete",
        merged_with(edit("i-home", name="甲服务"), drop("i-home")),
        {("i-home", None): Take.THEIRS},
        drop("i-home"),
        [],
    ),
    (
        "restore what the head deleted",
        merged_with(drop("i-home"), edit("i-home", name="甲服务")),
        {("i-home", None): Take.THEIRS},
        edit("i-home", name="甲服务"),
        [],
    ),
    (
        "give the renumbered item a free code",
        merged_with(add(MEAL), edit("i-inst", code="A05003")),
        {("i-inst", PLACEMENT): Edit(Placement("t-elder", Level.ITEM, "A05004"))},
        then(add(MEAL), edit("i-inst", code="A05004")),
        [],
    ),
    (
        "an edit that still clashes comes back as a conflict",
        merged_with(add(MEAL), edit("i-inst", code="A05003")),
        {("i-inst", PLACEMENT): Take.THEIRS},
        add(MEAL),
        [("i-inst", ConflictKind.DUPLICATE_CODE, PLACEMENT)],
    ),
    (
        "rename the draft's same-named item",
        merged_with(add(MEAL), add(replace(BATH, name=MEAL.name))),
        {("i-bath", None): Edit(replace(BATH, code="A05004", name="老年助餐服务（上门）"))},
        add(MEAL, replace(BATH, code="A05004", name="老年助餐服务（上门）")),
        [],
    ),
    (
        "keep the draft's same-named item and withdraw the head's",
        merged_with(add(MEAL), add(replace(BATH, name=MEAL.name))),
        {("i-bath", None): Take.THEIRS, ("i-meal", None): Edit(None)},
        add(replace(BATH, code="A05004", name=MEAL.name)),
        [],
    ),
    (
        "taking the draft's same-named item alone comes back",
        merged_with(add(MEAL), add(replace(BATH, name=MEAL.name))),
        {("i-bath", None): Take.THEIRS},
        add(MEAL),
        [("i-bath", ConflictKind.DUPLICATE_NAME, None)],
    ),
    (
        "keep the old name of an item renamed to its sibling's",
        merged_with(add(MEAL), edit("i-inst", name=MEAL.name)),
        {("i-inst", "name"): Take.OURS},
        add(MEAL),
        [],
    ),
    (
        "accept the draft's type removal with what the head added under it",
        merged_with(add(TUTOR), drop("t-edu", "i-after")),
        {("t-edu", None): Take.THEIRS},
        drop("t-edu", "i-after"),
        [],
    ),
    (
        "take the draft's type move and renumber the head's item to fit",
        merged_with(add(MEAL), ELDER_TO_SOCIAL),
        {
            ("t-elder", PLACEMENT): Take.THEIRS,
            ("i-home", PLACEMENT): Take.THEIRS,
            ("i-inst", PLACEMENT): Take.THEIRS,
            ("i-meal", PLACEMENT): Edit(Placement("t-elder", Level.ITEM, "B03003")),
        },
        then(ELDER_TO_SOCIAL, add(replace(MEAL, code="B03003"))),
        [],
    ),
    (
        "take the draft's move into a removed type: still an orphan",
        merged_with(drop("t-edu", "i-after"), edit("i-home", parent="t-edu", code="A01002")),
        {("i-home", PLACEMENT): Take.THEIRS},
        drop("t-edu", "i-after"),
        [("i-home", ConflictKind.ORPHAN, PLACEMENT)],
    ),
    (
        "unchosen conflicts stay",
        merged_with(edit("i-home", name="甲服务", sort_key=1), edit("i-home", name="乙服务", sort_key=2)),
        {("i-home", "name"): Take.THEIRS},
        edit("i-home", name="乙服务", sort_key=1),
        [("i-home", ConflictKind.SAME_FIELD, "sort_key")],
    ),
]


@pytest.mark.parametrize(
    ("result", "choices", "merged", "remaining"),
    [r[1:] for r in RESOLUTIONS],
    ids=[r[0] for r in RESOLUTIONS],
)
def test_resolve_applies_choices_and_checks_the_tree_again(
    result: MergeResult,
    choices: dict[ConflictKey, Choice],
    merged: Edit_,
    remaining: list[tuple[str, ConflictKind, str | None]],
) -> None:
    resolved = resolve(result, choices)
    assert resolved.merged == merged(BASE)
    assert [(c.uid, c.kind, c.field) for c in resolved.conflicts] == remaining
    assert problems(resolved.merged) == []


def test_a_rejected_resolution_records_what_was_refused() -> None:
    result = merged_with(add(MEAL), edit("i-inst", code="A05003"))
    attempt = Placement("t-elder", Level.ITEM, "A05001")
    (conflict,) = resolve(result, {("i-inst", PLACEMENT): Edit(attempt)}).conflicts
    assert (conflict.ours, conflict.theirs) == (Placement("t-elder", Level.ITEM, "A05002"), attempt)
    assert "A05001" in conflict.message_zh


def test_resolve_leaves_the_result_it_was_given_alone() -> None:
    result = merged_with(edit("i-home", name="甲服务"), edit("i-home", name="乙服务"))
    resolve(result, {("i-home", "name"): Take.THEIRS})
    assert result.merged["i-home"].name == "甲服务"
    assert len(result.conflicts) == 1


@pytest.mark.parametrize(
    "choices",
    [
        {("i-inst", "name"): Take.THEIRS},
        {("i-home", "name"): Edit(42)},
        {("i-home", "colour"): Edit("红")},
        {("i-home", None): Edit(MEAL)},
        {("i-home", PLACEMENT): Edit("A05009")},
    ],
    ids=["take on no conflict", "wrong type", "unknown field", "another node's state", "placement as text"],
)
def test_resolve_refuses_choices_it_cannot_apply(choices: dict[ConflictKey, Choice]) -> None:
    result = merged_with(edit("i-home", name="甲服务"), edit("i-home", name="乙服务"))
    with pytest.raises(InvalidInput):
        resolve(result, choices)
