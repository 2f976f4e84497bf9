"""Provisional codes: where a draft places a node anew, the code it gave is the draft's proposal.

A draft's new items (and items it moves under another parent, with their 四级 sub-items) carry
the code that was free under their parent when the draft was made. Departments draft side by
side, so two drafts adding under one type both propose its next codes. When the head already
holds one of those codes, the merge gives the draft's new nodes under that parent, in the
draft's order, the next free codes there, and reports each (编码调整); under a parent whose code
changed, they keep their suffix when it is free. Codes a side gave existing items in place are
deliberate: those still clash as conflicts (`app.versioning.structure`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace

from app.catalog.codes import CodeScheme
from app.catalog.nodes import NodeState
from app.versioning.snapshot import Snapshot


@dataclass(frozen=True, slots=True)
class Renumbering:
    """A node whose provisional code the merge changed: the draft's code and the one written."""

    uid: str
    provisional: str
    final: str


def renumber(
    merged: dict[str, NodeState],
    *,
    base: Snapshot,
    theirs: Snapshot,
    changed: list[str],
    scheme: CodeScheme,
) -> list[Renumbering]:
    """Renumber, in `merged` itself, the nodes the draft placed anew whose codes the head holds or
    whose parent's code changed; return what changed, parents before children.

    Costs nothing when the draft places nothing anew; else one scan of `merged`.
    """
    groups = _placed_anew(merged, base, theirs, changed)
    if not groups:
        return []
    members = {uid for group in groups.values() for uid in group}
    head: defaultdict[str | None, set[str]] = defaultdict(set)  # parent → codes of nodes not placed anew
    for uid, state in merged.items():
        if state.parent in groups and uid not in members:
            head[state.parent].add(state.code)
    out: list[Renumbering] = []
    for parent_uid, group in groups.items():  # parents' groups come before their children's
        parent = merged.get(parent_uid) if parent_uid is not None else None
        if parent is None:
            continue  # an orphan: the structure check holds it back
        seen = theirs.get(parent.uid)  # the parent as the draft saw it
        was_parent = seen.code if seen is not None else parent.code
        fitting = [
            u
            for u in group
            if merged[u].level == parent.level + 1
            and scheme.fits(merged[u].code, was_parent, merged[u].level)
        ]  # a code outside the scheme is the draft's own doing, left for the structure check
        codes = _codes(merged, fitting, was_parent, parent, head[parent_uid], scheme)
        for uid, code in zip(fitting, codes, strict=True):
            state = merged[uid]
            if code != state.code:
                merged[uid] = replace(state, code=code)
                out.append(Renumbering(uid, state.code, code))
    return out


def _placed_anew(
    merged: dict[str, NodeState], base: Snapshot, theirs: Snapshot, changed: list[str]
) -> dict[str | None, list[str]]:
    """Return, by parent, the nodes whose placement in `merged` is the draft's and new (added, moved
    to another parent, or under such a node), in code order; parents' groups first."""
    candidates = []
    for uid in changed:
        mine, draft = merged.get(uid), theirs.get(uid)
        if (
            mine is not None
            and draft is not None
            and (mine.parent, mine.level, mine.code)
            == (
                draft.parent,
                draft.level,
                draft.code,
            )
        ):
            candidates.append(uid)
    candidates.sort(key=lambda u: (merged[u].level, merged[u].code, u))
    groups: dict[str | None, list[str]] = {}
    chosen: set[str] = set()
    for uid in candidates:
        state, was = merged[uid], base.get(uid)
        if was is None or was.parent != state.parent or state.parent in chosen:
            groups.setdefault(state.parent, []).append(uid)
            chosen.add(uid)
    return groups


def _codes(
    merged: dict[str, NodeState],
    group: list[str],
    was_parent: str,
    parent: NodeState,
    head: set[str],
    scheme: CodeScheme,
) -> list[str]:
    """Return the codes of `group` (in order) under `parent`: as proposed (with the parent's new code
    in front) when the head holds none of them, else the next free codes after the head's."""
    wanted = [parent.code + merged[u].code[len(was_parent) :] for u in group]
    if not group or not head.intersection(wanted):
        return wanted
    level = merged[group[0]].level
    numbers = [int(c[len(parent.code) :]) for c in head if scheme.fits(c, parent.code, level)]
    highest = max(numbers, default=0)
    if highest + len(group) >= 10 ** scheme.width(level):  # the codes would run out: left for the check
        return [merged[u].code for u in group]
    return [scheme.child(parent.code, level, highest + n) for n in range(1, len(group) + 1)]
