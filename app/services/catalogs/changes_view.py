"""What the public "what changed" and item pages show, built from history's comparisons.

Replacement rule ("what replaced a withdrawn item, when known"): a node withdrawn between two
public versions is replaced by a node *added* between the same two versions, at the same level,
that carries the withdrawn node's code (the code was handed on) or the same name (compared with
`name_key`, so spacing and full-width letters do not matter). Nothing else is guessed: a
similar-sounding name is not a replacement. A withdrawn node whose uid comes back later (a
reverted merge) is not withdrawn any more: the item simply reappears in its history.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from app.catalog.nodes import Level, NodeState
from app.catalog.text import name_key
from app.db import queries
from app.db.export_query import RowFilter
from app.db.models import Catalog, Jurisdiction, Version
from app.db.queries import NodeRow
from app.errors import NotFound
from app.formats.exports import json_document
from app.screening import Finding, ScreenItem, screen
from app.services.catalogs import browse, history
from app.services.catalogs.history import ChangeRow, Comparison, HistoryEntry
from app.services.exports import files as exports
from app.services.exports.rows import ITEM_LEVELS, entries
from app.services.screening.rules import current_matcher

KIND_ORDER = ("新增", "撤销", "更名", "移动", "重新编号", "排序调整", "内容调整", "编码调整")
MAIN_KINDS = frozenset(("新增", "撤销", "更名", "移动", "内容调整"))  # counted even when none happened
SHOWN_FIELDS = {"name": "名称", "description": "服务内容", "department": "购买主体", "level": "层级"}


@dataclass(frozen=True, slots=True)
class Delta:
    """One field of a node shown as old → new (values already in words)."""

    label: str
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class ChangeLine:
    row: ChangeRow
    department: str
    deltas: tuple[Delta, ...]
    replaced_by: tuple[NodeState, ...]

    @property
    def state(self) -> NodeState:
        """Return the node as the newer version has it, or as it was before it was withdrawn."""
        found = self.row.new or self.row.old
        assert found is not None  # a change row always has one side
        return found


@dataclass(frozen=True, slots=True)
class TypeGroup:
    node: NodeState | None  # None: changes to a class itself
    lines: list[ChangeLine]


@dataclass(frozen=True, slots=True)
class ClassGroup:
    node: NodeState | None
    types: list[TypeGroup]

    @property
    def count(self) -> int:
        """Return the number of changed nodes in the class."""
        return sum(len(t.lines) for t in self.types)


@dataclass(frozen=True, slots=True)
class ChangesView:
    older: Version
    newer: Version
    summary: list[tuple[str, int]]  # (kind, number of nodes) in KIND_ORDER; each node counted once
    total: int
    groups: list[ClassGroup]


def replacements(rows: Sequence[ChangeRow]) -> dict[str, tuple[NodeState, ...]]:
    """Return, by withdrawn uid, the nodes added in the same comparison that replace it (module rule)."""
    added = [r.new for r in rows if r.old is None and r.new is not None]
    out: dict[str, tuple[NodeState, ...]] = {}
    for r in rows:
        gone = r.old if r.new is None else None
        if gone is None:
            continue
        found = tuple(
            a
            for a in added
            if a.level == gone.level and (a.code == gone.code or name_key(a.name) == name_key(gone.name))
        )
        if found:
            out[gone.uid] = found
    return out


def changes_view(session: Session, cat: Catalog, older: Version, newer: Version) -> ChangesView:
    """Return how public version `older` became `newer`: counts per kind and the changes by class and type."""
    comparison = history.compare_versions(session, cat, older, newer)
    rows = history.rows(comparison)
    departments = browse.department_names(session, cat)
    replaced = replacements(rows)
    counts = dict.fromkeys(KIND_ORDER, 0)
    groups: dict[tuple[str, str], list[ChangeLine]] = {}
    for r in rows:  # a node counts once, under its first kind: the counters add up to the heading
        first = min(r.kinds, key=lambda k: KIND_ORDER.index(k) if k in KIND_ORDER else len(KIND_ORDER))
        counts[first] = counts.get(first, 0) + 1
        line = ChangeLine(
            r, _department(r, departments), _row_deltas(r, comparison, departments), replaced.get(r.uid, ())
        )
        groups.setdefault(_place(comparison, line), []).append(line)
    summary = [(kind, n) for kind, n in counts.items() if n or kind in MAIN_KINDS]
    return ChangesView(older, newer, summary, len(rows), _grouped(comparison, groups))


def _department(r: ChangeRow, departments: Mapping[str, str]) -> str:
    either = r.new or r.old
    code = either.department if either else None
    return departments.get(code or "", code or "")


def _place(comparison: Comparison, line: ChangeLine) -> tuple[str, str]:
    """Return the uids of the class and type a change is listed under ('' where there is none)."""
    snapshot = comparison.after if line.row.new is not None else comparison.before
    chain: list[NodeState] = []
    node: NodeState | None = line.state
    while node is not None:
        chain.append(node)
        node = snapshot.get(node.parent) if node.parent else None
    by_level = {n.level: n.uid for n in chain}
    return by_level.get(Level.CLASS, ""), by_level.get(Level.TYPE, "")


def _grouped(comparison: Comparison, groups: dict[tuple[str, str], list[ChangeLine]]) -> list[ClassGroup]:
    def state(uid: str) -> NodeState | None:
        return comparison.after.get(uid) or comparison.before.get(uid) if uid else None

    def code(uid: str) -> str:
        found = state(uid)
        return found.code if found else ""

    classes: dict[str, list[TypeGroup]] = {}
    for class_uid, type_uid in sorted(groups, key=lambda k: (code(k[0]), code(k[1]))):
        classes.setdefault(class_uid, []).append(TypeGroup(state(type_uid), groups[class_uid, type_uid]))
    return [ClassGroup(state(uid), types) for uid, types in classes.items()]


def _row_deltas(r: ChangeRow, comparison: Comparison, departments: Mapping[str, str]) -> tuple[Delta, ...]:
    if r.old is None or r.new is None:
        return ()
    places = (
        _label(comparison.before.get(r.old.parent or "")),
        _label(comparison.after.get(r.new.parent or "")),
    )
    return deltas(r.old, r.new, places=places, departments=departments)


def _label(node: NodeState | None) -> str:
    return "—" if node is None else f"{node.code} {node.name}"


def deltas(
    old: NodeState, new: NodeState, *, places: tuple[str, str], departments: Mapping[str, str]
) -> tuple[Delta, ...]:
    """Return what a person reads as changed between `old` and `new`; `places` names the two parents."""
    out = []
    if old.parent != new.parent:
        out.append(Delta("所属目录", *places))
    if old.code != new.code:
        out.append(Delta("目录编码", old.code, new.code))
    for field, label in SHOWN_FIELDS.items():
        before, after = getattr(old, field), getattr(new, field)
        if before == after:
            continue
        if field == "department":
            before, after = (
                departments.get(before or "", before or "—"),
                departments.get(after or "", after or "—"),
            )
        elif field == "level":
            before, after = Level(before).label, Level(after).label
        out.append(Delta(label, str(before or "（空）"), str(after or "（空）")))
    return tuple(out)


# --- one item ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HistoryLine:
    entry: HistoryEntry
    deltas: tuple[Delta, ...]


@dataclass(frozen=True, slots=True)
class Withdrawal:
    version: Version  # the first public version without the item
    replaced_by: tuple[NodeState, ...]


@dataclass(frozen=True, slots=True)
class ItemView:
    version: Version  # the version the item is shown as
    latest: Version
    node: NodeRow
    path: list[NodeRow]
    children: list[NodeRow]
    history: list[HistoryLine]  # newest first
    withdrawal: Withdrawal | None
    rules_version: str
    findings: list[Finding]


def item_view(session: Session, slug: str, uid: str, seq: int | None) -> tuple[Catalog, ItemView]:
    """Return the item `uid` as public version `seq` has it (default: the newest that holds it).

    A withdrawn item is shown as its last public version had it, marked withdrawn. NotFound when
    the item was never in a public version, or is not in version `seq`.
    """
    cat, versions = browse.public_versions(session, slug)
    latest = browse.pick_version(cat, versions, None)
    entries = history.item_history(session, cat, uid)
    gone = entries[-1] if entries[-1].state is None else None
    if seq is not None:
        shown = browse.pick_version(cat, versions, seq)
    elif gone is None:
        shown = latest
    else:
        shown = next(v for v in versions if v.seq < gone.version.seq)
    node, path, children = browse.item(session, cat, shown, uid)
    withdrawal = None if gone is None else _withdrawal(session, cat, versions, gone.version, uid)
    matcher = current_matcher(session)
    [findings] = screen([ScreenItem(node.name, node.description)], matcher)
    return cat, ItemView(
        shown,
        latest,
        node,
        path,
        children,
        _history_lines(session, cat, entries),
        withdrawal,
        matcher.version,
        findings,
    )


def _withdrawal(
    session: Session, cat: Catalog, versions: list[Version], gone_in: Version, uid: str
) -> Withdrawal:
    before = next(v for v in versions if v.seq < gone_in.seq)
    rows = history.rows(history.compare_versions(session, cat, before, gone_in))
    return Withdrawal(gone_in, replacements(rows).get(uid, ()))


def _history_lines(session: Session, cat: Catalog, entries: list[HistoryEntry]) -> list[HistoryLine]:
    departments = browse.department_names(session, cat)
    lines = []
    previous: HistoryEntry | None = None
    for entry in entries:
        old = previous.state if previous else None
        new = entry.state
        found: tuple[Delta, ...] = ()
        if previous is not None and old is not None and new is not None:
            places = ("", "")
            if old.parent != new.parent:  # only a move needs the parents' names
                places = (
                    _parent_label(session, cat, previous.version.seq, old),
                    _parent_label(session, cat, entry.version.seq, new),
                )
            found = deltas(old, new, places=places, departments=departments)
        lines.append(HistoryLine(entry, found))
        previous = entry
    return lines[::-1]


def _parent_label(session: Session, cat: Catalog, seq: int, state: NodeState) -> str:
    if state.parent is None:
        return "—"
    parent = queries.node_by_uid(session, cat.id, seq, state.parent)
    if parent is None:
        raise NotFound("上级目录不在该版本中")
    return f"{parent.code} {parent.name}"


# --- the whole version as one JSON document --------------------------------------------------


def json_download(sessions: sessionmaker[Session], slug: str, seq: int) -> Iterator[bytes]:
    """Yield public version `seq` as the export JSON document (the CLI's `--format json`), streamed.

    Reads through a session of its own: the response outlives the request's session.
    """
    with sessions() as session:
        cat, ver = browse.public_version(session, slug, seq)
        target = exports.Target(cat, session.get_one(Jurisdiction, cat.jurisdiction_id), ver)
        rows = entries(session, cat, ver.seq, RowFilter(levels=ITEM_LEVELS))
        yield from json_document(exports.document_head(target), rows)
