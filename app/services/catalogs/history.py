"""What changed: between two versions, in a draft, and to one item across versions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalog.nodes import NodeState
from app.clock import end_of_day
from app.db import draft_store, queries, store
from app.db.models import Catalog, Draft, DraftChange, Node, Version
from app.errors import InvalidInput, NotFound
from app.formats.sheets import collector_paused
from app.versioning.changes import Change, Modified, Reordered
from app.versioning.diff import diff


@dataclass(frozen=True, slots=True)
class Comparison:
    """Two states of the same part of a catalog and the changes between them, in tree order."""

    before: dict[str, NodeState]
    after: dict[str, NodeState]
    changes: list[Change]
    renumbered: Mapping[str, str] = field(default_factory=dict)  # uid → the provisional code a merge changed


def _closed(
    session: Session, catalog_id: int, seq: int, found: dict[str, store.StoredNode]
) -> dict[str, NodeState]:
    """Return `found` with every ancestor added (diff orders changes by their path from the root)."""
    states = {u: n.state for u, n in found.items()}
    tried: set[str] = set()
    while missing := {s.parent for s in states.values() if s.parent and s.parent not in states} - tried:
        tried |= missing
        states.update(
            {u: n.state for u, n in store.load_nodes(session, catalog_id, seq, uids=missing).items()}
        )
    return states


def compare_versions(session: Session, catalog: Catalog, a: Version, b: Version) -> Comparison:
    """Return how version `a` became `b`, reading only the revisions that start or end between them.

    Either way round: `a` newer than `b` gives the changes that undo them (see `ordered_pair` for
    what people may ask to compare).
    """
    # Thousands of states and changes, no reference cycles: the cyclic collector would only
    # walk the process's live objects again and again (a quarter of a 650k-node diff's time).
    with collector_paused():
        before, after = store.states_between(session, catalog.id, a.seq, b.seq)
        return Comparison(before, after, diff(before, after), renumbered_between(session, catalog, a, b))


def renumbered_between(session: Session, catalog: Catalog, a: Version, b: Version) -> dict[str, str]:
    """Return uid → provisional code of the new items whose merge into a version after `a`, up to
    `b`, gave them another code (either way round)."""
    low, high = sorted((a.seq, b.seq))
    stmt = (
        select(Node.uid, DraftChange.fields, DraftChange.merged_code)
        .join(DraftChange, DraftChange.node_id == Node.id)
        .join(Draft, Draft.id == DraftChange.draft_id)
        .join(Version, Version.id == Draft.merged_version_id)
        .where(Version.catalog_id == catalog.id, Version.seq > low, Version.seq <= high)
        .where(DraftChange.merged_code.is_not(None))
    )
    return {uid: fields["code"] for uid, fields, _ in session.execute(stmt) if fields}


def compare_draft(session: Session, draft: Draft) -> Comparison:
    """Return what a draft proposes against its base, reading only the nodes it touches."""
    base_seq = session.get_one(Version, draft.base_version_id).seq
    changes = draft_store.load_changes(session, draft.id)
    before = {c.uid: c.base for c in changes if c.base is not None}
    after = {c.uid: c.proposed for c in changes if c.proposed is not None}
    parents = {s.parent for s in (*before.values(), *after.values()) if s.parent}
    context = _closed(
        session,
        draft.catalog_id,
        base_seq,
        store.load_nodes(session, draft.catalog_id, base_seq, uids=parents),
    )
    touched = {c.uid for c in changes}
    unchanged = {u: s for u, s in context.items() if u not in touched}
    return Comparison(
        {**unchanged, **before}, {**unchanged, **after}, diff({**unchanged, **before}, {**unchanged, **after})
    )


def ordered_pair(a: int, b: int) -> None:
    """Raise InvalidInput when `a` is newer than `b`: read that way round, what `b` withdrew would
    show as 新增 (a version compared with itself simply shows no change)."""
    if a > b:
        raise InvalidInput(f"请把较早的版本放在前面：比较第{b}版 → 第{a}版，而不是第{a}版 → 第{b}版")


def public_pair(session: Session, catalog: Catalog, a: int | None, b: int | None) -> tuple[Version, Version]:
    """Return public versions `a` and `b` (default: the newest and the one before it), or raise NotFound."""
    public = queries.versions(session, catalog.id)
    if b is None:
        if not public:
            raise NotFound(f"目录“{catalog.name}”尚无已公开的版本")
        b = public[0].seq
    if a is None:
        older = [v for v in public if v.seq < b]
        if not older:
            raise NotFound(f"第{b}版之前没有已公开的版本可以比较")
        a = older[0].seq
    ordered_pair(a, b)
    by_seq = {v.seq: v for v in public}
    for seq in (a, b):
        if seq not in by_seq:
            raise NotFound(f"目录“{catalog.name}”没有已公开的第{seq}版")
    return by_seq[a], by_seq[b]


# --- one row per node: the 新旧对照表 ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChangeRow:
    uid: str
    kinds: tuple[str, ...]  # 新增 / 撤销 / 移动 / 重新编号 / 排序调整 / 更名 / 内容调整 / 编码调整
    old: NodeState | None
    new: NodeState | None
    fields: tuple[str, ...]  # labels of the fields that changed
    provisional: str | None = None  # a new item's code in its draft, when its merge gave another

    @property
    def label(self) -> str:
        """Return the kinds joined for a table cell, e.g. 移动、更名."""
        return "、".join(self.kinds)


RENUMBERED = "编码调整"  # a new item's code, given by the merge instead of the one its draft proposed


def rows(comparison: Comparison) -> list[ChangeRow]:
    """Return the comparison as one row per node, in tree order (what the CSV change table shows)."""
    order: list[str] = []
    grouped: dict[str, list[Change]] = {}
    for change in comparison.changes:
        uid = change.uid
        if uid not in grouped:
            order.append(uid)
        grouped.setdefault(uid, []).append(change)
    out = []
    for uid in order:
        changes = [c for c in grouped[uid] if not isinstance(c, Reordered) or c.shown]
        if not changes:  # only a moved node's new sort key: nothing a reader is told of
            continue
        fields = tuple(f.label for c in changes if isinstance(c, Modified) for f in c.fields)
        kinds = tuple(c.label for c in changes)
        provisional = comparison.renumbered.get(uid)
        after = comparison.after.get(uid)
        if provisional is not None and after is not None and after.code != provisional:
            kinds = (*kinds, RENUMBERED)
        else:
            provisional = None
        out.append(ChangeRow(uid, kinds, comparison.before.get(uid), after, fields, provisional))
    return out


CHANGE_TABLE_COLUMNS = [
    "变动类型",
    "原目录编码",
    "原名称",
    "新目录编码",
    "新名称",
    "购买主体",
    "调整内容",
    "uid",
]


def change_table(comparison: Comparison, department_names: dict[str, str]) -> list[list[str]]:
    """Return the 新旧对照表 rows (without the header) in CHANGE_TABLE_COLUMNS order."""
    table = []
    for r in rows(comparison):
        either = r.new or r.old
        dept = either.department if either is not None else None
        table.append(
            [
                r.label,
                r.old.code if r.old else "",
                r.old.name if r.old else "",
                r.new.code if r.new else "",
                r.new.name if r.new else "",
                department_names.get(dept or "", dept or ""),
                "、".join((*r.fields, f"编码调整：草稿暂定 {r.provisional}") if r.provisional else r.fields),
                r.uid,
            ]
        )
    return table


# --- one item across versions ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    version: Version
    state: NodeState | None  # None: not in this version
    kinds: tuple[str, ...]  # what happened since the previous public version ('' for the first appearance)


def item_history(session: Session, catalog: Catalog, uid: str) -> list[HistoryEntry]:
    """Return the item's state in each public version where it appeared or changed, oldest first."""
    revisions = store.node_revisions(session, catalog.id, uid)
    if not revisions:
        raise NotFound("没有这个目录条目")
    public = sorted(queries.versions(session, catalog.id), key=lambda v: v.seq)
    entries: list[HistoryEntry] = []
    previous: NodeState | None = None
    for version in public:
        state = next(
            (s for start, end, s in revisions if start <= version.seq and (end is None or end > version.seq)),
            None,
        )
        if state == previous:
            continue
        kinds = tuple(
            c.label
            for c in diff({} if previous is None else {uid: previous}, {} if state is None else {uid: state})
            if not isinstance(c, Reordered) or c.shown
        )
        entries.append(HistoryEntry(version, state, kinds))
        previous = state
    if not entries:
        raise NotFound("这个目录条目不在任何已公开的版本中")
    return entries


def version_as_of(session: Session, catalog: Catalog, day: date) -> Version:
    """Return the public version that was current on `day` (Beijing time), or raise NotFound."""
    until = end_of_day(day)
    candidates = [
        v for v in queries.versions(session, catalog.id) if v.published_at and v.published_at < until
    ]
    if not candidates:
        raise NotFound(f"{day.isoformat()} 时目录“{catalog.name}”尚未公开任何版本")
    return max(candidates, key=lambda v: v.seq)
