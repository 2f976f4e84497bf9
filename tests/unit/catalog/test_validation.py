"""Mapping headers and validating rows, as pure functions over in-memory tables."""

from __future__ import annotations

import pytest

from app.catalog.columns import Field, header_key, map_columns
from app.catalog.sheet import Problem, RawRow, RawTable, Severity, column_letter
from app.catalog.validation import ClassRef, ImportContext, ParsedItem, TypeRef, validate

CTX = ImportContext(
    classes=(
        ClassRef("cA", "A", ("基本公共服务", "基本公共服务事项")),
        ClassRef("cE", "E", ("政府履职所需辅助性事项", "政府履职辅助性服务")),
    ),
    types=(
        TypeRef("tA06", "A06", "养老服务", "cA"),
        TypeRef("tA05", "A05", "社会救助", "cA"),
        TypeRef("tE01", "E01", "法律服务", "cE"),
    ),
    departments={"101": "民政局", "103": "司法局"},
)
HEADERS = ("序号", "目录编码", "一级目录", "二级目录", "三级目录", "四级目录", "服务内容", "购买主体", "备注")


def table(*rows: tuple[str, ...], headers: tuple[str, ...] = HEADERS) -> RawTable:
    return RawTable(
        headers=headers, header_row=1, rows=tuple(RawRow(i + 2, r) for i, r in enumerate(rows)), source="csv"
    )


def run(t: RawTable, ctx: ImportContext = CTX) -> tuple[list[ParsedItem], list[Problem]]:
    columns, problems = map_columns(t, department_fixed=ctx.department is not None)
    items, more = validate(t, columns, ctx)
    return items, problems + more


def errors(problems: list[Problem]) -> list[tuple[int | None, str | None, str]]:
    return [(p.row, p.column_letter, p.reason) for p in problems if p.severity is Severity.ERROR]


def test_column_letters() -> None:
    assert [column_letter(i) for i in (0, 25, 26, 27, 51, 52, 701, 702)] == [
        "A",
        "Z",
        "AA",
        "AB",
        "AZ",
        "BA",
        "ZZ",
        "AAA",
    ]


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("三级目录", Field.ITEM),
        (" 三级 目录 ", Field.ITEM),
        ("*三级目录（必填）", Field.ITEM),
        ("具体内容", Field.DESCRIPTION),
        ("服务内容说明", Field.DESCRIPTION),
        ("服务内容(简述)", Field.DESCRIPTION),
        ("部门", Field.DEPARTMENT),
        ("单位", Field.DEPARTMENT),
        ("购买主体（部门）", Field.DEPARTMENT),
        ("一级目录：", Field.CLASS),
        ("目录编码", Field.CODE),
        ("ＵＩＤ", Field.UID),
    ],
)
def test_header_variants(header: str, field: Field) -> None:
    others = tuple(h for h in ("二级目录", "三级目录", "购买主体") if Field(h) is not field)
    columns, problems = map_columns(
        table(headers=(header, *others)), department_fixed=field is Field.DEPARTMENT
    )
    assert columns.index.get(field) == 0
    assert errors(problems) == []


def test_columns_in_any_order_and_merged_cells_inherit() -> None:
    headers = ("购买主体", "三级目录", "服务内容", "二级目录", "一级目录", "说明文字")
    rows = [
        ("民政局", "社区居家养老服务", "为居家老年人提供上门服务。", "养老服务", "基本公共服务", "x"),
        ("民政局", "养老机构服务质量评估", "开展第三方评估。", "", "", ""),  # merged 一级/二级 cells
        ("司法局", "政府法律顾问服务", "提供法律意见。", "法律服务", "政府履职辅助性服务", ""),
    ]
    items, problems = run(table(*rows, headers=headers))
    assert [(i.type.code, i.name, i.department) for i in items] == [
        ("A06", "社区居家养老服务", "101"),
        ("A06", "养老机构服务质量评估", "101"),
        ("E01", "政府法律顾问服务", "103"),
    ]
    assert [(p.column_letter, p.reason) for p in problems] == [("F", "未识别的列“说明文字”，已忽略")]
    assert problems[0].severity is Severity.WARNING


def test_heading_rows_and_subitems() -> None:
    rows = [
        ("", "A", "基本公共服务", "", "", "", "", "", ""),
        ("", "A06", "", "养老服务", "", "", "", "", ""),
        ("1", "A06001", "", "", "社区居家养老服务", "", "上门服务。", "民政局", ""),
        ("", "A0600101", "", "", "", "助餐服务", "集中用餐和送餐。", "民政局", "含送餐"),
        ("", "", "", "", "", "助浴服务", "上门助浴。", "民政局", ""),
    ]
    items, problems = run(table(*rows))
    assert errors(problems) == []
    assert [(i.row, i.level, i.name, i.code, i.parent_row, i.note) for i in items] == [
        (4, 3, "社区居家养老服务", "A06001", None, ""),
        (5, 4, "助餐服务", "A0600101", 4, "含送餐"),
        (6, 4, "助浴服务", None, 4, ""),
    ]


def test_text_is_normalised() -> None:
    rows = [
        (
            "",
            "",
            "基本公共服务事项",
            "养老服务",
            "  社区　居家养老服务（试点）",
            "",
            "为ＡＢＣ小区提供服务，每周2次。",
            " 民政局 ",
            "",
        )
    ]
    items, problems = run(table(*rows))
    assert errors(problems) == []
    assert (items[0].name, items[0].description) == (
        "社区 居家养老服务（试点）",
        "为ABC小区提供服务，每周2次。",
    )


