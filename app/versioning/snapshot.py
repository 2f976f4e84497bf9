"""Snapshots: a catalog as a mapping uid → NodeState, with the few questions diff and merge ask of it.

Every function here costs a dict lookup per node it is asked about, never a walk of the whole
map, except `changed_uids`, which compares two maps once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.catalog.codes import DEFAULT_SCHEME, CodeScheme
from app.catalog.nodes import Level, NodeState

Snapshot = Mapping[str, NodeState]
TreeKey = tuple[tuple[int, str, str], ...]


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a node sits: its parent, its level and its code. Merge treats the three as one value,
    since a code only means something under its parent."""

    parent: str | None
    level: Level
    code: str

    def __str__(self) -> str:
        return self.code


def placement(state: NodeState) -> Placement:
    """Return the placement (parent, level, code) of `state`."""
    return Placement(state.parent, state.level, state.code)


def fits(state: NodeState, parent: NodeState | None, scheme: CodeScheme = DEFAULT_SCHEME) -> bool:
    """Return whether `state` may sit under `parent` (None: at the root) by level and code `scheme`."""
    if parent is None:
        return state.parent is None and scheme.fits(state.code, None, state.level)
    return state.level == parent.level + 1 and scheme.fits(state.code, parent.code, state.level)


def tree_key(snapshot: Snapshot, uid: str) -> TreeKey:
    """Return the path of (sort_key, code, uid) from the root down to `uid`; () if it is absent.

    Sorting uids by this key gives tree (document) order: parents before children, siblings by
    (sort_key, code) as `app.catalog.tree` orders them. A missing parent or a cycle ends the path.
    """
    return TreeKeys(snapshot)(uid)


class TreeKeys:
    """`tree_key` of one snapshot, asked for many uids: each ancestor's path is built once.

    A diff of thousands of nodes under a few hundred parents walks each parent once instead
    of once per child; the keys share their ancestors' entries, so comparing siblings stops
    at identical objects.
    """

    __slots__ = ("_known", "_snapshot")

    def __init__(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        self._known: dict[str, TreeKey] = {}

    def __call__(self, uid: str) -> TreeKey:
        """Return `tree_key(snapshot, uid)`."""
        known, get = self._known, self._snapshot.get
        chain: list[tuple[int, str, str]] = []
        seen: set[str] = set()
        current: str | None = uid
        while current is not None and current not in known and current not in seen:
            state = get(current)
            if state is None:
                break
            seen.add(current)
            chain.append((state.sort_key, state.code, current))
            current = state.parent
        if current is not None and current in seen:  # a cycle: the path depends on where it starts
            return tuple(reversed(chain))
        key: TreeKey = () if current is None else known.get(current, ())
        for entry in reversed(chain):
            key = (*key, entry)
            known[entry[2]] = key
        return key


def changed_uids(base: Snapshot, target: Snapshot) -> list[str]:
    """Return the uids whose state differs between `base` and `target`, added and removed included.

    One pass over `target` and, only when something was removed, one over `base`; identical
    objects are skipped without comparing their fields.
    """
    base_get = base.get
    changed = [uid for uid, new in target.items() if (old := base_get(uid)) is not new and old != new]
    added = sum(1 for uid in changed if uid not in base)
    if len(base) > len(target) - added:
        changed.extend(uid for uid in base if uid not in target)
    return changed
