"""Reading the files departments send (CSV, XLSX, the project's own JSON export) into a RawTable.

The format is decided by the bytes, never by the file name: a .csv that is really an Excel
workbook is read as one, and a PNG renamed .csv is refused with a message that says so.
"""

from __future__ import annotations

import codecs
import dataclasses
import gc
import io
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import PurePath

from app.catalog.sheet import Problem, RawTable, Severity
from app.formats.sheets_csv import read_csv
from app.formats.sheets_json import EXPORT_FORMAT, NOT_EXPORT, read_export
from app.formats.sheets_table import FileProblem
from app.formats.sheets_xlsx import CORRUPT, read_xlsx

__all__ = ["MAX_UPLOAD_BYTES", "FileProblem", "collector_paused", "detect_format", "read_table"]

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
BINARY_SNIFF_BYTES = 64 * 1024
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 and other OLE compound files
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header; an empty archive
XLSX_PARTS = frozenset({"[Content_Types].xml", "xl/workbook.xml"})
_EXPORT_MARK = re.compile(rb'"format"\s*:\s*"' + EXPORT_FORMAT.encode() + rb'"')
# bytes no text file contains: C0 controls other than tab, LF, VT, FF, CR; and DEL
_CONTROL = bytes([*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F])
_EXTENSIONS = {"csv": {".csv", ".txt", ".tsv"}, "xlsx": {".xlsx", ".xlsm"}, "json": {".json"}}
_LABELS = {"csv": "CSV 文本", "xlsx": "Excel 工作簿", "json": "目录 JSON"}

EMPTY = "文件为空"
OLD_EXCEL = "不支持 Excel 97-2003（.xls）格式，请另存为 .xlsx 或 CSV"
ENCRYPTED = "文件设置了打开密码，请在 Excel 中取消密码并另存后再导入"
NOT_A_TABLE = "文件不是文本或 Excel 表格（可能是其他文件改了扩展名）"


def read_table(
    data: bytes,
    *,
    filename: str = "",
    sheet: str | None = None,
    declared_encoding: str | None = None,
    max_bytes: int = MAX_UPLOAD_BYTES,
) -> RawTable:
    """Return the table in `data` (CSV, XLSX or the JSON export); raise FileProblem if unreadable.

    `declared_encoding` (an HTTP charset, a CLI option) is a hint: the bytes decide, and a
    disagreement becomes a warning. `filename` only helps explain a misleading extension.
    """
    _check_size(data, max_bytes)
    source = detect_format(data)
    with collector_paused():
        if source == "xlsx":
            table = read_xlsx(data, sheet=sheet)
        elif source == "json":
            table = read_export(data)
        else:
            table = read_csv(data, declared_encoding=declared_encoding)
    notes = _extension_note(filename, source) + _sheet_note(sheet, source)
    return dataclasses.replace(table, warnings=(*notes, *table.warnings)) if notes else table


def detect_format(data: bytes) -> str:
    """Return "xlsx", "json" or "csv" from the bytes of `data`; raise FileProblem for anything else."""
    if data.startswith(ZIP_MAGIC):
        return _zip_format(data)
    if data.startswith(OLE_MAGIC):
        # a workbook with an opening password is an OLE file too, holding the encrypted XLSX
        encrypted = "EncryptedPackage".encode("utf-16-le") in data
        raise FileProblem(Problem(ENCRYPTED if encrypted else OLD_EXCEL))
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "csv"  # Excel's "Unicode 文本": NUL bytes are expected there
    head = data[:BINARY_SNIFF_BYTES]
    if _looks_binary(head):
        raise FileProblem(Problem(NOT_A_TABLE))
    if head.removeprefix(codecs.BOM_UTF8).lstrip().startswith((b"{", b"[")):
        if not _EXPORT_MARK.search(head):  # no spreadsheet starts with a brace: some other JSON
            raise FileProblem(Problem(NOT_EXPORT))
        return "json"
    return "csv"


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of objects are made (reentrant).

    Each row is a new container, so the collector would otherwise run over the growing table
    again and again: on 650,000 rows that is more than half the reading time. Reading makes
    no reference cycles, so nothing is left for it to find afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _check_size(data: bytes, max_bytes: int) -> None:
    if len(data) > max_bytes:
        size, limit = len(data) / 2**20, max_bytes / 2**20
        reason = f"文件大小为 {size:.1f} MB，超过 {limit:.0f} MB 的上限，请拆分后分批导入"
        raise FileProblem(Problem(reason))
    if _is_blank(data):
        raise FileProblem(Problem(EMPTY))


def _is_blank(data: bytes) -> bool:
    """Return whether `data` holds nothing but a BOM and whitespace, without copying a large file."""
    boms = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    start = next((len(bom) for bom in boms if data.startswith(bom)), 0)
    return not data[start : start + BINARY_SNIFF_BYTES].strip() and not data[start:].strip()


def _zip_format(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:  # truncated: no central directory
        raise FileProblem(Problem(CORRUPT)) from exc
    if not XLSX_PARTS.issubset(names):
        raise FileProblem(Problem(CORRUPT))
    return "xlsx"


def _looks_binary(head: bytes) -> bool:
    if b"\x00" in head:
        return True
    controls = len(head) - len(head.translate(None, _CONTROL))
    return controls * 100 > len(head)


def _extension_note(filename: str, source: str) -> tuple[Problem, ...]:
    suffix = PurePath(filename).suffix.lower()
    if not suffix or suffix in _EXTENSIONS[source]:
        return ()
    reason = f"文件扩展名是 {suffix}，内容却是 {_LABELS[source]}，已按内容读取"
    return (Problem(reason, severity=Severity.WARNING),)


def _sheet_note(sheet: str | None, source: str) -> tuple[Problem, ...]:
    if sheet is None or source == "xlsx":
        return ()
    reason = f"只有 Excel 工作簿有工作表，已忽略指定的工作表“{sheet}”"
    return (Problem(reason, severity=Severity.WARNING),)
