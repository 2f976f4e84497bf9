"""Changes between two snapshots, as tagged values: what the review screen, the public
"what changed" page, the API and the CSV change table (对照表) all show.

A node that moved and was renamed yields Moved + Modified; a code-only change under the same
parent yields Renumbered. Parent and code never appear in Modified. The sort key is bookkeeping,
not content: a change of it is Reordered, never Modified, and it is shown (排序调整) only where
the node stayed under its parent (a moved node's new position is part of the move).
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter

from app.catalog.nodes import NodeState

# The content of a node: everything but its uid.
CONTENT_FIELDS = ("parent", "level", "code", "name", "description", "department", "sort_key", "attrs")
# What Modified reports; parent and code belong to Moved and Renumbered, sort_key to Reordered.
MODIFIED_FIELDS = ("level", "name", "description", "department", "attrs")

_modified = attrgetter(*MODIFIED_FIELDS)

FIELD_LABELS = {
    "parent": "上级目录",
    "level": "层级",
    "code": "编码",
    "name": "名称",
    "description": "说明",
    "department": "部门",
    "sort_key": "排序",
    "attrs": "其他属性",
    "placement": "位置",
}


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    old: object
    new: object

    @property
    def label(self) -> str:
        """Return the Chinese name of the field."""
        return FIELD_LABELS[self.field]


@dataclass(frozen=True, slots=True)
class _WholeNode:
    """A change of a whole node: it came (Added) or went (Removed) with this state."""

    state: NodeState

    @property
    def uid(self) -> str:
        """Return the uid of the node."""
        return self.state.uid


@dataclass(frozen=True, slots=True)
class Added(_WholeNode):
    @property
    def label(self) -> str:
        """Return the Chinese label of the change."""
        return "新增"


@dataclass(frozen=True, slots=True)
class Removed(_WholeNode):
    @property
    def label(self) -> str:
        """Return the Chinese label of the change."""
        return "撤销"


@dataclass(frozen=True, slots=True)
class Modified:
    uid: str
    fields: tuple[FieldChange, ...]

    @property
    def label(self) -> str:
        """Return 更名 when the name changed, else 内容调整."""
        return "更名" if any(f.field == "name" for f in self.fields) else "内容调整"


@dataclass(frozen=True, slots=True)
class Moved:
    uid: str
    old_parent: str | None
    new_parent: str | None
    old_code: str
    new_code: str

    @property
    def label(self) -> str:
        """Return the Chinese label of the change."""
        return "移动"


@dataclass(frozen=True, slots=True)
class Renumbered:
    uid: str
    old_code: str
    new_code: str

    @property
    def label(self) -> str:
        """Return the Chinese label of the change."""
        return "重新编号"


@dataclass(frozen=True, slots=True)
class Reordered:
    uid: str
    old_sort_key: int
    new_sort_key: int
    moved: bool  # the node also moved: its new position is the move's, nothing to show on its own

    @property
    def label(self) -> str:
        """Return the Chinese label of the change."""
        return "排序调整"

    @property
    def shown(self) -> bool:
        """Return whether a reader is told of it: only where the node stayed under its parent."""
        return not self.moved


Change = Added | Removed | Modified | Moved | Renumbered | Reordered


def node_changes(old: NodeState, new: NodeState) -> list[Change]:
    """Return the changes that turn `old` into `new` (same uid): Moved or Renumbered first, then Modified."""
    changes: list[Change] = []
    if old.parent != new.parent:
        changes.append(Moved(new.uid, old.parent, new.parent, old.code, new.code))
    elif old.code != new.code:
        changes.append(Renumbered(new.uid, old.code, new.code))
    if old.sort_key != new.sort_key:
        changes.append(Reordered(new.uid, old.sort_key, new.sort_key, moved=old.parent != new.parent))
    before, after = _modified(old), _modified(new)
    if before != after:  # one tuple comparison; field by field only where something changed
        fields = [
            FieldChange(name, a, b)
            for name, a, b in zip(MODIFIED_FIELDS, before, after, strict=True)
            if a != b
        ]
        changes.append(Modified(new.uid, tuple(fields)))
    return changes
