"""A draft's review page: its diff as a tree of changed nodes, filtered, with findings and comments."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalog.nodes import Level, NodeState
from app.db.models import Catalog, Department, Draft, User, Version
from app.services.catalogs import history
from app.services.merging import merge as merging
from app.services.review.queue import (
    CommentView,
    Decision,
    comments_of,
    decision,
    label,
    reviewer_draft,
    value_text,
)
from app.services.screening import drafts as screening
from app.services.screening.drafts import ItemFinding
from app.versioning.changes import Added, Change, Modified, Moved, Removed, Renumbered, Reordered

BADGES = {
    "新增": "added",
    "撤销": "removed",
    "移动": "moved",
    "修改": "modified",
    "重新编号": "recoded",
    "排序调整": "reordered",
}


class Show(StrEnum):
    ALL = "all"
    FINDINGS = "findings"
    MOVES = "moves"


@dataclass(frozen=True, slots=True)
class FieldLine:
    label: str
    old: str
    new: str


@dataclass
class TreeNode:
    uid: str
    level: int
    code: str
    name: str
    department: str | None
    badges: list[tuple[str, str]] = field(default_factory=list)  # (label, css suffix)
    moved: tuple[str, str] | None = None
    recoded: tuple[str, str] | None = None
    fields: list[FieldLine] = field(default_factory=list)
    content: list[tuple[str, str]] = field(default_factory=list)  # a new or withdrawn item's (label, text)
    findings: list[ItemFinding] = field(default_factory=list)
    comments: list[CommentView] = field(default_factory=list)
    children: list[TreeNode] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Return whether the draft changes this node (else it is shown as context)."""
        return bool(self.badges)

    @property
    def removed(self) -> bool:
        """Return whether the draft withdraws this node."""
        return any(css == "removed" for _, css in self.badges)


@dataclass
class ReviewPage:
    draft: Draft
    catalog: Catalog
    department: str
    base_seq: int
    decision: Decision
    tree: list[TreeNode]
    types: list[tuple[str, str]]  # (uid, "code name") of the types the draft touches
    counts: dict[str, int]

    @property
    def count_badges(self) -> list[tuple[str, str, int]]:
        """Return each kind of change with its badge's CSS name and how many nodes show it."""
        return [(text, BADGES[text], n) for text, n in self.counts.items()]

    findings: int
    shown: int
    show: Show
    type_uid: str | None
    draft_comments: list[CommentView]
    code_changes: dict[str, merging.CodeChange] = field(default_factory=dict)  # 编码调整 by uid


def review_page(
    session: Session, draft_id: int, *, actor: User, show: Show = Show.ALL, type_uid: str | None = None
) -> ReviewPage:
    """Return the review page of a draft: its diff as a tree, filtered, with findings and comments."""
    draft = reviewer_draft(session, draft_id, actor=actor)
    comparison = history.compare_draft(session, draft)
    found: dict[str, list[ItemFinding]] = {}
    for f in screening.draft_findings(session, draft.id, actor=actor):
        found.setdefault(f.uid, []).append(f)
    said = comments_of(session, draft.id, actor=actor)
    catalog = session.get_one(Catalog, draft.catalog_id)
    where = Department.jurisdiction_id == catalog.jurisdiction_id
    names = dict(session.execute(select(Department.code, Department.name).where(where)).all())
    tree = DiffTree(comparison, found, said, names)
    kept = [u for u in tree.changed if tree.matches(u, show, type_uid)]
    department = session.get(Department, draft.department_id) if draft.department_id else None
    return ReviewPage(
        draft=draft,
        catalog=catalog,
        department=department.name if department else "财政部门",
        base_seq=session.get_one(Version, draft.base_version_id).seq,
        decision=decision(session, draft.id, actor=actor),
        tree=tree.roots(kept),
        types=tree.types(),
        counts=tree.counts(),
        findings=sum(len(v) for v in found.values()),
        shown=len(kept),
        show=show,
        type_uid=type_uid,
        draft_comments=[c for c in said if c.uid is None],
        code_changes={c.uid: c for c in merging.code_changes(session, draft)},
    )


