"""Reading the files departments send, and reporting what is wrong with them. No database."""

from __future__ import annotations

import codecs
import importlib.util
import io
import zipfile
from datetime import date, datetime, time
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from app.api.nodes_format import CSV_HEADER
from app.catalog.columns import header_key, map_columns
from app.catalog.sheet import Problem, RawTable, Severity
from app.errors import InvalidInput
from app.formats.import_report import display_width, problems_json, problems_table, write_report_xlsx
from app.formats.sheets import MAX_UPLOAD_BYTES, FileProblem, read_table
from app.formats.sheets_json import EXPORT_HEADERS
from app.formats.sheets_xlsx import cell_text
from tests.paths import DATA

CORPUS = DATA / "import"
KEYS = ["序号", "目录编码", "一级目录", "二级目录", "三级目录", "服务内容", "购买主体", "备注"]
CLASS, TYPE = 2, 3  # the 一级/二级 columns, which departments merge
FIRST = (
    "1",
    "A06001",
    "基本公共服务",
    "养老服务",
    "社区居家养老服务",
    "为辖区内60周岁以上居家老年人提供助餐、助洁、助浴、助医等上门服务。\n服务对象以高龄、独居、失能老年人为主。",
    "民政局",
    "",
)
CORRUPT = "XLSX 文件已损坏或不完整，请在 Excel 中重新保存后再导入"
FORMULA = "公式单元格：请将公式复制后“选择性粘贴为数值”再导入"
NOT_EXPORT = (
    '只能导入本系统导出的目录 JSON（含 "format": "guidecat-catalog"）；其他 JSON 请先转为 CSV 或 Excel 表格'
)
NO_HEADER = "没有找到表头：第一行应包含“一级目录、二级目录、三级目录、服务内容、购买主体”等列名"


def read(name: str, *, sheet: str | None = None, declared_encoding: str | None = None) -> RawTable:
    data = (CORPUS / name).read_bytes()
    return read_table(data, filename=Path(name).name, sheet=sheet, declared_encoding=declared_encoding)


def refusal(data: bytes, *, filename: str = "", sheet: str | None = None) -> FileProblem:
    with pytest.raises(FileProblem) as caught:
        read_table(data, filename=filename, sheet=sheet)
    return caught.value


def filled(table: RawTable) -> list[tuple[str, ...]]:
    """Return the rows with blank 一级/二级 cells taken from the row above, as the mapping layer does."""
    out: list[tuple[str, ...]] = []
    for row in table.rows:
        cells = list(row.cells)
        for i in (CLASS, TYPE):
            cells[i] = cells[i] or (out[-1][i] if out else "")
        out.append(tuple(cells))
    return out


def test_the_corpus_is_what_make_corpus_writes() -> None:
    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert {name: (CORPUS / name).read_bytes() for name in module.corpus()} == module.corpus()


# --- the good files --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "source", "encoding", "header_row"),
    [
        ("good/utf8.csv", "csv", "utf-8", 1),
        ("good/utf8-bom.csv", "csv", "utf-8-sig", 2),  # a title row above the header
        ("good/gbk.csv", "csv", "gb18030", 1),
        ("good/semicolon.csv", "csv", "utf-8", 1),
        ("good/catalog.xlsx", "xlsx", None, 2),
    ],
)
def test_every_good_file_reads_to_the_same_rows(
    name: str, source: str, encoding: str | None, header_row: int
) -> None:
    table = read(name)
    assert (table.source, table.encoding, table.header_row) == (source, encoding, header_row)
    assert [header_key(h) for h in table.headers] == KEYS
    assert filled(table) == filled(read("good/utf8.csv"))
    assert filled(table)[0] == FIRST
    assert [r.number for r in table.rows] == list(range(header_row + 1, header_row + 9))
    assert table.warnings == ()


def test_gbk_headers_keep_their_decorations_for_the_mapping_layer() -> None:
    assert read("good/gbk.csv").headers[4:7] == ("*三级目录（必填）", "服务内容", "购买主体（部门）")


def test_a_quoted_line_break_stays_in_its_cell_and_counts_as_one_row() -> None:
    rows = read("good/utf8.csv").rows
    assert "\n" in rows[0].cells[5]
    assert (rows[1].number, rows[1].cells[4]) == (3, "特困失能人员集中照护服务")


