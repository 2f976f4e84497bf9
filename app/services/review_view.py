"""What the review desk and the merge page show: a draft's diff as a tree, its findings and comments,
and a merge's conflicts side by side with the summary of what it will write.

Read-only view models over the review, screening, history and merging services; the few writes
here (resolving conflicts per field or per type, the guarded merge) call those services.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalog.codes import next_child_code
from app.catalog.nodes import Level, NodeState
from app.db import store
from app.db.models import Catalog, Department, Draft, MergeConflict, User, Version
from app.errors import Conflict, InvalidInput
from app.services import access, drafts, history, merging, review, screening
from app.services import desk as desks
from app.services.screening import ItemFinding
from app.versioning.changes import FIELD_LABELS, Added, Change, Modified, Moved, Removed, Renumbered
from app.versioning.conflicts import PLACEMENT, ConflictKey, ConflictKind
from app.versioning.conflicts import Conflict as MergeClash
from app.versioning.diff import diff
from app.versioning.merge import merge
from app.versioning.resolve import Choice, Edit, Take, resolve
from app.versioning.snapshot import Placement
from app.workflow.states import DraftAction, DraftState, allowed_actions

DECISIONS = (DraftAction.RETURN, DraftAction.APPROVE)
BADGES = {"新增": "added", "撤销": "removed", "移动": "moved", "修改": "modified", "重新编号": "recoded"}


class Show(StrEnum):
    ALL = "all"
    FINDINGS = "findings"
    MOVES = "moves"


def reviewer_draft(session: Session, draft_id: int, *, actor: User) -> Draft:
    """Return the draft for a finance reviewer; NotFound if unseen, Forbidden for any other role."""
    draft = access.visible_draft(session, draft_id, actor)
    access.require_finance(actor)
    return draft


def queue(session: Session, *, actor: User) -> desks.Desk:
    """Return the drafts waiting for review and for merging in the reviewer's jurisdiction."""
    access.require_finance(actor)
    return desks.desk(session, actor)


# --- the review page -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommentView:
    id: int
    author: str
    body: str
    at: datetime | None
    uid: str | None


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


@dataclass(frozen=True, slots=True)
class Decision:
    """The draft's state and the decisions the viewer may take on it (drawn from allowed_actions)."""

    draft_id: int
    state: DraftState
    lock: int
    return_reason: str | None
    actions: list[DraftAction]

    @property
    def can_merge(self) -> bool:
        """Return whether the merge page has something to do."""
        return self.state is DraftState.APPROVED


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
    findings: int
    shown: int
    show: Show
    type_uid: str | None
    draft_comments: list[CommentView]


def decision(session: Session, draft_id: int, *, actor: User) -> Decision:
    """Return the draft's state and the review decisions `actor` may take now."""
    draft = reviewer_draft(session, draft_id, actor=actor)
    state = DraftState(draft.status)
    actions = [a for a in allowed_actions(state, access.role_of(actor)) if a in DECISIONS]
    return Decision(draft.id, state, draft.lock_version, draft.return_reason, actions)


def comments_of(session: Session, draft_id: int, *, actor: User) -> list[CommentView]:
    """Return every comment of the draft, oldest first."""
    return [
        CommentView(c.id, name, c.body, c.created_at, uid)
        for c, name, uid in review.comments(session, draft_id, actor=actor)
    ]


def findings_of(session: Session, draft_id: int, uid: str, *, actor: User) -> list[ItemFinding]:
    """Return the screening findings of one item of the draft."""
    reviewer_draft(session, draft_id, actor=actor)
    return [f for f in screening.draft_findings(session, draft_id, actor=actor) if f.uid == uid]


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
    tree = _Tree(comparison, found, said, names)
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
    )


def label(state: NodeState | None) -> str:
    """Return a node as a reviewer reads it: code and name."""
    return "（无）" if state is None else f"{state.code} {state.name}"


def _text(value: object) -> str:
    if value is None or value == "":
        return "（空）"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


class _Tree:
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
                node.fields = [FieldLine(f.label, _text(f.old), _text(f.new)) for f in change.fields]
            elif isinstance(change, Added | Removed):
                node.content = self._content(change.state)
        return node


