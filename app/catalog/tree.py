"""The catalog held in memory as a tree (the one place anytree is used).

Used where a bounded tree is needed whole: validating a department's subtree or a demo
catalog before it is written, and laying out the classes and types of a page. A
province-size catalog is never built here; pages query what they show.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from anytree import NodeMixin, PreOrderIter

from app.catalog.codes import DEFAULT_SCHEME, CodeScheme
from app.catalog.nodes import Level, NodeState


class TreeNode(NodeMixin):  # type: ignore[misc]
    """A node of the in-memory tree; `state` is None only for the root."""

    def __init__(self, state: NodeState | None, parent: TreeNode | None = None) -> None:
        super().__init__()
        self.state = state
        self.parent = parent


@dataclass(frozen=True, slots=True)
class TreeProblem:
    uid: str
    reason: str


def build_tree(
    states: Iterable[NodeState], scheme: CodeScheme = DEFAULT_SCHEME
) -> tuple[TreeNode, list[TreeProblem]]:
    """Return the tree of `states` under a synthetic root, and every structural problem found.

    Children are ordered by (sort_key, code). A node whose parent is missing, whose level is
    not its parent's plus one, or whose code contradicts its parent's is reported, not dropped.
    """
    by_uid = {s.uid: TreeNode(s) for s in states}
    root = TreeNode(None)
    problems: list[TreeProblem] = []
    for node in by_uid.values():
        state = node.state
        assert state is not None
        if state.parent is None:
            if state.level is not Level.CLASS:
                problems.append(TreeProblem(state.uid, f"{state.level.label}缺少上级目录"))
            node.parent = root
            continue
        parent = by_uid.get(state.parent)
        if parent is None or parent.state is None:
            problems.append(TreeProblem(state.uid, "上级目录不存在"))
            continue
        if state.level != parent.state.level + 1:
            problems.append(
                TreeProblem(state.uid, f"{state.level.label}不能挂在{parent.state.level.label}下")
            )
            continue
        if not scheme.fits(state.code, parent.state.code, state.level):
            expected = scheme.expected(state.level, parent.state.code)
            problems.append(
                TreeProblem(state.uid, f"编码 {state.code} 与上级编码 {parent.state.code} 不一致：{expected}")
            )
        node.parent = parent
    for node in PreOrderIter(root):
        node.children = sorted(node.children, key=_order)
    return root, problems


def _order(node: TreeNode) -> tuple[int, str]:
    assert node.state is not None
    return (node.state.sort_key, node.state.code)


def walk(root: TreeNode) -> Iterator[NodeState]:
    """Yield the states of the tree in document order (parents before their children)."""
    for node in PreOrderIter(root):
        if node.state is not None:
            yield node.state
