"""Merge conflicts: what a reviewer must decide, with the three values side by side.

A conflict is always recorded on the node whose draft-side change was held back. The merged
result keeps the head's value ("ours"); `theirs` is the value the draft asked for.

`field` says what is at stake and so what the values are:
- a content field name (name, description, department, sort_key, attrs): that field's values;
- PLACEMENT ("placement"): `Placement(parent, level, code)` values, since parent and code move together;
- None: the whole node, `NodeState | None` values (None: the node is absent on that side).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from app.versioning.changes import FIELD_LABELS
from app.versioning.snapshot import Snapshot, TreeKey, tree_key

PLACEMENT = "placement"
ConflictKey = tuple[str, str | None]


class ConflictKind(StrEnum):
    SAME_FIELD = "same_field"
    EDIT_DELETE = "edit_delete"
    ORPHAN = "orphan"
    DUPLICATE_CODE = "duplicate_code"
    CYCLE = "cycle"
    CODE_SCHEME = "code_scheme"
    DUPLICATE_NAME = "duplicate_name"

    @property
    def label(self) -> str:
        """Return the short Chinese name of the kind, for lists and filters."""
        return KIND_LABELS[self]


KIND_LABELS = {
    ConflictKind.SAME_FIELD: "同一内容两边改法不同",
    ConflictKind.EDIT_DELETE: "一边修改、一边撤销",
    ConflictKind.ORPHAN: "上级目录已撤销",
    ConflictKind.DUPLICATE_CODE: "编码重复",
    ConflictKind.CYCLE: "上下级循环",
    ConflictKind.CODE_SCHEME: "编码与上级不符",
    ConflictKind.DUPLICATE_NAME: "同一部门同名条目",
}


@dataclass(frozen=True, slots=True)
class Conflict:
    uid: str
    kind: ConflictKind
    field: str | None
    base: object
    ours: object
    theirs: object
    message_zh: str
    other: str | None = None  # for a duplicate: the node whose code or name it would share

    @property
    def key(self) -> ConflictKey:
        """Return (uid, field): what a reviewer's choice names; unique within one merge result."""
        return (self.uid, self.field)


def show(value: object) -> str:
    """Return `value` as a reviewer reads it in a message: codes for placements, （空） for nothing."""
    if value is None or value == "":
        return "（空）"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def same_field_message(name: str, field: str, base: object, ours: object, theirs: object) -> str:
    """Return the message for one field changed two ways."""
    label = FIELD_LABELS[field]
    return (
        f"「{name}」的{label}两边改法不同：现行目录为「{show(ours)}」，"
        f"草稿为「{show(theirs)}」（原为「{show(base)}」）"
    )


def edit_delete_message(name: str, *, deleted_by_draft: bool) -> str:
    """Return the message for a node edited on one side and deleted on the other."""
    if deleted_by_draft:
        return f"草稿撤销了「{name}」，但现行目录已修改它；暂予保留"
    return f"现行目录已撤销「{name}」，但草稿修改了它；暂不恢复"


FIELD_ORDER: dict[str | None, int] = {
    None: 0,
    PLACEMENT: 1,
    "name": 2,
    "description": 3,
    "department": 4,
    "sort_key": 5,
    "attrs": 6,
}


def ordered(conflicts: Iterable[Conflict], *snapshots: Snapshot) -> tuple[Conflict, ...]:
    """Return `conflicts` in tree order: by the node's path in the first snapshot holding it, then field."""

    def key(conflict: Conflict) -> tuple[TreeKey, int, str]:
        path = next((tree_key(s, conflict.uid) for s in snapshots if conflict.uid in s), ())
        return (path, FIELD_ORDER.get(conflict.field, len(FIELD_ORDER)), conflict.uid)

    return tuple(sorted(conflicts, key=key))
