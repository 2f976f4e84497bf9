"""Reading the project's own JSON export back as the rows of a published catalog.

Each item becomes the row the CSV export would print for it, so the mapping and validation
that follow treat an exported catalog like any department's spreadsheet.
"""

from __future__ import annotations

import json

from app.catalog.sheet import Problem, RawRow, RawTable
from app.formats.sheets_table import FileProblem

EXPORT_FORMAT = "guidecat-catalog"
EXPORT_VERSION = 1
# the published-catalog CSV columns (app.api.nodes_format.CSV_HEADER; a test keeps the two equal)
EXPORT_HEADERS = (
    *("序号", "目录编码", "一级目录", "二级目录", "三级目录", "四级目录"),
    *("服务内容", "购买主体", "备注", "uid"),
)
LEVEL_COLUMNS = 4
NOT_EXPORT = (
    f'只能导入本系统导出的目录 JSON（含 "format": "{EXPORT_FORMAT}"）；其他 JSON 请先转为 CSV 或 Excel 表格'
)


def read_export(data: bytes) -> RawTable:
    """Return the export's items as rows under EXPORT_HEADERS, the first item in row 2; raise FileProblem."""
    items = _items(_load(data))
    rows = tuple(RawRow(2 + i, _cells(i, item)) for i, item in enumerate(items))
    return RawTable(headers=EXPORT_HEADERS, header_row=1, rows=rows, source="json")


def _load(data: bytes) -> object:
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise FileProblem(Problem("JSON 文件必须是 UTF-8 编码")) from exc
    except json.JSONDecodeError as exc:
        reason = f"JSON 格式错误：第{exc.lineno}行第{exc.colno}列附近（{exc.msg}）"
        raise FileProblem(Problem(reason, row=exc.lineno)) from exc
    except RecursionError as exc:
        raise FileProblem(Problem("JSON 格式错误：嵌套层数过多")) from exc


def _items(doc: object) -> list[object]:
    if not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT:
        raise FileProblem(Problem(f'不是本系统导出的目录 JSON（缺少 "format": "{EXPORT_FORMAT}"）'))
    version = doc.get("format_version")
    if version != EXPORT_VERSION:
        reason = f"JSON 文件的格式版本为 {version}，本系统只能读取第 {EXPORT_VERSION} 版"
        raise FileProblem(Problem(reason))
    items = doc.get("items")
    if not isinstance(items, list):
        raise FileProblem(Problem("JSON 文件缺少 items 列表"))
    return items


def _cells(index: int, item: object) -> tuple[str, ...]:
    """Return the published-catalog row of `item`: its levels' names in their own columns."""
    if not isinstance(item, dict):
        raise _bad_item(index, "不是对象")
    path = item.get("path") or []
    if not isinstance(path, list) or not all(isinstance(name, str) for name in path):
        raise _bad_item(index, "的 path 不是名称列表")
    levels = [*path, _text(item.get("name"))]
    if len(levels) > LEVEL_COLUMNS:
        raise _bad_item(index, f"有 {len(levels)} 级，目录最多 {LEVEL_COLUMNS} 级")
    department = item.get("department")
    return (
        str(index + 1),
        _text(item.get("code")),
        *levels,
        *([""] * (LEVEL_COLUMNS - len(levels))),
        _text(item.get("description")),
        _text(department.get("name")) if isinstance(department, dict) else "",
        _text(item.get("note")),
        _text(item.get("uid")),
    )


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _bad_item(index: int, what: str) -> FileProblem:
    return FileProblem(Problem(f"JSON 第 {index + 1} 项{what}", row=2 + index))
