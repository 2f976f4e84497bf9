"""(Re)create the import corpus in this folder: `.venv/bin/python tests/data/import/make_corpus.py`.

Every file is written from the rows below, byte for byte the same on each run (XLSX included:
the workbook's timestamps and the zip entries' dates are fixed). README.md says what each
file should produce. The rows are the demo catalog's (catalogs/demo/items-2024.csv) as a
department would publish them.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import struct
import zipfile
import zlib
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

HERE = Path(__file__).resolve().parent
FIXED = datetime(2024, 3, 15, 9, 0, 0)
MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")
TITLE = "示范市2024年政府购买服务指导性目录"
HEADER = ["序号", "目录编码", "一级目录", "二级目录", "三级目录", "服务内容", "购买主体", "备注"]
# the same columns as a department's template prints them: stars and notes around the names
DECORATED = [
    "序号",
    "目录编码",
    "一级目录",
    "二级目录",
    "*三级目录（必填）",
    "服务内容",
    "购买主体（部门）",
    "备注",
]

BASIC, AUXILIARY = "基本公共服务", "政府履职所需辅助性事项"
ROWS = [
    [
        "1",
        "A06001",
        BASIC,
        "养老服务",
        "社区居家养老服务",
        "为辖区内60周岁以上居家老年人提供助餐、助洁、助浴、助医等上门服务。\n"
        "服务对象以高龄、独居、失能老年人为主。",
        "民政局",
        "",
    ],
    [
        "2",
        "A06002",
        BASIC,
        "养老服务",
        "特困失能人员集中照护服务",
        "为分散供养的生活不能自理特困人员提供集中照护和日常生活照料。",
        "民政局",
        "",
    ],
    [
        "3",
        "A06003",
        BASIC,
        "养老服务",
        "老年人能力综合评估服务",
        "按照国家标准对申请养老服务补贴的老年人开展能力评估并出具结论。",
        "民政局",
        "2024年新增",
    ],
    [
        "4",
        "A10001",
        BASIC,
        "医疗卫生",
        "中小学生视力监测与近视防控服务",
        "定期为中小学生开展视力筛查，建立屈光档案并提供近视防控健康教育。",
        "教育局",
        "",
    ],
    [
        "5",
        "A10002",
        BASIC,
        "医疗卫生",
        "中小学生健康体检服务",
        "按照学生健康体检标准为中小学生开展年度体检并反馈体检结果。",
        "教育局",
        "",
    ],
    [
        "6",
        "E10001",
        AUXILIARY,
        "评估",
        "营商环境第三方评价服务",
        "对照评价指标对全市营商环境开展第三方评价。",
        "发展和改革委员会",
        "",
    ],
    [
        "7",
        "E10002",
        AUXILIARY,
        "评估",
        "幼儿园办园质量评估服务",
        "依据幼儿园办园质量评估指南对全市幼儿园开展第三方评估。",
        "教育局",
        "",
    ],
    [
        "8",
        "E10003",
        AUXILIARY,
        "评估",
        "重大决策社会稳定风险评估服务",
        "对重大决策事项开展社会稳定风险评估和论证, 形成评估报告。",  # an ASCII comma, for semicolon.csv
        "发展和改革委员会",
        "需经专家论证",
    ],
]
MERGES = ["C3:C7", "C8:C10", "D3:D5", "D6:D7", "D8:D10"]  # 一级 and 二级 as departments merge them


def csv_text(rows: list[list[str]], *, delimiter: str = ",", newline: str = "\n") -> str:
    """Return `rows` as CSV the way Excel writes it: quoting only where needed."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=newline).writerows(rows)
    return out.getvalue()


def stable_zip(data: bytes) -> bytes:
    """Return the workbook `data` with every date FIXED, so the bytes do not change between runs."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps "modified" with the time of saving
                body = MODIFIED.sub(FIXED.strftime(r"\g<1>%Y-%m-%dT%H:%M:%SZ\g<2>").encode(), body)
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, body)
    return out.getvalue()


def workbook_bytes(wb: Workbook) -> bytes:
    wb.properties.created = FIXED
    out = io.BytesIO()
    wb.save(out)
    return stable_zip(out.getvalue())


def catalog_xlsx(*, formulas: bool = False) -> bytes:
    """Return the catalog as a department's workbook: a merged title, header in row 2, merged 一级/二级."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "目录"
    ws.append([TITLE])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.append(HEADER)
    for row in ROWS:
        ws.append([int(row[0]), *row[1:]])
    for merge in MERGES:
        ws.merge_cells(merge)
    if formulas:
        # 序号 computed, and a department name looked up: what clerks really do
        ws["A3"] = "=ROW()-2"
        ws["A4"] = "=A3+1"
        ws["G9"] = "=VLOOKUP(B9,部门对照!A:B,2,FALSE)"
        lookup = wb.create_sheet("部门对照")
        lookup.append(["E10002", "教育局"])
    return workbook_bytes(wb)


