"""The editor's tree: items with their marks and findings, under the types and classes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.catalog.nodes import NodeState
from app.services.screening.drafts import ItemFinding


class Mark(StrEnum):
    """How an item of the draft differs from the base."""

    ADDED = "added"
    EDITED = "edited"
    MOVED = "moved"
    WITHDRAWN = "withdrawn"
    ORDERED = "ordered"

    @property
    def label(self) -> str:
        """Return the mark's Chinese name."""
        return MARK_LABELS[self]


MARK_LABELS = {
    Mark.ADDED: "新增",
    Mark.EDITED: "修改",
    Mark.MOVED: "移动",
    Mark.WITHDRAWN: "撤销",
    Mark.ORDERED: "排序",
}


@dataclass(frozen=True, slots=True)
class EditorItem:
    """An item as the draft has it (its base state when withdrawn), with its marks and findings."""

    state: NodeState
    base: NodeState | None
    marks: tuple[Mark, ...] = ()
    findings: tuple[ItemFinding, ...] = ()
    children: tuple[EditorItem, ...] = ()  # 四级 sub-items of a 三级 item

    @property
    def withdrawn(self) -> bool:
        """Return whether the draft withdraws the item."""
        return Mark.WITHDRAWN in self.marks

    @property
    def blocked(self) -> bool:
        """Return whether a finding on the item stops a submit."""
        return any(f.blocks for f in self.findings)


@dataclass(frozen=True, slots=True)
class EditorType:
    uid: str
    code: str
    name: str
    class_name: str
    items: tuple[EditorItem, ...] = ()
    shared: bool = False  # other departments have items here too (their places are kept on reorder)


@dataclass(frozen=True, slots=True)
class EditorClass:
    uid: str
    code: str
    name: str
    types: tuple[EditorType, ...] = ()


def marks_of(base: NodeState | None, proposed: NodeState | None) -> tuple[Mark, ...]:
    """Return the marks of a change from `base` to `proposed` (both None: no change)."""
    if base is None:
        return () if proposed is None else (Mark.ADDED,)
    if proposed is None:
        return (Mark.WITHDRAWN,)
    out: list[Mark] = []
    if base.parent != proposed.parent:
        out.append(Mark.MOVED)
    if (base.name, base.description) != (proposed.name, proposed.description):
        out.append(Mark.EDITED)
    if not out and base.sort_key != proposed.sort_key:
        out.append(Mark.ORDERED)
    return tuple(out)