def test_merged_cells_read_as_blank_below_the_first() -> None:
    rows = {r.number: r.cells for r in read("good/catalog.xlsx").rows}
    assert rows[3][CLASS : TYPE + 1] == ("基本公共服务", "养老服务")
    assert rows[4][CLASS : TYPE + 1] == ("", "")
    assert rows[6][CLASS : TYPE + 1] == ("", "医疗卫生")
    assert rows[8][CLASS : TYPE + 1] == ("政府履职所需辅助性事项", "评估")


def test_the_semicolon_file_keeps_its_ascii_comma() -> None:
    assert read("good/semicolon.csv").rows[-1].cells[5].endswith("论证, 形成评估报告。")


def test_the_json_export_reads_as_published_rows() -> None:
    table = read("good/export.json")
    assert (table.source, table.header_row, table.headers) == ("json", 1, tuple(CSV_HEADER))
    assert [r.number for r in table.rows] == [2, 3, 4, 5]
    sub = table.rows[1].cells
    assert sub[:6] == ("2", "A0600101", "基本公共服务", "养老服务", "社区居家养老服务", "助餐服务")
    assert sub[7:] == ("民政局", "", "e000000000000101")
    assert table.rows[0].cells[5] == ""  # a 三级 item has no 四级 name


def test_export_headers_are_the_published_csv_columns() -> None:
    assert list(EXPORT_HEADERS) == CSV_HEADER


def test_a_named_sheet_is_read() -> None:
    assert read("good/catalog.xlsx", sheet="目录").header_row == 2


# --- the bad files ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "bad/bom-in-middle.csv",
            "第10行含有多余的 BOM 标记，文件可能由多个文件拼接而成，请删除该行前的不可见字符后重试",
        ),
        ("bad/truncated.xlsx", CORRUPT),
        ("bad/duplicated-header.csv", "列名重复：“服务内容”同时出现在 F 列和 I 列"),
        ("bad/empty.csv", "文件为空"),
        ("bad/png-renamed.csv", "文件不是文本或 Excel 表格（可能是其他文件改了扩展名）"),
        ("bad/formulas.xlsx", f"{FORMULA}（共 3 处，第一处在 A3）"),
    ],
)
def test_every_unreadable_file_is_refused_with_its_reason(name: str, message: str) -> None:
    problem = refusal((CORPUS / name).read_bytes(), filename=Path(name).name)
    assert problem.message == message
    assert isinstance(problem, InvalidInput)
    assert problem.problem.severity is Severity.ERROR


def test_the_inner_bom_and_the_duplicate_are_located() -> None:
    bom = refusal((CORPUS / "bad/bom-in-middle.csv").read_bytes()).problem
    duplicate = refusal((CORPUS / "bad/duplicated-header.csv").read_bytes()).problem
    assert bom.row == 10
    assert (duplicate.row, duplicate.column_letter, duplicate.column) == (1, "I", "服务内容")


def test_every_formula_cell_is_listed_where_it_is() -> None:
    problems = refusal((CORPUS / "bad/formulas.xlsx").read_bytes()).problems
    assert [(p.row, p.column_letter, p.column, p.value) for p in problems] == [
        (3, "A", "序号", "=ROW()-2"),
        (4, "A", "序号", "=A3+1"),
        (9, "G", "购买主体", "=VLOOKUP(B9,部门对照!A:B,2,FALSE)"),
    ]
    assert {p.reason for p in problems} == {FORMULA}


def test_a_wrongly_declared_encoding_is_read_as_the_bytes_say_with_a_warning() -> None:
    table = read("bad/wrong-encoding-declared.csv", declared_encoding="gbk")
    assert filled(table) == filled(read("good/utf8.csv"))
    assert [(w.reason, w.severity) for w in table.warnings] == [
        ("声明的编码为 gbk，实际按 UTF-8 读取", Severity.WARNING)
    ]


def test_a_missing_required_column_is_left_to_the_mapping_layer() -> None:
    table = read("bad/missing-column.csv")
    _, problems = map_columns(table, department_fixed=False)
    assert "缺少必需的列“购买主体”（或在导入时指定部门）" in [p.reason for p in problems]


def test_extra_columns_are_read_and_the_mapping_layer_warns() -> None:
    table = read("bad/extra-columns.csv")
    assert table.headers[-2:] == ("联系人", "预算金额（万元）")
    _, problems = map_columns(table, department_fixed=False)
    warnings = [p.reason for p in problems if p.severity is Severity.WARNING]
    assert warnings == ["未识别的列“联系人”，已忽略", "未识别的列“预算金额（万元）”，已忽略"]


