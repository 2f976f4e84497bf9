"""The pure catalog domain: code scheme, text normalisation, frameworks, the tree."""

from __future__ import annotations

import json

import pytest

from app.catalog.codes import child_code, fits_parent, next_child_code
from app.catalog.frameworks import parse_framework
from app.catalog.nodes import Level, NodeState
from app.catalog.text import name_key, normalise
from app.catalog.tree import build_tree, walk
from tests.paths import CATALOGS

FRAMEWORKS = CATALOGS / "frameworks"


@pytest.mark.parametrize(
    ("parent", "level", "number", "expected"),
    [
        ("A", Level.TYPE, 1, "A01"),
        ("A06", Level.ITEM, 12, "A06012"),
        ("A06012", Level.SUBITEM, 3, "A0601203"),
    ],
)
def test_child_code(parent: str, level: Level, number: int, expected: str) -> None:
    assert child_code(parent, level, number) == expected


def test_child_code_refuses_overflow() -> None:
    with pytest.raises(ValueError, match="超出"):
        child_code("A", Level.TYPE, 100)


@pytest.mark.parametrize(
    ("code", "parent", "level", "ok"),
    [
        ("A", None, Level.CLASS, True),
        ("a", None, Level.CLASS, False),
        ("A01", "A", Level.TYPE, True),
        ("B01", "A", Level.TYPE, False),
        ("A1", "A", Level.TYPE, False),
        ("A00", "A", Level.TYPE, False),
        ("A06001", "A06", Level.ITEM, True),
        ("A0601", "A06", Level.ITEM, False),
        ("A0600101", "A06001", Level.SUBITEM, True),
        ("A06001", None, Level.ITEM, False),
    ],
)
def test_fits_parent(code: str, parent: str | None, level: Level, *, ok: bool) -> None:
    assert fits_parent(code, parent, level) is ok


def test_next_child_code_skips_every_taken_code() -> None:
    assert next_child_code("A06", Level.ITEM, ["A06001", "A06007", "B01001", "A0600101"]) == "A06008"
    assert next_child_code("A06", Level.ITEM, []) == "A06001"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("　社区养老服务　", "社区养老服务"),
        ("ＡＢＣ１２３", "ABC123"),
        ("社区   养老\t服务", "社区 养老 服务"),
        ("养老服务（试点），含助餐；助浴。", "养老服务（试点），含助餐；助浴。"),
        ("①号楼", "1号楼"),
    ],
)
def test_normalise_keeps_chinese_punctuation(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_name_key_ignores_spaces_and_bracket_width() -> None:
    assert name_key("劳动就业（服务）") == name_key("劳动就业 (服务)")


@pytest.mark.parametrize(("slug", "classes", "types"), [("six_class", 6, 60), ("two_class_2020", 2, 30)])
def test_frameworks_have_their_published_shape(slug: str, classes: int, types: int) -> None:
    framework = parse_framework(json.loads((FRAMEWORKS / f"{slug}.json").read_text(encoding="utf-8")))
    assert (len(framework.classes), framework.type_count) == (classes, types)
    codes = [t.code for c in framework.classes for t in c.types]
    assert len(set(codes)) == len(codes)
    assert all(fits_parent(t.code, c.code, Level.TYPE) for c in framework.classes for t in c.types)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("基本公共服务", "A"),
        ("基本公共服务事项", "A"),
        (" 技术服务 ", "D"),
        ("政府履职辅助性服务", "E"),
        ("公共服务", None),
    ],
)
def test_class_name_variants(name: str, code: str | None) -> None:
    framework = parse_framework(json.loads((FRAMEWORKS / "six_class.json").read_text(encoding="utf-8")))
    found = framework.find_class(name)
    assert (found.code if found else None) == code


def _s(uid: str, parent: str | None, level: Level, code: str, sort_key: int = 0) -> NodeState:
    return NodeState(uid, parent, level, code, f"节点{code}", sort_key=sort_key)


def test_tree_orders_children_and_walks_parents_first() -> None:
    states = [
        _s("t2", "c", Level.TYPE, "A02", 20),
        _s("i1", "t1", Level.ITEM, "A01001"),
        _s("c", None, Level.CLASS, "A"),
        _s("t1", "c", Level.TYPE, "A01", 10),
    ]
    root, problems = build_tree(states)
    assert problems == []
    assert [s.uid for s in walk(root)] == ["c", "t1", "i1", "t2"]


def test_tree_reports_every_structural_problem() -> None:
    states = [
        _s("c", None, Level.CLASS, "A"),
        _s("t", "c", Level.TYPE, "B01"),
        _s("orphan", "missing", Level.ITEM, "A01001"),
        _s("deep", "c", Level.ITEM, "A001"),
        _s("floating", None, Level.TYPE, "A02"),
    ]
    _root, problems = build_tree(states)
    reasons = {p.uid: p.reason for p in problems}
    assert reasons == {
        "t": "编码 B01 与上级编码 A 不一致：二级目录编码为上级编码后加 2 位数字，如 A01",
        "orphan": "上级目录不存在",
        "deep": "三级目录不能挂在一级目录下",
        "floating": "二级目录缺少上级目录",
    }
