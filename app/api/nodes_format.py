"""Turning node rows into the API's JSON objects and the published-catalog CSV columns."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator

from app.api.schemas import DepartmentOut, NodeOut
from app.db.queries import NodeRow

CSV_HEADER = [
    "序号",
    "目录编码",
    "一级目录",
    "二级目录",
    "三级目录",
    "四级目录",
    "服务内容",
    "购买主体",
    "备注",
    "uid",
]


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


def node_dict(node: NodeRow, path: list[NodeRow]) -> dict[str, object]:
    """Return the same object as `node_out` as a plain dict, without validation (for streaming)."""
    return {
        "uid": node.uid,
        "parent": node.parent_uid,
        "level": node.level,
        "code": node.code,
        "name": node.name,
        "description": node.description,
        "department": None
        if node.department_code is None
        else {"code": node.department_code, "name": node.department_name or ""},
        "path": [p.name for p in path],
        "note": str(node.attrs.get("note", "")),
    }


def csv_row(number: int, node: NodeRow, path: list[NodeRow]) -> list[str]:
    """Return the published-catalog row for `node`: its levels' names in their own columns."""
    levels = [p.name for p in path] + [node.name]
    levels += [""] * (4 - len(levels))
    return [
        str(number),
        node.code,
        *levels,
        node.description,
        node.department_name or "",
        str(node.attrs.get("note", "")),
        node.uid,
    ]


def ndjson_lines(rows: Iterable[tuple[NodeRow, list[NodeRow]]]) -> Iterator[bytes]:
    """Yield one JSON line per node."""
    for node, path in rows:
        yield json.dumps(node_dict(node, path), ensure_ascii=False).encode() + b"\n"


def csv_chunks(
    rows: Iterable[tuple[NodeRow, list[NodeRow]]], *, bom: bool, start: int = 1
) -> Iterator[bytes]:
    """Yield the CSV (header first) in chunks of a few hundred rows, UTF-8 with an optional BOM."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    head = buffer.getvalue().encode()
    yield (b"\xef\xbb\xbf" + head) if bom else head
    buffer.seek(0)
    buffer.truncate()
    for n, (node, path) in enumerate(rows, start=start):
        writer.writerow(csv_row(n, node, path))
        if n % 500 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()