def test_a_2mb_cell_is_read_whole() -> None:
    # generated rather than committed: 2 MB of one repeated phrase would only bloat the repository
    description = "开展社区居家养老服务需求调查。" * 50_000
    data = f"序号,三级目录,服务内容\n1,社区居家养老服务,{description}\n2,助餐服务,配送老年餐\n".encode()
    assert len(data) > 2 * 1024 * 1024
    table = read_table(data)
    assert table.rows[0].cells[2] == description
    assert table.rows[1].number == 3


# --- edge cases, inline ----------------------------------------------------------------------

HEADER = "序号,三级目录,服务内容\n"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"  \r\n\t\n", "文件为空"),
        (codecs.BOM_UTF8 + b"\r\n", "文件为空"),
        (b",,\n,,\n", "文件为空"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
            "不支持 Excel 97-2003（.xls）格式，请另存为 .xlsx 或 CSV",
        ),
        (b"\x01\x02\x03\x04" + b"a" * 100, "文件不是文本或 Excel 表格（可能是其他文件改了扩展名）"),
        ("示范市目录\n说明：本表由各部门填报\n1,2,3\n".encode(), NO_HEADER),
        (("\n" * 20 + HEADER).encode(), NO_HEADER),
        (
            ("序号,三级目录\n1,社区养老\n").encode() + b"2,\xff\xfe\n",
            "无法识别文件编码：请保存为 UTF-8 或 GBK 编码的 CSV（第3行有无法识别的字节 0xFF 0xFE 0x0A）",
        ),
        (
            b'{"format": "guidecat-catalog", "format_version": 1, "items": [\n  {"uid": }\n]}',
            "JSON 格式错误：第2行第11列附近（Expecting value）",
        ),
        (
            b'{"format": "guidecat-catalog", "format_version": 2, "items": []}',
            "JSON 文件的格式版本为 2，本系统只能读取第 1 版",
        ),
        (b'{"format": "guidecat-catalog", "format_version": 1}', "JSON 文件缺少 items 列表"),
        ('{"uid": "e000000000000001", "name": "助餐服务"}\n'.encode(), NOT_EXPORT),  # NDJSON
        (b'[{"uid": "e000000000000001"}]', NOT_EXPORT),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + "EncryptedPackage".encode("utf-16-le"),
            "文件设置了打开密码，请在 Excel 中取消密码并另存后再导入",
        ),
    ],
)
def test_unreadable_content_is_refused_with_its_reason(data: bytes, message: str) -> None:
    assert refusal(data).message == message


def _zip(names: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, body in names.items():
            archive.writestr(name, body)
    return out.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        _zip({"readme.txt": b"not a workbook"}),
        _zip({"[Content_Types].xml": b"<Types", "xl/workbook.xml": b"<workbook"}),  # broken XML
    ],
)
def test_a_zip_that_is_no_workbook_is_refused_as_damaged(data: bytes) -> None:
    assert refusal(data).message == CORRUPT


def test_an_unknown_sheet_name_lists_the_sheets() -> None:
    problem = refusal((CORPUS / "bad/formulas.xlsx").read_bytes(), sheet="汇总")
    assert problem.message == "没有名为“汇总”的工作表；文件中的工作表有：“目录”、“部门对照”"


def test_a_file_over_the_cap_is_refused() -> None:
    assert MAX_UPLOAD_BYTES == 50 * 1024 * 1024
    with pytest.raises(FileProblem) as caught:
        read_table(b"a" * (2**20 + 1), max_bytes=2**20)
    assert caught.value.message == "文件大小为 1.0 MB，超过 1 MB 的上限，请拆分后分批导入"


@pytest.mark.parametrize(
    ("data", "declared", "warnings"),
    [
        (
            "序号,三级目录\n1,助餐服务\n".encode("gbk"),
            "utf-8",
            ["声明的编码为 utf-8，实际按 GB18030（GBK） 读取"],
        ),
        ("序号,三级目录\n1,助餐服务\n".encode("gbk"), "GB2312", []),
        ("序号,三级目录\n1,助餐服务\n".encode(), "UTF8", []),
        ("序号,三级目录\n1,助餐服务\n".encode(), "klingon", ["声明的编码为 klingon，实际按 UTF-8 读取"]),
    ],
)
def test_a_declared_encoding_is_only_a_hint(data: bytes, declared: str, warnings: list[str]) -> None:
    table = read_table(data, declared_encoding=declared)
    assert [w.reason for w in table.warnings] == warnings
    assert table.rows[0].cells[0] == "1"