def catalog_export() -> str:
    """Return a tiny catalog in the project's JSON export format (levels 3 and 4, in code order)."""
    department = {"民政局": "106", "教育局": "102", "发展和改革委员会": "101"}
    items = []
    for row in ROWS[:3]:
        uid = f"e{int(row[0]):015x}"
        items.append(
            _item(uid, row[1], row[4], row[5], (row[6], department[row[6]]), [row[2], row[3]], row[7])
        )
        if row[1] == "A06001":
            items.append(
                _item(
                    "e000000000000101",
                    "A0600101",
                    "助餐服务",
                    "为有需求的居家老年人提供老年餐配送、堂食组织和膳食营养指导。",
                    (row[6], department[row[6]]),
                    [row[2], row[3], row[4]],
                    "",
                    parent=uid,
                )
            )
    head = {
        "format": "guidecat-catalog",
        "format_version": 1,
        "catalog": {
            "slug": "shifanshi",
            "name": "示范市政府购买服务指导性目录",
            "jurisdiction": {"code": "990100", "name": "示范市"},
        },
        "version": {
            "seq": 1,
            "label": "2024年版",
            "status": "published",
            "doc_number": "示财购〔2024〕3号",
            "issued_on": "2024-03-15",
            "published_at": "2024-03-22T09:30:00+08:00",
        },
        "items": items,
    }
    return json.dumps(head, ensure_ascii=False, indent=1) + "\n"


def _item(
    uid: str,
    code: str,
    name: str,
    description: str,
    department: tuple[str, str],
    path: list[str],
    note: str,
    *,
    parent: str = "t00000000000a06",
) -> dict[str, object]:
    return {
        "uid": uid,
        "parent": parent,
        "level": len(path) + 1,
        "code": code,
        "name": name,
        "description": description,
        "department": {"code": department[1], "name": department[0]},
        "path": path,
        "note": note,
    }


def tiny_png() -> bytes:
    """Return a valid 1×1 white PNG (what a "binary file renamed .csv" usually is: a screenshot)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff", 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def corpus() -> dict[str, bytes]:
    """Return every corpus file by its path under this folder."""
    plain = csv_text([HEADER, *ROWS])
    excel = csv_text([[TITLE] + [""] * (len(HEADER) - 1), HEADER, *ROWS], newline="\r\n")
    second = csv_text([HEADER, ["9", "E10004", AUXILIARY, "评估", "政府投资项目后评价服务", "", "", ""]])
    without_department = [[c for i, c in enumerate(r) if i != 6] for r in [HEADER, *ROWS]]
    extra = [[*HEADER, "联系人", "预算金额（万元）"]] + [[*r, "张明", "12.5"] for r in ROWS]
    catalog = catalog_xlsx()
    return {
        "good/utf8.csv": plain.encode(),
        "good/utf8-bom.csv": codecs.BOM_UTF8 + excel.encode(),
        "good/gbk.csv": csv_text([DECORATED, *ROWS], newline="\r\n").encode("gbk"),
        "good/semicolon.csv": csv_text([HEADER, *ROWS], delimiter=";").encode(),
        "good/catalog.xlsx": catalog,
        "good/export.json": catalog_export().encode(),
        "bad/wrong-encoding-declared.csv": plain.encode(),
        "bad/bom-in-middle.csv": codecs.BOM_UTF8 + plain.encode() + codecs.BOM_UTF8 + second.encode(),
        "bad/truncated.xlsx": catalog[: len(catalog) // 2],
        "bad/formulas.xlsx": catalog_xlsx(formulas=True),
        "bad/missing-column.csv": csv_text(without_department).encode(),
        "bad/extra-columns.csv": csv_text(extra).encode(),
        "bad/duplicated-header.csv": csv_text([[*HEADER, "服务内容"]] + [[*r, r[5]] for r in ROWS]).encode(),
        "bad/empty.csv": b"",
        "bad/png-renamed.csv": tiny_png(),
    }


def main() -> None:
    for name, data in corpus().items():
        path = HERE / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        print(f"{len(data):>7}  {name}")


if __name__ == "__main__":
    main()
