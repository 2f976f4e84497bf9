"""Keeping a merged snapshot whole: find the structural problems that proposed changes cause and
hold those changes back, one conflict each.

A proposed change is one that makes a node's existence or placement differ from the valid
snapshot it was proposed on (the head, in a merge; the previous result, in a resolution). The
checks are the ones `app.catalog.tree` makes, plus duplicate codes and cycles:

- ORPHAN: the parent is missing;
- CYCLE: the node would be its own ancestor;
- CODE_SCHEME: level or code does not fit the parent (the catalog's `app.catalog.codes.CodeScheme`);
- DUPLICATE_CODE: a sibling has the same code;
- DUPLICATE_NAME: a sibling item of the same department has the same name (三级 and 四级 only).

Each problem is blamed on a proposed node: the node itself when its own placement was proposed,
else the proposed parent (removed or renumbered) or sibling that caused it. The blamed node is put
back as it was before the proposal and the neighbourhood is checked again, until nothing proposed
breaks the tree. Problems already present before the proposal, or already present where the
proposals came from (`reference`, the draft), are not the merge's doing and are left alone.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, replace

from app.catalog.codes import DEFAULT_SCHEME, CodeScheme
from app.catalog.nodes import Level, NodeState
from app.versioning.conflicts import PLACEMENT, Conflict, ConflictKind
from app.versioning.snapshot import Snapshot, fits, placement

BaseValue = Callable[[str, str | None], object]


@dataclass(frozen=True, slots=True)
class _Problem:
    culprit: str
    kind: ConflictKind
    message: str
    other: str | None = None  # the node it clashes with (duplicates)


def settle(
    merged: dict[str, NodeState],
    *,
    fallback: Snapshot,
    proposed: set[str],
    reference: Snapshot | None,
    base_value: BaseValue,
    scheme: CodeScheme = DEFAULT_SCHEME,
) -> list[Conflict]:
    """Return the conflicts raised while holding back, in `merged` itself, every proposed change
    that breaks the tree; `base_value(uid, field)` gives each conflict its base value.

    A proposed change is a node's existence, placement, or (for 三级 and 四级) name or department.
    """
    if not proposed:
        return []
    return _Settler(merged, fallback, set(proposed), reference, base_value, scheme).run()


NameSlot = tuple[str | None, str, str | None]  # (parent, name, department)


def name_slot(state: NodeState) -> NameSlot | None:
    """Return what two items may not share (parent, name, department); None above 三级."""
    return (state.parent, state.name, state.department) if state.level >= Level.ITEM else None


class _Settler:
    def __init__(
        self,
        merged: dict[str, NodeState],
        fallback: Snapshot,
        proposed: set[str],
        reference: Snapshot | None,
        base_value: BaseValue,
        scheme: CodeScheme,
    ) -> None:
        self.merged, self.fallback, self.proposed = merged, fallback, proposed
        self.reference, self.base_value, self.scheme = reference, base_value, scheme
        self.conflicts: list[Conflict] = []
        self.children: defaultdict[str | None, set[str]] = defaultdict(set)
        self.slots: defaultdict[tuple[str | None, str], set[str]] = defaultdict(set)
        self.names: defaultdict[NameSlot, set[str]] = defaultdict(set)
        self._index()

    def _index(self) -> None:
        # One scan, two cheap set lookups per node. Children matter only under proposed nodes; a
        # duplicate the proposals could cause shares a code with a proposed node (now or before).
        states = [
            s for snapshot in (self.merged, self.fallback) for u in self.proposed if (s := snapshot.get(u))
        ]
        codes = {s.code for s in states}
        names = {(s.name, s.department) for s in states if s.level >= Level.ITEM}
        proposed = self.proposed
        for uid, state in self.merged.items():
            if state.parent in proposed:
                self.children[state.parent].add(uid)
            if state.code in codes:
                self.slots[state.parent, state.code].add(uid)
            if (state.name, state.department) in names and (slot := name_slot(state)) is not None:
                self.names[slot].add(uid)

    def _place(self, uid: str, state: NodeState) -> None:
        self.children[state.parent].add(uid)
        self.slots[state.parent, state.code].add(uid)
        if (slot := name_slot(state)) is not None:
            self.names[slot].add(uid)

    def _unplace(self, uid: str, state: NodeState) -> None:
        self.children[state.parent].discard(uid)
        self.slots[state.parent, state.code].discard(uid)
        if (slot := name_slot(state)) is not None:
            self.names[slot].discard(uid)

    def run(self) -> list[Conflict]:
        queue = deque(sorted(self.proposed))
        for uid in sorted(self.proposed):
            queue.extend(sorted(self.children.get(uid, ())))
        while queue:
            uid = queue.popleft()
            problem = self._problem(uid)
            if problem is not None:
                self._hold_back(problem)
                queue.extend([problem.culprit, *sorted(self.children.get(problem.culprit, ())), uid])
        return self.conflicts

    def _problem(self, uid: str) -> _Problem | None:
        state = self.merged.get(uid)
        if state is None:
            return None
        return (
            self._orphan(uid, state)
            or self._cycle(uid, state)
            or self._scheme(uid, state)
            or self._duplicate(uid, state)
            or self._duplicate_name(uid, state)
        )

    def _orphan(self, uid: str, state: NodeState) -> _Problem | None:
        parent = state.parent
        if parent is None or parent in self.merged:
            return None
        if uid in self.proposed:
            message = f"「{state.name}」的上级「{self._name(parent)}」已撤销，无法挂在其下"
            return _Problem(uid, ConflictKind.ORPHAN, message)
        if parent in self.proposed:
            message = f"撤销「{self._name(parent)}」会使其下的「{state.name}」失去上级；撤销暂缓"
            return _Problem(parent, ConflictKind.ORPHAN, message)
        return None

    def _cycle(self, uid: str, state: NodeState) -> _Problem | None:
        members, current = [uid], state.parent
        while current is not None and current not in members:
            ancestor = self.merged.get(current)
            if ancestor is None:
                return None
            members.append(current)
            current = ancestor.parent
        culprit = next((m for m in members if m in self.proposed), None)
        if current != uid or culprit is None:
            return None
        moved = self.merged[culprit]
        message = f"把「{moved.name}」挂到「{self._name(moved.parent)}」下会形成循环：它将成为自己的下级"
        return _Problem(culprit, ConflictKind.CYCLE, message)

    def _scheme(self, uid: str, state: NodeState) -> _Problem | None:
        parent = self.merged.get(state.parent) if state.parent is not None else None
        if fits(state, parent, self.scheme):
            return None
        if uid in self.proposed:
            if self.reference is not None and not _fits_in(self.reference, uid, self.scheme):
                return None
            return _Problem(uid, ConflictKind.CODE_SCHEME, _misfit_message(state, parent, self.scheme))
        if parent is not None and state.parent in self.proposed and _fits_in(self.fallback, uid, self.scheme):
            message = (
                f"「{parent.name}」改为 {parent.code} 后，其下「{state.name}」的编码 {state.code} "
                "与之不符；该调整暂缓"
            )
            return _Problem(state.parent, ConflictKind.CODE_SCHEME, message)
        return None

    def _duplicate(self, uid: str, state: NodeState) -> _Problem | None:
        mates = sorted(self.slots.get((state.parent, state.code), set()) - {uid})
        if uid in self.proposed:
            clashing = [m for m in mates if not self._clashed_before(uid, m)]
            culprit, other = uid, (clashing[0] if clashing else None)
        else:
            blamed = [m for m in mates if m in self.proposed and not self._clashed_before(m, uid)]
            culprit, other = (blamed[0], uid) if blamed else (uid, None)
        if other is None:
            return None
        message = (
            f"「{self._name(culprit)}」的编码 {state.code} 与「{self._name(other)}」重复"
            f"（同在「{self._name(state.parent)}」下）"
        )
        return _Problem(culprit, ConflictKind.DUPLICATE_CODE, message, other)

    def _clashed_before(self, uid: str, other: str) -> bool:
        # The two shared parent and code already before the proposal or in the draft.
        for snapshot in (self.fallback, self.reference):
            a, b = (snapshot.get(uid), snapshot.get(other)) if snapshot is not None else (None, None)
            if a is not None and b is not None and (a.parent, a.code) == (b.parent, b.code):
                return True
        return False

    def _duplicate_name(self, uid: str, state: NodeState) -> _Problem | None:
        slot = name_slot(state)
        if slot is None:
            return None
        mates = sorted(self.names.get(slot, set()) - {uid})
        if uid in self.proposed:
            clashing = [m for m in mates if not self._named_alike_before(uid, m)]
            culprit, other = uid, (clashing[0] if clashing else None)
        else:
            blamed = [m for m in mates if m in self.proposed and not self._named_alike_before(m, uid)]
            culprit, other = (blamed[0], uid) if blamed else (uid, None)
        if other is None:
            return None
        held, kept = self.merged[culprit], self.merged[other]
        message = (
            f"「{held.name}」（{held.code}）与「{kept.name}」（{kept.code}）同名，同在「{self._name(state.parent)}」下、"
            "属同一部门：请保留其中一条、将其中一条改名，或撤销其中一条"
        )
        return _Problem(culprit, ConflictKind.DUPLICATE_NAME, message, other)

    def _named_alike_before(self, uid: str, other: str) -> bool:
        # The two were already same-named siblings of one department before the proposal or in the draft.
        for snapshot in (self.fallback, self.reference):
            a, b = (snapshot.get(uid), snapshot.get(other)) if snapshot is not None else (None, None)
            if a is not None and b is not None and name_slot(a) == name_slot(b):
                return True
        return False

    def _hold_back(self, problem: _Problem) -> None:
        uid = problem.culprit
        now, before = self.merged.get(uid), self.fallback.get(uid)
        self.proposed.discard(uid)
        if now is not None:
            self._unplace(uid, now)
        field: str | None = None
        ours: object = before
        theirs: object = now
        restored = before
        if now is not None and before is not None:
            field, ours, theirs = PLACEMENT, placement(before), placement(now)
            restored = replace(now, parent=before.parent, level=before.level, code=before.code)
            if ours == theirs and problem.kind is ConflictKind.DUPLICATE_NAME:  # renamed, not moved
                if now.name != before.name:
                    field, ours, theirs = "name", before.name, now.name
                    restored = replace(now, name=before.name)
                else:
                    field, ours, theirs = "department", before.department, now.department
                    restored = replace(now, department=before.department)
        if restored is None:
            del self.merged[uid]
        else:
            self.merged[uid] = restored
            self._place(uid, restored)
        base = self.base_value(uid, field)
        self.conflicts.append(
            Conflict(uid, problem.kind, field, base, ours, theirs, problem.message, problem.other)
        )

    def _name(self, uid: str | None) -> str:
        if uid is None:
            return "一级目录"
        for snapshot in (self.merged, self.fallback, self.reference or {}):
            state = snapshot.get(uid)
            if state is not None:
                return state.name
        return uid


def _fits_in(snapshot: Snapshot, uid: str, scheme: CodeScheme) -> bool:
    state = snapshot.get(uid)
    if state is None:
        return False
    parent = snapshot.get(state.parent) if state.parent is not None else None
    return (state.parent is None or parent is not None) and fits(state, parent, scheme)


def _misfit_message(state: NodeState, parent: NodeState | None, scheme: CodeScheme) -> str:
    if parent is None:
        return f"「{state.name}」（{state.level.label}，编码 {state.code}）不能作为一级目录"
    if state.level != parent.level + 1:
        return f"「{state.name}」是{state.level.label}，不能挂在{parent.level.label}「{parent.name}」下"
    expected = scheme.expected(state.level, parent.code)
    return (
        f"「{state.name}」的编码 {state.code} 与上级「{parent.name}」的编码 {parent.code} 不符（{expected}）"
    )