def test_excel_unicode_text_is_read_as_tab_separated_utf16() -> None:
    data = "序号\t三级目录\t服务内容\r\n1\t助餐服务\t配送老年餐\r\n".encode("utf-16")
    table = read_table(data)
    assert (table.encoding, table.headers, table.rows[0].cells) == (
        "utf-16",
        ("序号", "三级目录", "服务内容"),
        ("1", "助餐服务", "配送老年餐"),
    )


def test_title_rows_are_skipped_and_blank_rows_dropped_but_counted() -> None:
    text = "示范市目录,,\n序号,三级目录,服务内容\n1,助餐服务,配送老年餐\n,,\n  , ,\n2,助浴服务,上门助浴\n"
    table = read_table(text.encode())
    assert table.header_row == 2
    assert [(r.number, r.cells[1]) for r in table.rows] == [(3, "助餐服务"), (6, "助浴服务")]


def test_trailing_unnamed_columns_are_dropped_with_a_warning_where_they_hold_text() -> None:
    table = read_table(
        (HEADER.rstrip("\n") + ",,\n1,助餐服务,配送,,\n2,助浴服务,助浴,,多余\n3,助洁\n").encode()
    )
    assert table.headers == ("序号", "三级目录", "服务内容")
    assert [r.cells for r in table.rows][::2] == [("1", "助餐服务", "配送"), ("3", "助洁", "")]
    assert [(w.reason, w.column_letter) for w in table.warnings] == [
        ("E 列有内容但没有列名，已忽略（共 1 行，第一处在第3行）", "E")
    ]


def test_cells_are_returned_as_written() -> None:
    table = read_table((HEADER + "１,＝SUM(A1), 助餐服务 \n2,=SUM(A1),\n").encode())
    assert [r.cells for r in table.rows] == [("１", "＝SUM(A1)", " 助餐服务 "), ("2", "=SUM(A1)", "")]


def test_a_header_only_file_has_no_rows() -> None:
    assert read_table(HEADER.encode()).rows == ()


def test_a_misleading_extension_and_a_useless_sheet_are_mentioned() -> None:
    xlsx = read_table((CORPUS / "good/catalog.xlsx").read_bytes(), filename="目录.csv")
    csv = read_table(HEADER.encode(), filename="目录.csv", sheet="Sheet1")
    assert [w.reason for w in xlsx.warnings] == ["文件扩展名是 .csv，内容却是 Excel 工作簿，已按内容读取"]
    assert [w.reason for w in csv.warnings] == ["只有 Excel 工作簿有工作表，已忽略指定的工作表“Sheet1”"]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (12, "12"),
        (12.0, "12"),
        (0.1 + 0.2, "0.3"),
        (12.5, "12.5"),
        (True, "TRUE"),
        (datetime(2024, 3, 15), "2024-03-15"),
        (datetime(2024, 3, 15, 9, 30), "2024-03-15 09:30:00"),
        (date(2024, 3, 15), "2024-03-15"),
        (time(9, 30), "09:30:00"),
    ],
)
def test_xlsx_values_read_as_excel_shows_them(value: object, text: str) -> None:
    assert cell_text(value) == text


def test_xlsx_numbers_and_dates_come_out_as_text() -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["序号", "三级目录", "备注"])
    ws.append([1, "助餐服务", datetime(2024, 3, 15)])
    ws.append([2.0, "助浴服务", 0.25])
    out = io.BytesIO()
    wb.save(out)
    table = read_table(out.getvalue())
    assert [r.cells for r in table.rows] == [("1", "助餐服务", "2024-03-15"), ("2", "助浴服务", "0.25")]


# --- the report ------------------------------------------------------------------------------

LONG = "为辖区内60周岁以上居家老年人提供助餐、助洁、助浴、助医等上门服务。"
PROBLEMS = [
    Problem("三级目录不能为空", row=4, column="三级目录", column_letter="E", value=""),
    Problem("服务内容过长", row=5, column="服务内容", column_letter="F", value=LONG),
    Problem("购买主体“民正局”不存在", row=5, column="购买主体", column_letter="G", value="民正局"),
    Problem("声明的编码为 gbk，实际按 UTF-8 读取", severity=Severity.WARNING),
]


