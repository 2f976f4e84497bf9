"""Three-way merge of a draft into the head: base (what the draft started from), ours (the head,
the catalog as it is now) and theirs (the draft).

Node by node: a node changed on one side only takes that side; a node changed on both sides
merges field by field, where parent, level and code count as one field (PLACEMENT), since a code
only means something under its parent. Identical changes on both sides are not conflicts.

Wherever there is a conflict the merged result keeps the head's value, so that it is always a
valid snapshot; the conflict records the three values for a reviewer to decide (see `resolve`).
Before the tree is checked, the nodes the draft placed anew get free codes (`renumber`): a
code a draft proposed for a new item is provisional, never a conflict.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from app.catalog.codes import DEFAULT_SCHEME, CodeScheme
from app.catalog.nodes import Level, NodeState
from app.versioning.conflicts import (
    PLACEMENT,
    Conflict,
    ConflictKind,
    edit_delete_message,
    ordered,
    same_field_message,
)
from app.versioning.renumber import Renumbering, renumber
from app.versioning.snapshot import Placement, Snapshot, changed_uids, placement
from app.versioning.structure import settle

# What merges independently, in the order conflicts are listed for one node.
MERGE_FIELDS = (PLACEMENT, "name", "description", "department", "sort_key", "attrs")

_MISSING = object()


@dataclass(frozen=True, slots=True)
class MergeResult:
    merged: dict[str, NodeState]
    conflicts: tuple[Conflict, ...]
    renumbered: tuple[Renumbering, ...] = ()  # provisional codes the merge changed, written or held back
    scheme: CodeScheme = DEFAULT_SCHEME

    @property
    def code_changes(self) -> tuple[Renumbering, ...]:
        """Return the renumberings `merged` holds: what the merge reports as 编码调整."""
        return tuple(
            r for r in self.renumbered if (m := self.merged.get(r.uid)) is not None and m.code == r.final
        )

    @property
    def clean(self) -> bool:
        """Return whether the merge needs no decision."""
        return not self.conflicts


def merge(
    base: Snapshot, ours: Snapshot, theirs: Snapshot, *, scheme: CodeScheme = DEFAULT_SCHEME
) -> MergeResult:
    """Return the merge of `theirs` (the draft) into `ours` (the head), both descended from `base`,
    in a catalog whose codes follow `scheme`.

    Costs one comparison of `theirs` against `base`, one copy of `ours`, and, when the draft moves,
    adds, removes or renames nodes, one scan of the result to check the tree around them.
    """
    merged = dict(ours)
    conflicts: list[Conflict] = []
    proposed: set[str] = set()
    changed = changed_uids(base, theirs)
    for uid in changed:
        before = ours.get(uid)
        state, found = merge_node(uid, base.get(uid), before, theirs.get(uid))
        conflicts.extend(found)
        if state is None:
            merged.pop(uid, None)
        else:
            merged[uid] = state
        if moved_or_came_or_went(before, state) or renamed(before, state):
            proposed.add(uid)
    renumbered = renumber(merged, base=base, theirs=theirs, changed=changed, scheme=scheme)
    proposed.update(r.uid for r in renumbered)

    def base_value(uid: str, field: str | None) -> object:
        return value_of(base.get(uid), field)

    conflicts.extend(
        settle(
            merged, fallback=ours, proposed=proposed, reference=theirs, base_value=base_value, scheme=scheme
        )
    )
    return MergeResult(merged, ordered(conflicts, merged, theirs, base), tuple(renumbered), scheme)


def merge_node(
    uid: str, base: NodeState | None, ours: NodeState | None, theirs: NodeState | None
) -> tuple[NodeState | None, list[Conflict]]:
    """Return the merged state of one node (None: absent) and the conflicts found on it."""
    if ours == theirs or theirs == base:
        return ours, []
    if ours == base:
        return theirs, []
    if ours is None or theirs is None:
        present = theirs if theirs is not None else ours
        name = present.name if present is not None else uid
        message = edit_delete_message(name, deleted_by_draft=theirs is None)
        return ours, [Conflict(uid, ConflictKind.EDIT_DELETE, None, base, ours, theirs, message)]
    return _merge_fields(uid, base, ours, theirs)


def _merge_fields(
    uid: str, base: NodeState | None, ours: NodeState, theirs: NodeState
) -> tuple[NodeState, list[Conflict]]:
    updates: dict[str, object] = {}
    conflicts: list[Conflict] = []
    for field in MERGE_FIELDS:
        was = _MISSING if base is None else value_of(base, field)
        mine, draft = value_of(ours, field), value_of(theirs, field)
        if draft in (mine, was):
            continue
        if mine == was:
            updates[field] = draft
            continue
        shown_base = None if was is _MISSING else was
        message = same_field_message(ours.name, field, shown_base, mine, draft)
        conflicts.append(Conflict(uid, ConflictKind.SAME_FIELD, field, shown_base, mine, draft, message))
    return with_values(ours, updates), conflicts


def value_of(state: NodeState | None, field: str | None) -> object:
    """Return what `field` holds in `state`: the state itself for None, a Placement for PLACEMENT."""
    if state is None or field is None:
        return state
    if field == PLACEMENT:
        return placement(state)
    return getattr(state, field)


def with_values(state: NodeState, updates: dict[str, object]) -> NodeState:
    """Return `state` with `updates` (field → value, PLACEMENT → Placement) applied."""
    if not updates:
        return state
    fields: dict[str, Any] = dict(updates)
    where = fields.pop(PLACEMENT, None)
    if isinstance(where, Placement):
        fields.update(parent=where.parent, level=where.level, code=where.code)
    return replace(state, **fields)


def renamed(before: NodeState | None, after: NodeState | None) -> bool:
    """Return whether a 三级 or 四级 item's name or department differs between `before` and `after`."""
    if before is None or after is None or after.level < Level.ITEM:
        return False
    return (before.name, before.department) != (after.name, after.department)


def moved_or_came_or_went(before: NodeState | None, after: NodeState | None) -> bool:
    """Return whether a node's existence or placement differs between `before` and `after`."""
    if before is None or after is None:
        return before is not after
    return (before.parent, before.level, before.code) != (after.parent, after.level, after.code)
