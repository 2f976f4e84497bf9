"""What a reviewer may decide on a merge's conflicts: only the choices the merge would take.

A choice on a structural conflict can break the tree again (take the draft's clashing code, keep
both same-named items); the merge would hold it back. Each choice is tried, with every decision
already recorded, before it is offered or recorded.
"""

from __future__ import annotations

from collections.abc import Mapping

from app.errors import InvalidInput
from app.services.merging.merge import MergePlan
from app.versioning.conflicts import Conflict, ConflictKey, ConflictKind
from app.versioning.resolve import Choice, Edit, Take, held_back

TAKES = {"ours": Take.OURS, "theirs": Take.THEIRS}


def clashes(planned: MergePlan) -> list[Conflict]:
    """Return the conflicts the merge found, then those a recorded decision raised."""
    seen = {c.key for c in planned.raw.conflicts}
    return [*planned.raw.conflicts, *(c for c in planned.result.conflicts if c.key not in seen)]


def refused(planned: MergePlan, chosen: Mapping[ConflictKey, Choice]) -> list[Conflict]:
    """Return the conflicts that would hold back the `chosen` decisions, taken with every decision
    already recorded; empty when the merge takes them all."""
    try:
        return held_back(planned.raw, {**planned.choices, **chosen}, chosen)
    except InvalidInput:  # a conflict a recorded decision raised: it is decided on the result
        return held_back(planned.result, chosen, chosen)


def offers(planned: MergePlan, clash: Conflict) -> frozenset[str]:
    """Return the one-click decisions the merge would take on `clash`: ours, theirs, withdraw_other."""
    ok = {take for take, choice in TAKES.items() if not refused(planned, {clash.key: choice})}
    if clash.kind is ConflictKind.DUPLICATE_NAME and clash.other is not None:
        both: dict[ConflictKey, Choice] = {clash.key: Take.THEIRS, (clash.other, None): Edit(None)}
        if not refused(planned, both):
            ok.add("withdraw_other")
    return frozenset(ok)


def name_of(planned: MergePlan, uid: str) -> str:
    """Return the name of node `uid` as the merge sees it."""
    for states in (planned.result.merged, planned.sub.theirs, planned.sub.base):
        if uid in states:
            return states[uid].name
    return uid
