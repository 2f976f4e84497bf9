"""Properties of diff and merge over generated catalogs: small valid trees and valid edits of them."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from itertools import count

from anytree import LoopError
from hypothesis import given, settings
from hypothesis import strategies as st

from app.catalog.codes import next_child_code
from app.catalog.nodes import Level, NodeState
from app.catalog.tree import build_tree
from app.versioning.conflicts import ConflictKind
from app.versioning.diff import apply, diff
from app.versioning.merge import merge
from app.versioning.resolve import Take, resolve

Snapshot = dict[str, NodeState]
NAMES = [
    "养老服务",
    "老年助餐",
    "社区矫正",
    "法律援助",
    "课后服务",
    "健康体检",
    "环境监测",
    "档案整理",
    "会议服务",
]
DEPARTMENTS = [None, "民政局", "司法局", "教育局"]
KINDS = [
    "name",
    "description",
    "department",
    "sort_key",
    "attrs",
    "add",
    "remove",
    "renumber",
    "move",
    "nest",
]
FAST = settings(max_examples=200, deadline=None)
WIDTH = {Level.TYPE: 3, Level.ITEM: 3, Level.SUBITEM: 1}


@st.composite
def trees(draw: st.DrawFn) -> Snapshot:
    """A valid catalog of up to 3 classes, each level numbered by the code scheme; uids n1, n2, …"""
    tree: Snapshot = {}
    uids = count(1)
    for position, letter in enumerate("ABC"[: draw(st.integers(1, 3))]):
        uid = f"n{next(uids)}"
        tree[uid] = NodeState(uid, None, Level.CLASS, letter, draw(st.sampled_from(NAMES)), sort_key=position)
        _grow(draw, tree, tree[uid], uids)
    return tree


def _grow(draw: st.DrawFn, tree: Snapshot, parent: NodeState, uids: count[int]) -> None:
    if parent.level is Level.SUBITEM:
        return
    level = Level(parent.level + 1)
    for _ in range(draw(st.integers(0, WIDTH[level]))):
        child = _new_child(tree, parent, f"n{next(uids)}", draw(st.sampled_from(NAMES)))
        tree[child.uid] = child
        _grow(draw, tree, child, uids)


def _new_child(tree: Snapshot, parent: NodeState, uid: str, name: str) -> NodeState:
    level = Level(parent.level + 1)
    taken = [s.code for s in tree.values() if s.parent == parent.uid]
    return NodeState(uid, parent.uid, level, next_child_code(parent.code, level, taken), name)


def _subtree(tree: Snapshot, uid: str) -> list[str]:
    found, frontier = [uid], [uid]
    while frontier:
        frontier = [u for u, s in tree.items() if s.parent in frontier]
        found.extend(frontier)
    return found


def _relocate(tree: Snapshot, uid: str, parent: NodeState) -> None:
    """Put `uid` under `parent` with the next free code, its descendants renumbered to match."""
    old_code = tree[uid].code
    new = _new_child(tree, parent, uid, "")
    for u in _subtree(tree, uid):
        state = tree[u]
        tree[u] = replace(state, code=new.code + state.code[len(old_code) :])
    tree[uid] = replace(tree[uid], parent=parent.uid, level=new.level)


@st.composite
def edits(draw: st.DrawFn, base: Snapshot, *, prefix: str, within: frozenset[str] | None = None) -> Snapshot:
    """A valid catalog made from `base` by up to 6 edits: content, add, remove, renumber, move.

    New uids start with `prefix`. With `within`, only nodes under those classes are touched and
    moves stay inside their class, so two edits with disjoint `within` cannot interact.
    """
    tree = dict(base)
    for step in range(draw(st.integers(0, 6))):
        allowed = sorted(u for u, s in tree.items() if within is None or _class_of(tree, u) in within)
        if not allowed:
            break
        uid = draw(st.sampled_from(allowed))
        state = tree[uid]
        kind = draw(st.sampled_from(KINDS))
        if kind == "name":
            tree[uid] = replace(state, name=draw(st.sampled_from(NAMES)))
        elif kind == "description":
            tree[uid] = replace(state, description=draw(st.sampled_from(["", "含上门服务", "按次结算"])))
        elif kind == "department":
            tree[uid] = replace(state, department=draw(st.sampled_from(DEPARTMENTS)))
        elif kind == "sort_key":
            tree[uid] = replace(state, sort_key=draw(st.integers(-1, 2)))
        elif kind == "attrs":
            tree[uid] = replace(state, attrs={"预算": draw(st.integers(0, 3))})
        elif kind == "add" and state.level is not Level.SUBITEM:
            new = _new_child(tree, state, f"{prefix}{step}", draw(st.sampled_from(NAMES)))
            tree[new.uid] = new
        elif kind == "remove":
            for u in _subtree(tree, uid):
                del tree[u]
        elif kind == "renumber" and state.parent is not None:
            _relocate(tree, uid, tree[state.parent])
        elif kind == "move" and state.parent is not None:
            scope = _class_of(tree, uid)
            targets = sorted(
                u
                for u, s in tree.items()
                if s.level == tree[state.parent].level
                and u != state.parent
                and (within is None or _class_of(tree, u) == scope)
            )
            if targets:
                _relocate(tree, uid, tree[draw(st.sampled_from(targets))])
        elif kind == "nest" and state.level is Level.ITEM and _subtree(tree, uid) == [uid]:
            # A leaf item becomes a sub-item of another item: the one edit that changes a level.
            targets = sorted(
                u
                for u, s in tree.items()
                if s.level is Level.ITEM and u != uid and _class_of(tree, u) == _class_of(tree, uid)
            )
            if targets:
                _relocate(tree, uid, tree[draw(st.sampled_from(targets))])
    return tree


def _class_of(tree: Snapshot, uid: str) -> str:
    while (parent := tree[uid].parent) is not None:
        uid = parent
    return uid


def problems(snapshot: Snapshot) -> list[str]:
    """Return what makes `snapshot` an invalid catalog: tree problems, cycles, duplicate codes."""
    try:
        _, found = build_tree(snapshot.values())
    except LoopError:
        return ["cycle"]
    slots = Counter((s.parent, s.code) for s in snapshot.values())
    return [p.reason for p in found] + [f"duplicate {code}" for (_, code), n in slots.items() if n > 1]


@st.composite
def base_and_edit(draw: st.DrawFn) -> tuple[Snapshot, Snapshot]:
    base = draw(trees())
    return base, draw(edits(base, prefix="x"))


@st.composite
def base_and_two_edits(draw: st.DrawFn) -> tuple[Snapshot, Snapshot, Snapshot]:
    base = draw(trees())
    return base, draw(edits(base, prefix="x")), draw(edits(base, prefix="y"))


@FAST
@given(base_and_edit())
def test_generated_edits_are_valid_catalogs(pair: tuple[Snapshot, Snapshot]) -> None:
    # The strategies must only produce what the other properties assume.
    base, edited = pair
    assert problems(base) == []
    assert problems(edited) == []


@FAST
@given(base_and_edit())
def test_applying_the_diff_gives_the_target(pair: tuple[Snapshot, Snapshot]) -> None:
    base, target = pair
    assert apply(base, diff(base, target)) == target
    assert apply(target, diff(target, base)) == base


@FAST
@given(trees(), trees())
def test_applying_the_diff_between_unrelated_catalogs_gives_the_target(a: Snapshot, b: Snapshot) -> None:
    assert apply(a, diff(a, b)) == b


@FAST
@given(trees())
def test_a_catalog_does_not_differ_from_itself(tree: Snapshot) -> None:
    assert diff(tree, tree) == []
    assert diff(tree, {u: replace(s) for u, s in tree.items()}) == []


@FAST
@given(base_and_edit())
def test_merging_an_unchanged_draft_keeps_the_head(pair: tuple[Snapshot, Snapshot]) -> None:
    base, ours = pair
    result = merge(base, ours, base)
    assert result.conflicts == ()
    assert result.merged == ours


@FAST
@given(base_and_edit())
def test_merging_into_an_unchanged_head_gives_the_draft(pair: tuple[Snapshot, Snapshot]) -> None:
    base, theirs = pair
    result = merge(base, base, theirs)
    assert result.conflicts == ()
    assert result.merged == theirs


@FAST
@given(base_and_edit())
def test_the_same_change_on_both_sides_is_no_conflict(pair: tuple[Snapshot, Snapshot]) -> None:
    base, edited = pair
    assert merge(base, edited, dict(edited)).conflicts == ()


@st.composite
def disjoint_edits(draw: st.DrawFn) -> tuple[Snapshot, Snapshot, Snapshot]:
    base = draw(trees())
    classes = sorted(u for u, s in base.items() if s.parent is None)
    mine = frozenset(draw(st.sets(st.sampled_from(classes))))
    ours = draw(edits(base, prefix="x", within=mine))
    theirs = draw(edits(base, prefix="y", within=frozenset(classes) - mine))
    return base, ours, theirs


@FAST
@given(disjoint_edits())
def test_edits_of_disjoint_classes_merge_to_their_union(triple: tuple[Snapshot, Snapshot, Snapshot]) -> None:
    base, ours, theirs = triple
    union = apply(apply(base, diff(base, ours)), diff(base, theirs))
    result = merge(base, ours, theirs)
    assert result.conflicts == ()
    assert result.merged == union


@FAST
@given(base_and_two_edits())
def test_any_merge_is_a_valid_catalog_with_one_conflict_per_key(
    triple: tuple[Snapshot, Snapshot, Snapshot],
) -> None:
    base, ours, theirs = triple
    result = merge(base, ours, theirs)
    assert problems(result.merged) == []
    keys = [c.key for c in result.conflicts]
    assert len(keys) == len(set(keys))


@FAST
@given(base_and_two_edits())
def test_keeping_the_head_everywhere_resolves_every_conflict(
    triple: tuple[Snapshot, Snapshot, Snapshot],
) -> None:
    result = merge(*triple)
    resolved = resolve(result, {c.key: Take.OURS for c in result.conflicts})
    assert resolved.conflicts == ()
    assert resolved.merged == result.merged


@FAST
@given(base_and_two_edits())
def test_taking_the_draft_everywhere_still_gives_a_valid_catalog(
    triple: tuple[Snapshot, Snapshot, Snapshot],
) -> None:
    result = merge(*triple)
    resolved = resolve(result, {c.key: Take.THEIRS for c in result.conflicts})
    assert problems(resolved.merged) == []


@st.composite
def crossed_nesting(draw: st.DrawFn) -> tuple[Snapshot, Snapshot, Snapshot, str]:
    """Base, a head that nests leaf item a under item b, a draft that nests b under a, and b's uid."""
    base = draw(trees())
    leaves = sorted(u for u, s in base.items() if s.level is Level.ITEM and _subtree(base, u) == [u])
    a = draw(st.sampled_from(leaves)) if leaves else None
    partners = sorted(
        u for u in leaves if a is not None and u != a and _class_of(base, u) == _class_of(base, a)
    )
    if a is None or not partners:
        return base, base, base, ""
    b = draw(st.sampled_from(partners))
    ours, theirs = dict(base), dict(base)
    _relocate(ours, a, ours[b])
    _relocate(theirs, b, theirs[a])
    return base, ours, theirs, b


@FAST
@given(crossed_nesting())
def test_crossed_moves_are_one_cycle_conflict_on_the_draft_side(
    case: tuple[Snapshot, Snapshot, Snapshot, str],
) -> None:
    base, ours, theirs, moved_by_draft = case
    result = merge(base, ours, theirs)
    expected = [(moved_by_draft, ConflictKind.CYCLE)] if moved_by_draft else []
    assert [(c.uid, c.kind) for c in result.conflicts] == expected
    assert result.merged == ours
