"""Turning node rows into the API's JSON objects; the CSV columns live with the exports."""

from __future__ import annotations

from app.api.schemas import DepartmentOut, NodeOut
from app.db.queries import NodeRow
from app.formats.exports import CSV_HEADER

__all__ = ["CSV_HEADER", "node_out"]


def node_out(node: NodeRow, path: list[NodeRow]) -> NodeOut:
    """Return the API object for `node` with its ancestors `path`."""
    dept = None
    if node.department_code is not None:
        dept = DepartmentOut(code=node.department_code, name=node.department_name or "")
    return NodeOut(
        uid=node.uid,
        parent=node.parent_uid,
        level=node.level,
        code=node.code,
        name=node.name,
        description=node.description,
        department=dept,
        path=[p.name for p in path],
        note=str(node.attrs.get("note", "")),
    )