def test_the_console_table_lines_up_chinese_text() -> None:
    lines = problems_table(PROBLEMS).splitlines()
    assert lines[0].split() == ["行", "列", "值", "问题"]
    reasons = [p.reason for p in PROBLEMS[:-1]] + ["警告："]
    starts = {display_width(line[: line.rindex(r)]) for line, r in zip(lines[2:], reasons, strict=True)}
    assert len(starts) == 1  # every reason begins in the same terminal column
    assert "警告：声明的编码为 gbk" in lines[-1]
    assert "  为辖区内60周岁以上居家老年人…  " in lines[3]  # cut to 30 columns


def test_the_console_table_is_empty_without_problems() -> None:
    assert problems_table([]) == ""


def test_problems_as_json_cut_long_values() -> None:
    found = problems_json(
        [Problem("服务内容过长", row=3, column="服务内容", column_letter="C", value="长" * 5000)]
    )
    assert found == [
        {
            "row": 3,
            "column": "服务内容",
            "column_letter": "C",
            "value": "长" * 199 + "…",
            "reason": "服务内容过长",
            "severity": "error",
        }
    ]


def test_the_xlsx_report_marks_bad_cells_in_the_file_s_own_rows() -> None:
    table = read("good/utf8-bom.csv")  # header in row 2, below a title
    out = io.BytesIO()
    write_report_xlsx(table, PROBLEMS, out)
    wb = load_workbook(io.BytesIO(out.getvalue()))
    assert wb.sheetnames == ["导入数据", "问题清单"]
    data = wb["导入数据"]
    assert data.freeze_panes == "A3"
    assert [c.value for c in data[2]][:3] == ["问题", "序号", "目录编码"]
    assert data["B3"].value == "1"  # the first data row stays in row 3, shifted one column right
    bad = data["F4"]  # E (三级目录) in the file
    assert bad.fill.fgColor.rgb == "00FFC7CE"
    assert bad.comment is not None
    assert bad.comment.text == "三级目录不能为空"
    assert data["A5"].value == "服务内容过长；购买主体“民正局”不存在"
    assert data["A3"].value is None  # a row without problems is not marked
    assert data["C3"].fill.fgColor.rgb == "00000000"
    listed = [[c.value for c in row] for row in wb["问题清单"].iter_rows(min_row=1, max_row=2)]
    assert listed == [
        ["行", "列", "列名", "值", "问题", "级别"],
        [4, "E", "三级目录", None, "三级目录不能为空", "错误"],
    ]


def test_the_xlsx_report_of_an_unreadable_file_has_only_the_problem_list() -> None:
    out = io.BytesIO()
    write_report_xlsx(None, [Problem(CORRUPT)], out)
    wb = load_workbook(io.BytesIO(out.getvalue()))
    assert wb.sheetnames == ["问题清单"]
    assert wb["问题清单"]["E2"].value == CORRUPT


def test_the_xlsx_report_keeps_formula_text_and_huge_cells_as_text() -> None:
    table = read_table((HEADER + "1,=SUM(A1:A3)," + "长" * 40_000 + "\n").encode())
    out = io.BytesIO()
    write_report_xlsx(table, [Problem("过长", row=2, column_letter="C", value="长" * 40_000)], out)
    data = load_workbook(io.BytesIO(out.getvalue()))["导入数据"]
    assert (data["C2"].value, data["C2"].data_type) == ("=SUM(A1:A3)", "s")
    assert len(data["D2"].value) <= 32_767
    assert data["D2"].value.endswith("（已截断，原文共 40000 字）")


def test_the_xlsx_report_marks_header_problems_and_text_past_the_last_column() -> None:
    table = read_table((HEADER + "1,助餐服务,配送,多余\n").encode())
    missing = Problem("缺少必需的列“购买主体”", row=1)
    out = io.BytesIO()
    write_report_xlsx(table, [missing, *table.warnings], out)
    data = load_workbook(io.BytesIO(out.getvalue()))["导入数据"]
    assert data["A1"].value == "问题"  # the header keeps its title; the reason is its note
    assert data["A1"].comment is not None
    assert data["A1"].comment.text == "缺少必需的列“购买主体”"
    assert data["A2"].value == "警告：D 列有内容但没有列名，已忽略（共 1 行，第一处在第2行）"
    assert data["A2"].fill.fgColor.rgb == "00FFEB9C"
