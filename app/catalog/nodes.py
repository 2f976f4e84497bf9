"""Node state: one node of a catalog as it stands in one version (or in a draft)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any


class Level(IntEnum):
    """一级 class → 二级 type → 三级 item → optional 四级 sub-item."""

    CLASS = 1
    TYPE = 2
    ITEM = 3
    SUBITEM = 4

    @property
    def label(self) -> str:
        """Return the Chinese name of the level as catalogs print it."""
        return LEVEL_LABELS[self]


LEVEL_LABELS = {
    Level.CLASS: "一级目录",
    Level.TYPE: "二级目录",
    Level.ITEM: "三级目录",
    Level.SUBITEM: "四级目录",
}

NAME_MAX = 100
DESCRIPTION_MAX = 1000
CODE_MAX = 32


@dataclass(frozen=True, slots=True)
class NodeState:
    """The content of a node in one version; `uid` is its identity, `code` only a label."""

    uid: str
    parent: str | None
    level: Level
    code: str
    name: str
    description: str = ""
    department: str | None = None
    sort_key: int = 0
    attrs: dict[str, Any] = field(default_factory=dict, compare=True, hash=False)
