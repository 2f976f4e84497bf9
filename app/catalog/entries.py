"""The shapes a version's nodes take on their way out: plain tuples, since 650,000 go by in one export."""

from __future__ import annotations

from typing import Any, TypeAlias

# (node_id, uid, parent_id, level, code, name, description, department_id, note or None)
Row: TypeAlias = tuple[int, str, int | None, int, str, str, str, int | None, Any]
# a parent: its uid, and the names from the class down to it (itself included)
Ancestry: TypeAlias = tuple[str, tuple[str, ...]]
# a department: its code and name
DepartmentRef: TypeAlias = tuple[str, str]
# a node as exports see it
Entry: TypeAlias = tuple[Row, Ancestry | None, DepartmentRef | None]
