"""Which column of a department's spreadsheet holds what: header words as real catalogs print them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from app.catalog.sheet import Problem, RawTable, Severity, column_letter
from app.catalog.text import normalise


class Field(StrEnum):
    SEQ = "序号"
    CODE = "目录编码"
    CLASS = "一级目录"
    TYPE = "二级目录"
    ITEM = "三级目录"
    SUBITEM = "四级目录"
    FIFTH = "五级目录"
    DESCRIPTION = "服务内容"
    DEPARTMENT = "购买主体"
    NOTE = "备注"
    UID = "uid"


# Header words seen in published catalogs, after normalisation (see `header_key`).
ALIASES: dict[str, Field] = {
    "序号": Field.SEQ,
    "编号": Field.SEQ,
    "目录编码": Field.CODE,
    "编码": Field.CODE,
    "目录代码": Field.CODE,
    "代码": Field.CODE,
    "一级目录": Field.CLASS,
    "一级": Field.CLASS,
    "一级目录名称": Field.CLASS,
    "一级分类": Field.CLASS,
    "类别": Field.CLASS,
    "二级目录": Field.TYPE,
    "二级": Field.TYPE,
    "二级目录名称": Field.TYPE,
    "二级分类": Field.TYPE,
    "三级目录": Field.ITEM,
    "三级": Field.ITEM,
    "三级目录名称": Field.ITEM,
    "服务项目": Field.ITEM,
    "四级目录": Field.SUBITEM,
    "四级": Field.SUBITEM,
    "四级目录名称": Field.SUBITEM,
    "五级目录": Field.FIFTH,
    "五级": Field.FIFTH,
    "服务内容": Field.DESCRIPTION,
    "具体内容": Field.DESCRIPTION,
    "服务内容说明": Field.DESCRIPTION,
    "具体说明": Field.DESCRIPTION,
    "内容说明": Field.DESCRIPTION,
    "服务内容及要求": Field.DESCRIPTION,
    "购买主体": Field.DEPARTMENT,
    "部门": Field.DEPARTMENT,
    "单位": Field.DEPARTMENT,
    "购买主体部门": Field.DEPARTMENT,
    "购买部门": Field.DEPARTMENT,
    "预算单位": Field.DEPARTMENT,
    "部门名称": Field.DEPARTMENT,
    "单位名称": Field.DEPARTMENT,
    "备注": Field.NOTE,
    "说明": Field.NOTE,
    "uid": Field.UID,
    "节点标识": Field.UID,
}
REQUIRED = (Field.TYPE, Field.ITEM)

_DECORATION = re.compile(r"[\s*＊:：]|[（(][^）)]*[）)]")


def header_key(text: str) -> str:
    """Return `text` as a header word: normalised, without spaces, stars, colons or bracketed notes."""
    return _DECORATION.sub("", normalise(text)).lower()


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """The column index of each field found (absent fields are missing from `index`)."""

    index: dict[Field, int]

    def has(self, field: Field) -> bool:
        """Return whether the file has a column for `field`."""
        return field in self.index


def _at(table: RawTable, i: int, reason: str, severity: Severity) -> Problem:
    header = table.headers[i]
    return Problem(
        reason,
        row=table.header_row,
        column=header,
        column_letter=column_letter(i),
        value=header,
        severity=severity,
    )


def map_columns(table: RawTable, *, department_fixed: bool) -> tuple[ColumnMap, list[Problem]]:
    """Return where each field is in `table`: errors for missing columns, warnings for unknown ones."""
    index: dict[Field, int] = {}
    problems: list[Problem] = []
    for i, header in enumerate(table.headers):
        field = ALIASES.get(header_key(header))
        if field is None:
            if header.strip():
                reason = f"未识别的列“{header.strip()}”，已忽略"
                problems.append(_at(table, i, reason, Severity.WARNING))
        elif field in index:
            reason = f"“{field}”列重复：{column_letter(index[field])} 列和 {column_letter(i)} 列"
            problems.append(_at(table, i, reason, Severity.ERROR))
        else:
            index[field] = i
    required = [*REQUIRED, *(() if department_fixed else (Field.DEPARTMENT,))]
    for field in required:
        if field not in index:
            hint = "（或在导入时指定部门）" if field is Field.DEPARTMENT else ""
            problems.append(Problem(f"缺少必需的列“{field}”{hint}", row=table.header_row))
    if Field.DESCRIPTION not in index:
        problems.append(
            Problem(
                "没有“服务内容”列：导入后各目录的服务内容为空",
                row=table.header_row,
                severity=Severity.WARNING,
            )
        )
    return ColumnMap(index), problems
