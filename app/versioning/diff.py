"""The structural diff between two snapshots, and applying it.

Order of `diff`: every change is placed by its node's path from the root (see
`snapshot.tree_key`), taken in the target for nodes that exist there and in the base for
removed nodes. So added and changed nodes follow the target's tree, a removed node appears
where it stood in the base, and within one node Moved/Renumbered comes before Modified.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from app.catalog.nodes import NodeState
from app.errors import Conflict
from app.versioning.changes import (
    Added,
    Change,
    Modified,
    Moved,
    Removed,
    Renumbered,
    Reordered,
    node_changes,
)
from app.versioning.snapshot import Snapshot, TreeKey, TreeKeys, changed_uids


def diff(base: Snapshot, target: Snapshot) -> list[Change]:
    """Return the changes that turn `base` into `target`, in tree order; [] when they are equal."""
    base_key, target_key = TreeKeys(base), TreeKeys(target)
    base_get, target_get = base.get, target.get
    # (path, rank within the node, position): unique, so sorting never compares two changes
    keyed: list[tuple[TreeKey, int, int, Change]] = []
    add = keyed.append
    for uid in changed_uids(base, target):
        old, new = base_get(uid), target_get(uid)
        if old is None:
            if new is not None:
                add((target_key(uid), 0, len(keyed), Added(new)))
        elif new is None:
            add((base_key(uid), 0, len(keyed), Removed(old)))
        else:
            key = target_key(uid)
            for rank, change in enumerate(node_changes(old, new)):
                add((key, rank, len(keyed), change))
    keyed.sort()
    return [change for _, _, _, change in keyed]


def apply(base: Snapshot, changes: Iterable[Change]) -> dict[str, NodeState]:
    """Return a new snapshot: `base` with `changes` applied; raise Conflict if one does not fit `base`.

    Each change must find the node as it describes it (present, absent, or with the old values),
    so a change computed against another snapshot is refused rather than half applied.
    """
    result = dict(base)
    for change in changes:
        _apply_one(result, change)
    return result


def _apply_one(result: dict[str, NodeState], change: Change) -> None:
    match change:
        case Added(state):
            _expect(state.uid, "已存在", holds=state.uid not in result)
            result[state.uid] = state
        case Removed(state):
            _expect(state.uid, "已不是撤销前的内容", holds=result.get(state.uid) == state)
            del result[state.uid]
        case Modified(uid, fields):
            current = _current(result, uid)
            _expect(uid, "内容已变化", holds=all(getattr(current, f.field) == f.old for f in fields))
            updates: dict[str, Any] = {f.field: f.new for f in fields}
            result[uid] = replace(current, **updates)
        case Moved(uid, old_parent, new_parent, old_code, new_code):
            current = _current(result, uid)
            _expect(uid, "位置已变化", holds=(current.parent, current.code) == (old_parent, old_code))
            result[uid] = replace(current, parent=new_parent, code=new_code)
        case Renumbered(uid, old_code, new_code):
            current = _current(result, uid)
            _expect(uid, "编码已变化", holds=current.code == old_code)
            result[uid] = replace(current, code=new_code)
        case Reordered(uid, old_sort_key, new_sort_key, _):
            current = _current(result, uid)
            _expect(uid, "排序已变化", holds=current.sort_key == old_sort_key)
            result[uid] = replace(current, sort_key=new_sort_key)


def _current(result: dict[str, NodeState], uid: str) -> NodeState:
    state = result.get(uid)
    _expect(uid, "不存在", holds=state is not None)
    assert state is not None
    return state


def _expect(uid: str, problem: str, *, holds: bool) -> None:
    if not holds:
        raise Conflict(f"变更无法应用：节点 {uid} {problem}")
