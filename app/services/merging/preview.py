"""The merge page: a merge's conflicts side by side, grouped by type, and the summary of what it writes."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from sqlalchemy.orm import Session

from app.catalog.nodes import Level, NodeState
from app.db import store
from app.db.models import Catalog, Draft, MergeConflict, User, Version
from app.services.catalogs import history
from app.services.merging import conflicts as merge_conflicts
from app.services.merging import merge as merging
from app.services.merging import options
from app.services.merging.conflicts import EDITABLE, recodable, renamable
from app.services.review.queue import label, reviewer_draft, value_text
from app.versioning.changes import FIELD_LABELS
from app.versioning.conflicts import Conflict as MergeClash
from app.versioning.conflicts import ConflictKey, ConflictKind
from app.versioning.diff import diff
from app.versioning.snapshot import Placement
from app.workflow.states import DraftState

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
    offers: frozenset[str] = frozenset()  # the one-click decisions the merge would take
    other: str = ""  # for a duplicate: the item it clashes with, as shown

    @property
    def refused(self) -> bool:
        """Return whether a recorded decision still leaves the conflict open (the merge held it back)."""
        return self.resolution is not None and self.open

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
        """Return whether a reviewer may type a third value (a new item's code, a duplicate's name)."""
        return self.field in EDITABLE or recodable(self.field, self.kind) or renamable(self.field, self.kind)


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
    renumbered: list[merging.CodeChange] = dataclass_field(default_factory=list)  # 编码调整, tree order

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
    state = DraftState(draft.status)
    if state is not DraftState.APPROVED:
        return settled(session, draft)
    return build(session, merging.plan(session, draft))


def settled(session: Session, draft: Draft) -> MergePreview:
    """Return the page of a draft that cannot be merged now (not approved yet, or merged already)."""
    catalog = session.get_one(Catalog, draft.catalog_id)
    into = session.get(Version, draft.merged_version_id) if draft.merged_version_id else None
    renumbered = merging.code_changes(session, draft) if into is not None else []
    return MergePreview(draft, catalog, DraftState(draft.status), None, [], [], [], "", into, renumbered)


def build(session: Session, planned: merging.MergePlan) -> MergePreview:
    """Return the page of `planned`: each conflict beside its stored row, grouped by type, and the summary."""
    draft, head, result = planned.draft, planned.head, planned.result
    ours = {u: n.state for u, n in planned.sub.head.items()}
    stored = {(r.uid, r.field): r for r in merge_conflicts.conflicts(session, draft.id)}
    still = {c.key for c in result.conflicts}
    known = {**planned.sub.base, **planned.sub.theirs, **result.merged}
    clashes = options.clashes(planned)
    hints = _code_hints(planned, session, clashes, known)
    views = []
    for c in clashes:
        row = stored.get((c.uid, c.field or ""))
        view = _conflict_view(c, row, known, still=c.key in still, hint=hints.get(c.key))
        other = label(known.get(c.other)) if c.other else ""
        offers = options.offers(planned, c) if row is not None else frozenset()
        views.append(dataclasses.replace(view, offers=offers, other=other))
    groups: dict[str, list[ConflictView]] = {}
    for v in views:
        groups.setdefault(v.type_uid, []).append(v)
    code_changes = {r.uid: r for r in result.code_changes}
    renumbered = {r.uid: r.provisional for r in code_changes.values()}
    summary = history.rows(history.Comparison(ours, result.merged, diff(ours, result.merged), renumbered))
    return MergePreview(
        draft,
        planned.catalog,
        DraftState(draft.status),
        head,
        views,
        [(t, label(known.get(t)) if t else "（其他）", vs) for t, vs in groups.items()],
        summary,
        _fingerprint(head, still, views, summary),
        renumbered=[
            merging.CodeChange(r.uid, r.new.name, renumbered[r.uid], r.new.code)
            for r in summary
            if r.uid in renumbered and r.new is not None
        ],
    )


def _fingerprint(
    head: Version, still: set[ConflictKey], views: list[ConflictView], summary: list[history.ChangeRow]
) -> str:
    """Return a short digest of what the reviewer sees: a merge confirms exactly this."""
    mark = [
        head.seq,
        sorted((u, f or "") for u, f in still),
        [(c.id, c.resolution) for c in views],
        [(r.uid, merge_conflicts.encode(None, r.new)) for r in summary],
    ]
    return hashlib.sha256(json.dumps(mark, ensure_ascii=False, default=str).encode()).hexdigest()[:16]


def _show(value: object, known: Mapping[str, NodeState]) -> str:
    if isinstance(value, Placement):
        parent = label(known.get(value.parent or "")) if value.parent else "（顶层）"
        return f"{parent} 下，编码 {value.code}"
    if isinstance(value, NodeState):
        return f"{value.code} {value.name}：{value.description or '（无说明）'}"
    if value is None:
        return "（不存在或已撤销）"
    return value_text(value)


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
    planned: merging.MergePlan,
    session: Session,
    clashes: Iterable[MergeClash],
    known: Mapping[str, NodeState],
) -> dict[ConflictKey, _CodeHint]:
    """Return, per duplicate-code conflict of a new item, who holds its code in the head and the next
    free code under its parent (taken: the head's children of that parent and the draft's)."""
    hints: dict[ConflictKey, _CodeHint] = {}
    catalog_id, head_seq, theirs = planned.catalog.id, planned.head.seq, planned.sub.theirs
    for clash in clashes:
        new = clash.theirs
        if not recodable(clash.field or "", clash.kind) or not isinstance(new, NodeState):
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
                free = planned.result.scheme.next_child(parent.code, new.level, taken)
            except ValueError:  # the parent's codes are used up: the reviewer types one
                free = None
        hints[clash.key] = _CodeHint(holder, free)
    return hints


def _conflict_view(
    clash: MergeClash,
    row: MergeConflict | None,
    known: Mapping[str, NodeState],
    *,
    still: bool,
    hint: _CodeHint | None = None,
) -> ConflictView:
    fld = clash.field or ""
    resolution = row.resolution if row is not None else None
    chosen = None
    decoded = None
    if row is not None and resolution == "edit":
        decoded = merge_conflicts.decode(clash.field, clash.uid, row.value)
        chosen = _show(decoded, known)
    elif resolution is not None:
        chosen = _show(clash.ours if resolution == "ours" else clash.theirs, known)
    shown = decoded if row is not None and resolution == "edit" else clash.theirs
    prefill = shown.code if isinstance(shown, Placement | NodeState) else shown
    if renamable(fld, str(clash.kind)) and isinstance(shown, NodeState):
        prefill = shown.name
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