class DiffTree:
    """The draft's changed nodes with their ancestors, as a tree in catalog order."""

    def __init__(
        self,
        comparison: history.Comparison,
        found: Mapping[str, list[ItemFinding]],
        said: Iterable[CommentView],
        departments: Mapping[str, str],
    ) -> None:
        self.departments = departments
        self.before, self.after = comparison.before, comparison.after
        self.states = {**self.before, **self.after}
        self.old_states = {**self.after, **self.before}
        self.changes: dict[str, list[Change]] = {}
        for change in comparison.changes:
            self.changes.setdefault(change.uid, []).append(change)
        self.changed = list(self.changes)
        self.found = found
        self.said: dict[str, list[CommentView]] = {}
        for c in said:
            if c.uid is not None:
                self.said.setdefault(c.uid, []).append(c)

    def _type_of(self, uid: str | None, states: Mapping[str, NodeState]) -> str | None:
        while uid is not None and uid in states:
            if states[uid].level == Level.TYPE:
                return uid
            uid = states[uid].parent
        return None

    def matches(self, uid: str, show: Show, type_uid: str | None) -> bool:
        """Return whether the changed node `uid` passes the filters."""
        if show is Show.FINDINGS and not self.found.get(uid):
            return False
        if show is Show.MOVES and not any(isinstance(c, Moved) for c in self.changes[uid]):
            return False
        types = {self._type_of(uid, self.states), self._type_of(uid, self.old_states)}
        return type_uid is None or type_uid in types

    def types(self) -> list[tuple[str, str]]:
        """Return the types that hold a change (before or after it), in code order."""
        found = {self._type_of(u, s) for u in self.changed for s in (self.states, self.old_states)} - {None}
        return sorted(((t, label(self.states[t])) for t in found if t), key=lambda p: p[1])

    def counts(self) -> dict[str, int]:
        """Return how many nodes carry each badge."""
        out = dict.fromkeys(BADGES, 0)
        for uid in self.changed:
            for text, _ in self._node(uid).badges:
                out[text] += 1
        return out

    def roots(self, kept: list[str]) -> list[TreeNode]:
        """Return the kept nodes under their ancestors, as trees in catalog order."""
        nodes: dict[str, TreeNode] = {}
        roots: list[str] = []
        children: dict[str, list[str]] = {}
        for uid in kept:
            current: str | None = uid
            child: str | None = None
            while current is not None:
                if child is not None:
                    children.setdefault(current, []).append(child)
                if current in nodes:
                    break
                nodes[current] = self._node(current)
                parent = self.states[current].parent
                if parent is None or parent not in self.states:
                    roots.append(current)
                    break
                child, current = current, parent
        for uid, node in nodes.items():
            node.children = [nodes[c] for c in self._sorted(children.get(uid, []))]
        return [nodes[r] for r in self._sorted(roots)]

    def _sorted(self, uids: list[str]) -> list[str]:
        return sorted(set(uids), key=lambda u: (self.states[u].sort_key, self.states[u].code, u))

    def _content(self, state: NodeState) -> list[tuple[str, str]]:
        """Return what a new or withdrawn item holds: its 服务内容 and its 购买主体."""
        dept = self.departments.get(state.department, state.department) if state.department else None
        return [("服务内容", state.description or "（无说明）"), ("购买主体", dept or "（未指定）")]

    def _node(self, uid: str) -> TreeNode:
        state = self.states[uid]
        dept = self.departments.get(state.department, state.department) if state.department else None
        node = TreeNode(uid, int(state.level), state.code, state.name, dept)
        node.findings = list(self.found.get(uid, []))
        node.comments = self.said.get(uid, [])
        for change in self.changes.get(uid, []):
            if isinstance(change, Reordered) and not change.shown:
                continue  # a moved node's new sort key: the move says it all
            text = {Modified: "修改", Renumbered: "重新编号"}.get(type(change), change.label)
            if text not in (t for t, _ in node.badges):
                node.badges.append((text, BADGES[text]))
            if isinstance(change, Moved):
                old, new = self.states.get(change.old_parent or ""), self.states.get(change.new_parent or "")
                node.moved = (label(old), label(new))
                if change.old_code != change.new_code:
                    node.recoded = (change.old_code, change.new_code)
            elif isinstance(change, Renumbered):
                node.recoded = (change.old_code, change.new_code)
            elif isinstance(change, Modified):
                node.fields = [
                    FieldLine(f.label, value_text(f.old), value_text(f.new)) for f in change.fields
                ]
            elif isinstance(change, Added | Removed):
                node.content = self._content(change.state)
        return node