# --- the merge page --------------------------------------------------------------------------

EDITABLE = ("name", "description", "department", "sort_key", PLACEMENT)
RESOLUTION_LABELS = {"ours": "采用现行版本", "theirs": "采用草稿", "edit": "编辑后的取值"}


@dataclass(frozen=True, slots=True)
class ConflictView:
    id: int | None  # None: found by the preview, not registered yet
    uid: str
    field: str  # '' for the whole node
    kind: str
    item: str
    type_uid: str
    message: str
    base: str
    head: str
    draft: str
    prefill: str
    resolution: str | None
    chosen: str | None  # the value the resolution keeps, as shown
    open: bool

    @property
    def field_label(self) -> str:
        """Return the Chinese name of what is in conflict."""
        return FIELD_LABELS.get(self.field, "整个条目")

    @property
    def kind_label(self) -> str:
        """Return the Chinese name of the conflict's kind."""
        return ConflictKind(self.kind).label

    @property
    def editable(self) -> bool:
        """Return whether a reviewer may type a third value (for a new item's clashing code: the code)."""
        return self.field in EDITABLE or _recodable(self.field, self.kind)


@dataclass
class MergePreview:
    draft: Draft
    catalog: Catalog
    state: DraftState
    head: Version | None
    conflicts: list[ConflictView]
    groups: list[tuple[str, str, list[ConflictView]]]  # (type uid, type label, its conflicts)
    summary: list[history.ChangeRow]
    fingerprint: str
    merged_into: Version | None = None

    @property
    def open(self) -> int:
        """Return how many conflicts still wait for a decision."""
        return sum(1 for c in self.conflicts if c.open)

    @property
    def unregistered(self) -> bool:
        """Return whether the preview found conflicts not yet stored for resolution."""
        return any(c.id is None for c in self.conflicts)


def merge_preview(session: Session, draft_id: int, *, actor: User) -> MergePreview:
    """Return what merging the draft would do now: its conflicts, their resolutions and the summary."""
    draft = reviewer_draft(session, draft_id, actor=actor)
    catalog = session.get_one(Catalog, draft.catalog_id)
    state = DraftState(draft.status)
    if state is not DraftState.APPROVED:
        into = session.get(Version, draft.merged_version_id) if draft.merged_version_id else None
        return MergePreview(draft, catalog, state, None, [], [], [], "", into)
    head = drafts.latest_version(session, catalog)
    changes = drafts.open_draft(session, draft.id, actor=actor).changes
    sub = merging.subgraph(session, draft, changes, head.seq)
    ours = {u: n.state for u, n in sub.head.items()}
    raw = merge(sub.base, ours, sub.theirs)
    stored = {(r.uid, r.field): r for r in merging.conflicts(session, draft.id)}
    result = resolve(raw, _choices(stored, {c.key for c in raw.conflicts}))
    still = {c.key for c in result.conflicts}
    known = {**sub.base, **sub.theirs, **result.merged}
    seen = {c.key for c in raw.conflicts}
    clashes = [*raw.conflicts, *(c for c in result.conflicts if c.key not in seen)]
    hints = _code_hints(session, draft.catalog_id, head.seq, clashes, sub.theirs, known)
    views = [
        _conflict_view(c, stored.get((c.uid, c.field or "")), c.key in still, known, hints.get(c.key))
        for c in clashes
    ]
    groups: dict[str, list[ConflictView]] = {}
    for v in views:
        groups.setdefault(v.type_uid, []).append(v)
    summary = history.rows(history.Comparison(ours, result.merged, diff(ours, result.merged)))
    digest = _fingerprint(head, still, views, summary)
    return MergePreview(
        draft,
        catalog,
        state,
        head,
        views,
        [(t, label(known.get(t)) if t else "（其他）", vs) for t, vs in groups.items()],
        summary,
        digest,
    )


