"""A reviewer's decisions on merge conflicts: take the head's value, take the draft's, or edit.

Resolution works from a MergeResult alone (the merged snapshot and its conflicts, as they are
kept between requests): each conflict carries the values a choice needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from app.catalog.nodes import NodeState
from app.errors import InvalidInput
from app.versioning.changes import FIELD_LABELS
from app.versioning.conflicts import PLACEMENT, Conflict, ConflictKey, ordered
from app.versioning.merge import MergeResult, moved_or_came_or_went, renamed, value_of, with_values
from app.versioning.snapshot import Placement
from app.versioning.structure import settle


class Take(StrEnum):
    OURS = "ours"
    THEIRS = "theirs"


@dataclass(frozen=True, slots=True)
class Edit:
    """An edited value, of the shape the conflict's field gives (see `app.versioning.conflicts`)."""

    value: object


Choice = Take | Edit

FIELD_TYPES: dict[str, type | tuple[type, ...]] = {
    PLACEMENT: Placement,
    "name": str,
    "description": str,
    "department": (str, type(None)),
    "sort_key": int,
    "attrs": dict,
}


def resolve(result: MergeResult, choices: Mapping[ConflictKey, Choice]) -> MergeResult:
    """Return `result` with the reviewer's `choices` applied and the tree checked again.

    A choice names a conflict by its key (uid, field). Take.OURS keeps the head's value,
    Take.THEIRS takes the draft's, Edit(value) sets a value of the conflict's shape. Edit may also
    name a node that is in no conflict, to make room for a held-back change (e.g. renumber the
    head's item under a type the draft moved). Removing a node removes what remains under it.
    A choice that would break the tree is held back and comes back as a new conflict; conflicts
    not chosen stay. Raise InvalidInput for a Take on no conflict or a value of the wrong shape.
    """
    pending = {c.key: c for c in result.conflicts}
    merged = dict(result.merged)
    for key, choice in choices.items():
        _set(merged, key, _chosen_value(pending.get(key), key, choice))
    chosen = {uid for uid, _ in choices}
    removed = _remove_subtrees(merged, chosen - merged.keys(), keep=chosen)
    proposed = {
        uid
        for uid in chosen | removed
        if moved_or_came_or_went(result.merged.get(uid), merged.get(uid))
        or renamed(result.merged.get(uid), merged.get(uid))
    }

    def base_value(uid: str, field: str | None) -> object:
        earlier = pending.get((uid, field))
        return earlier.base if earlier is not None else value_of(result.merged.get(uid), field)

    raised = settle(
        merged,
        fallback=result.merged,
        proposed=proposed,
        reference=None,
        base_value=base_value,
        scheme=result.scheme,
    )
    raised_keys = {c.key for c in raised}
    kept = [
        c
        for c in result.conflicts
        if c.key not in choices and c.key not in raised_keys and c.uid not in removed
    ]
    conflicts = ordered([*kept, *raised], merged, result.merged)
    return MergeResult(merged, conflicts, result.renumbered, result.scheme)


def held_back(
    result: MergeResult, choices: Mapping[ConflictKey, Choice], keys: Iterable[ConflictKey]
) -> list[Conflict]:
    """Return the conflicts that hold the choices named by `keys` back when all `choices` are applied
    to `result` (each such choice would break the tree); empty when they all stand. Raise
    InvalidInput as `resolve` does."""
    wanted = set(keys)
    return [c for c in resolve(result, choices).conflicts if c.key in wanted]


def _chosen_value(conflict: Conflict | None, key: ConflictKey, choice: Choice) -> object:
    if isinstance(choice, Edit):
        return choice.value
    if conflict is None:
        raise InvalidInput(f"节点 {key[0]} 没有待决定的冲突（{_label(key[1])}）")
    return conflict.ours if choice is Take.OURS else conflict.theirs


def _set(merged: dict[str, NodeState], key: ConflictKey, value: object) -> None:
    uid, field = key
    if field is None:
        if value is None:
            merged.pop(uid, None)
        elif isinstance(value, NodeState) and value.uid == uid:
            merged[uid] = value
        else:
            raise InvalidInput(f"节点 {uid} 的取值应为该节点的完整内容或空")
        return
    current = merged.get(uid)
    expected = FIELD_TYPES.get(field)
    if current is None or expected is None:
        raise InvalidInput(f"节点 {uid} 不在合并结果中，或没有可修改的{_label(field)}")
    if not isinstance(value, expected):
        raise InvalidInput(f"节点 {uid} 的{_label(field)}取值类型不对")
    merged[uid] = with_values(current, {field: value})


def _remove_subtrees(merged: dict[str, NodeState], roots: set[str], *, keep: set[str]) -> set[str]:
    """Remove from `merged` everything under `roots` but the nodes in `keep`; return what went."""
    removed: set[str] = set()
    frontier = set(roots)
    while frontier:
        below = [uid for uid, state in merged.items() if state.parent in frontier and uid not in keep]
        for uid in below:
            del merged[uid]
        removed.update(below)
        frontier = set(below)
    return removed


def _label(field: str | None) -> str:
    return "整个节点" if field is None else FIELD_LABELS.get(field, field)
