"""Change sets for the versioning benchmark: edits, additions, moves and withdrawals of leaf nodes.

Deterministic for a given random generator and input, so SQLite and PostgreSQL see the same
changes. Only leaves change (a 四级 item in the one-catalog dataset, a 三级 item in a city's),
so no change leaves an orphan behind; moved and added nodes take the next free code under
their new parent, as the draft services would give them.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import dataset

from app.catalog.codes import next_child_code
from app.catalog.nodes import Level, NodeState
from app.services.catalogs.authoring import stable_uid


@dataclass(frozen=True, slots=True)
class Mix:
    """How many leaves a change set edits, adds, moves to another parent and withdraws."""

    edits: int
    adds: int
    moves: int
    removals: int

    @property
    def total(self) -> int:
        """Return the number of nodes the change set touches."""
        return self.edits + self.adds + self.moves + self.removals


def plan(
    rng: random.Random,
    states: Mapping[str, NodeState],
    *,
    level: Level,
    mix: Mix,
    tag: str,
    departments: Sequence[str],
) -> dict[str, NodeState | None]:
    """Return uid → proposed state (None: withdrawn) changing `mix` leaves at `level` among `states`.

    `states` must hold every child of each node one level up that it holds, since new codes
    follow the highest code in use under a parent. `tag` keeps added uids apart between sets;
    `departments` (codes) serve added nodes whose parent has none (a type).
    """
    parents = sorted(u for u, s in states.items() if s.level == level - 1)
    with_children = {s.parent for s in states.values()}
    leaves = sorted(u for u, s in states.items() if s.level == level and u not in with_children)
    if len(parents) < 2 or len(leaves) < mix.edits + mix.moves + mix.removals:
        raise ValueError(f"{len(leaves)} leaves under {len(parents)} parents cannot take {mix}")
    rng.shuffle(leaves)
    edits, rest = leaves[: mix.edits], leaves[mix.edits :]
    moves, removals = rest[: mix.moves], rest[mix.moves : mix.moves + mix.removals]
    slots = _Slots(states, level)
    changes: dict[str, NodeState | None] = {}
    for i, uid in enumerate(edits):  # half renamed, half with a new 服务内容
        s = states[uid]
        changes[uid] = (
            replace(s, description=f"{s.description}（调整）")
            if i % 2
            else replace(s, name=f"{s.name}（更新）")
        )
    for uid in moves:
        s = states[uid]
        target = _other(rng, parents, s.parent)
        code, sort_key = slots.take(target)
        changes[uid] = replace(s, parent=target, code=code, sort_key=sort_key)
    changes.update(dict.fromkeys(removals))
    for n in range(mix.adds):
        target = rng.choice(parents)
        code, sort_key = slots.take(target)
        name, description = dataset._wording(rng)
        department = states[target].department or rng.choice(departments)
        uid = stable_uid("bench-versioning", tag, str(n))
        changes[uid] = NodeState(uid, target, level, code, name, description, department, sort_key)
    return changes


def _other(rng: random.Random, parents: Sequence[str], current: str | None) -> str:
    while (choice := rng.choice(parents)) == current:
        pass
    return choice


class _Slots:
    """The next code and sort key under each parent; a code once used is never given again."""

    def __init__(self, states: Mapping[str, NodeState], level: Level) -> None:
        self.states, self.level = states, level
        self.codes: dict[str, set[str]] = {}
        self.last_sort: dict[str, int] = {}
        for s in states.values():
            if s.level == level and s.parent is not None:
                self.codes.setdefault(s.parent, set()).add(s.code)
                self.last_sort[s.parent] = max(self.last_sort.get(s.parent, 0), s.sort_key)

    def take(self, parent: str) -> tuple[str, int]:
        """Return a new code and a sort key after the last child of `parent`, and reserve them."""
        taken = self.codes.setdefault(parent, set())
        code = next_child_code(self.states[parent].code, self.level, taken)
        taken.add(code)
        self.last_sort[parent] = self.last_sort.get(parent, 0) + 10
        return code, self.last_sort[parent]