def _fingerprint(
    head: Version, still: set[ConflictKey], views: list[ConflictView], summary: list[history.ChangeRow]
) -> str:
    """Return a short digest of what the reviewer sees: a merge confirms exactly this."""
    mark = [
        head.seq,
        sorted((u, f or "") for u, f in still),
        [(c.id, c.resolution) for c in views],
        [(r.uid, merging.encode(None, r.new)) for r in summary],
    ]
    return hashlib.sha256(json.dumps(mark, ensure_ascii=False, default=str).encode()).hexdigest()[:16]


def _choices(
    stored: Mapping[tuple[str, str], MergeConflict], open_keys: set[ConflictKey]
) -> dict[ConflictKey, Choice]:
    choices: dict[ConflictKey, Choice] = {}
    for (uid, fld), row in stored.items():
        key = (uid, fld or None)
        if row.resolution is None or (key not in open_keys and row.resolution != "edit"):
            continue  # the same rule merge_draft applies
        if row.resolution == "edit":
            choices[key] = Edit(merging.decode(fld or None, uid, row.value))
        else:
            choices[key] = Take.OURS if row.resolution == "ours" else Take.THEIRS
    return choices


def _recodable(fld: str, kind: str) -> bool:
    """Return whether the conflict is a whole new item whose code clashes: an edit gives it a new code."""
    return fld == "" and kind == ConflictKind.DUPLICATE_CODE


def _show(value: object, known: Mapping[str, NodeState]) -> str:
    if isinstance(value, Placement):
        parent = label(known.get(value.parent or "")) if value.parent else "（顶层）"
        return f"{parent} 下，编码 {value.code}"
    if isinstance(value, NodeState):
        return f"{value.code} {value.name}：{value.description or '（无说明）'}"
    if value is None:
        return "（不存在或已撤销）"
    return _text(value)


def _type_of(uid: str | None, known: Mapping[str, NodeState]) -> str:
    while uid is not None and uid in known:
        if known[uid].level <= Level.TYPE:
            return uid
        uid = known[uid].parent
    return ""


@dataclass(frozen=True, slots=True)
class _CodeHint:
    """For a new item whose code clashes: the head's item that holds the code, and a free code."""

    holder: NodeState | None
    free: str | None


def _code_hints(
    session: Session,
    catalog_id: int,
    head_seq: int,
    clashes: Iterable[MergeClash],
    theirs: Mapping[str, NodeState],
    known: Mapping[str, NodeState],
) -> dict[ConflictKey, _CodeHint]:
    """Return, per duplicate-code conflict of a new item, who holds its code in the head and the next
    free code under its parent (taken: the head's children of that parent and the draft's)."""
    hints: dict[ConflictKey, _CodeHint] = {}
    for clash in clashes:
        new = clash.theirs
        if not _recodable(clash.field or "", clash.kind) or not isinstance(new, NodeState):
            continue
        if new.parent is None:
            hints[clash.key] = _CodeHint(None, None)
            continue
        siblings = [
            n.state
            for n in store.load_nodes(session, catalog_id, head_seq, parent_uids=[new.parent]).values()
        ]
        holder = next((n for n in siblings if n.code == new.code and n.uid != clash.uid), None)
        taken = {n.code for n in siblings} | {n.code for n in theirs.values() if n.parent == new.parent}
        parent = known.get(new.parent)
        free = None
        if parent is not None and new.level > Level.CLASS:
            try:
                free = next_child_code(parent.code, new.level, taken)
            except ValueError:  # the parent's codes are used up: the reviewer types one
                free = None
        hints[clash.key] = _CodeHint(holder, free)
    return hints