LONG = "长" * 1001


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            ("", "", "基本服务", "养老服务", "x服务", "", "", "民政局", ""),
            (2, "C", "未知的一级目录“基本服务”（应为：基本公共服务、政府履职所需辅助性事项）"),
        ),
        (
            ("", "", "基本公共服务", "法律服务", "x服务", "", "", "民政局", ""),
            (2, "D", "一级目录“基本公共服务”下没有二级目录“法律服务”"),
        ),
        (("", "", "", "", "x服务", "", "", "民政局", ""), (2, "D", "二级目录为空")),
        (
            ("", "", "基本公共服务", "养老服务", "", "", "有内容没名称", "民政局", ""),
            (2, "E", "三级目录名称为空"),
        ),
        (
            ("", "", "基本公共服务", "养老服务", "x服务", "", LONG, "民政局", ""),
            (2, "G", "“服务内容”过长：1,001 个字符，最多 1,000 个"),
        ),
        (("", "", "基本公共服务", "养老服务", "x服务", "", "", "", ""), (2, "H", "购买主体为空")),
        (
            ("", "", "基本公共服务", "养老服务", "x服务", "", "", "教育局", ""),
            (2, "H", "未知的部门“教育局”：请使用本地区部门的全称或编码"),
        ),
        (
            ("", "B01001", "基本公共服务", "养老服务", "x服务", "", "", "民政局", ""),
            (2, "B", "目录编码“B01001”与上级二级目录“养老服务”（A06）不一致"),
        ),
        (
            ("", "", "基本公共服务", "养老服务", "", "助餐服务", "", "民政局", ""),
            (2, "E", "找不到上级三级目录“”：四级目录须列在其三级目录之后"),
        ),
    ],
)
def test_each_bad_row_is_reported_where_excel_shows_it(
    row: tuple[str, ...], expected: tuple[int, str, str]
) -> None:
    items, problems = run(table(row))
    assert items == []
    assert errors(problems) == [expected]


def test_fifth_level_is_refused() -> None:
    headers = (*HEADERS, "五级目录")
    row = ("", "", "基本公共服务", "养老服务", "x服务", "y服务", "", "民政局", "", "z服务")
    assert errors(run(table(row, headers=headers))[1]) == [(2, "J", "最多只能有四级目录，无法导入第五级")]


def test_duplicates_name_the_first_row() -> None:
    rows = [
        ("", "A06001", "基本公共服务", "养老服务", "社区居家养老服务", "", "", "民政局", ""),
        ("", "A06002", "", "", "社区居家养老服务", "", "", "民政局", ""),
        ("", "A06001", "", "", "养老机构评估", "", "", "民政局", ""),
        ("", "", "", "", "社区居家养老服务", "", "", "司法局", ""),  # another department may buy it too
    ]
    items, problems = run(table(*rows))
    assert errors(problems) == [
        (3, "E", "与第2行重复：同一二级目录、同一部门下已有“社区居家养老服务”"),
        (4, "B", "目录编码“A06001”与第2行重复"),
    ]
    assert [(i.row, i.department) for i in items] == [(2, "101"), (5, "103")]


def test_every_problem_of_the_file_is_reported_not_just_the_first() -> None:
    rows = [
        (str(n), "", "基本公共服务", "养老服务" if n % 2 else "未知类型", f"服务{n}", "", "", "民政局", "")
        for n in range(1, 41)
    ]
    _items, problems = run(table(*rows))
    assert len(errors(problems)) == 20


def test_missing_required_columns() -> None:
    _columns, problems = map_columns(
        table(headers=("一级目录", "三级目录", "服务内容")), department_fixed=False
    )
    assert [p.reason for p in problems if p.severity is Severity.ERROR] == [
        "缺少必需的列“二级目录”",
        "缺少必需的列“购买主体”（或在导入时指定部门）",
    ]
    _columns, problems = map_columns(table(headers=("二级目录", "三级目录")), department_fixed=True)
    assert errors(problems) == []
    assert [p.reason for p in problems] == ["没有“服务内容”列：导入后各目录的服务内容为空"]


def test_duplicated_header_is_an_error() -> None:
    _columns, problems = map_columns(
        table(headers=("二级目录", "三级目录", "服务内容", "购买主体", "具体内容")), department_fixed=False
    )
    assert errors(problems) == [(1, "E", "“服务内容”列重复：C 列和 E 列")]


def test_fixed_department_fills_blanks_and_refuses_others() -> None:
    ctx = ImportContext(CTX.classes, CTX.types, CTX.departments, department="101")
    rows = [
        ("", "", "基本公共服务", "养老服务", "社区居家养老服务", "", "", "", ""),
        ("", "", "", "", "养老机构评估", "", "", "司法局", ""),
    ]
    items, problems = run(table(*rows), ctx)
    assert [i.department for i in items] == ["101"]
    assert errors(problems) == [(3, "H", "购买主体“司法局”与导入的部门“民政局”不一致")]


def test_header_key() -> None:
    assert header_key("＊三级 目录（必填）：") == "三级目录"


def test_a_subitem_bought_by_another_department_finds_its_parent() -> None:
    rows = [
        ("", "", "基本公共服务", "养老服务", "社区居家养老服务", "", "", "民政局", ""),
        ("", "", "", "", "社区居家养老服务", "法律咨询进社区", "", "司法局", ""),
    ]
    items, problems = run(table(*rows))
    assert errors(problems) == []
    assert [(i.level, i.department, i.parent_row) for i in items] == [(3, "101", None), (4, "103", 2)]