def _conflict_view(
    clash: MergeClash,
    row: MergeConflict | None,
    still: bool,
    known: Mapping[str, NodeState],
    hint: _CodeHint | None = None,
) -> ConflictView:
    fld = clash.field or ""
    resolution = row.resolution if row is not None else None
    chosen = None
    decoded = None
    if row is not None and resolution == "edit":
        decoded = merging.decode(clash.field, clash.uid, row.value)
        chosen = _show(decoded, known)
    elif resolution is not None:
        chosen = _show(clash.ours if resolution == "ours" else clash.theirs, known)
    shown = decoded if row is not None and resolution == "edit" else clash.theirs
    prefill = shown.code if isinstance(shown, Placement | NodeState) else shown
    base, head = _show(clash.base, known), _show(clash.ours, known)
    if hint is not None:
        if clash.base is None:
            base = "（原版本中没有：草稿新增的条目）"
        if hint.holder is not None:
            head = f"编码 {hint.holder.code} 已由「{label(hint.holder)}」使用；采用现行版本即不新增此条目"
        if hint.free is not None and resolution != "edit":
            prefill = hint.free
    return ConflictView(
        id=row.id if row is not None else None,
        uid=clash.uid,
        field=fld,
        kind=str(clash.kind),
        item=label(known.get(clash.uid) or (clash.base if isinstance(clash.base, NodeState) else None)),
        type_uid=_type_of(clash.uid, known),
        message=clash.message_zh,
        base=base,
        head=head,
        draft=_show(clash.theirs, known),
        prefill="" if prefill is None or isinstance(prefill, dict) else str(prefill),
        resolution=resolution,
        chosen=chosen,
        open=still or row is None,
    )


def resolve_one(
    session: Session, draft_id: int, conflict_id: int, *, take: str, value: str, actor: User
) -> MergeConflict:
    """Record a reviewer's decision on one stored conflict; an edit's text is parsed by its field."""
    reviewer_draft(session, draft_id, actor=actor)
    row = next((r for r in merging.conflicts(session, draft_id) if r.id == conflict_id), None)
    if row is None:  # a later merge attempt stores the open conflicts again, under new ids
        raise Conflict("这个冲突已重新登记或已不存在，请重新载入页面后再处理")
    parsed = _edited(row, value) if take == "edit" else None
    return merging.resolve_conflict(session, draft_id, conflict_id, take=take, value=parsed, actor=actor)


def _edited(row: MergeConflict, text: str) -> object:
    text = text.strip()
    recode = _recodable(row.field, row.kind) and isinstance(row.theirs, dict)
    if row.field not in EDITABLE and not recode:
        raise InvalidInput("这类冲突只能在现行版本与草稿之间二选一")
    if (recode or row.field in ("name", PLACEMENT)) and not text:
        raise InvalidInput("编辑后的取值不能为空")
    if row.field == "sort_key":
        if not text.lstrip("-").isdigit():
            raise InvalidInput("排序须为整数")
        return int(text)
    if row.field == "department":
        return text or None
    if recode or row.field == PLACEMENT:
        return {**(row.theirs or row.ours or {}), "code": text}
    return text


def resolve_type(session: Session, draft_id: int, type_uid: str, *, take: str, actor: User) -> list[int]:
    """Take one side for every open, registered conflict under a type; return the ids resolved."""
    if take not in ("ours", "theirs"):
        raise InvalidInput("整类处理只能选择：采用现行版本或采用草稿")
    preview = merge_preview(session, draft_id, actor=actor)
    todo: list[int] = [
        c.id for c in preview.conflicts if c.type_uid == type_uid and c.open and c.id is not None
    ]
    if not todo:
        raise InvalidInput("该类下没有待处理的冲突")
    for conflict_id in todo:
        merging.resolve_conflict(session, draft_id, conflict_id, take=take, actor=actor)
    return todo


def merge_seen(
    session: Session, draft_id: int, *, seen: str, actor: User
) -> tuple[MergePreview, merging.MergeOutcome]:
    """Merge the draft as the reviewer last saw it (`seen`), returning what they saw and the outcome.

    Conflict when the preview has changed since. With conflicts still open nothing is written and they
    are stored for resolution: that is how a reviewer registers the conflicts the preview found.
    """
    preview = merge_preview(session, draft_id, actor=actor)
    if preview.state is not DraftState.APPROVED or preview.fingerprint != seen:
        raise Conflict(
            "自您打开本页以来，合并内容已有变化（现行目录、冲突处理或草稿状态），请重新载入后核对再合并",
            details={"open": preview.open, "changes": len(preview.summary), "state": preview.state.label},
        )
    return preview, review.merge(session, draft_id, actor=actor)
