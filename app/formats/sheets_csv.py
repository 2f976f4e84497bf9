"""Reading CSV as departments save it: UTF-8 with or without BOM, GBK/GB18030, UTF-16 from Excel.

The encoding is decided by the bytes alone; a declared encoding is only compared with it.
"""

from __future__ import annotations

import codecs
import csv
import io

from app.catalog.sheet import Problem, RawTable, Severity
from app.formats.sheets_table import FileProblem, build_table

SNIFF_CHARS = 8192
DELIMITERS = ",;\t"

_LABELS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8（带 BOM）", "gb18030": "GB18030（GBK）", "utf-16": "UTF-16"}
# codec names (as codecs.lookup spells them) that read the same bytes the same way
_FAMILIES = {
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8",
    "gbk": "gb",
    "gb2312": "gb",
    "gb18030": "gb",
    "utf-16": "utf-16",
    "utf-16-le": "utf-16",
    "utf-16-be": "utf-16",
}
UNDECODABLE = "无法识别文件编码：请保存为 UTF-8 或 GBK 编码的 CSV"
INNER_BOM = "第{row}行含有多余的 BOM 标记，文件可能由多个文件拼接而成，请删除该行前的不可见字符后重试"


def read_csv(data: bytes, *, declared_encoding: str | None = None) -> RawTable:
    """Return the table in CSV `data`; raise FileProblem if it cannot be decoded or has no header."""
    text, encoding = decode(data)
    warnings = _declared_warning(declared_encoding, encoding)
    _reject_inner_bom(text)
    # a cell may be as large as the file: the validation, not the reader, says what is too long
    csv.field_size_limit(max(csv.field_size_limit(), len(text)))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    try:
        return build_table(enumerate(reader, start=1), source="csv", encoding=encoding, warnings=warnings)
    except csv.Error as exc:
        reason = f"第{reader.line_num}行附近无法按 CSV 读取：{exc}"
        raise FileProblem(Problem(reason, row=reader.line_num)) from exc


def decode(data: bytes) -> tuple[str, str]:
    """Return the text of `data` and its encoding ("utf-8-sig", "utf-8", "gb18030", "utf-16")."""
    if data.startswith(codecs.BOM_UTF8):
        return _strict(memoryview(data)[len(codecs.BOM_UTF8) :], "utf-8"), "utf-8-sig"  # no copy
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Excel's "Unicode 文本"
        return _strict(data, "utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        # the encoding that read further is the likelier one: report its first bad byte
        worst = max((utf8_error, "utf-8"), (exc, "gb18030"), key=lambda pair: pair[0].start)
        raise _undecodable(data, *worst) from exc


def sniff_delimiter(text: str) -> str:
    """Return the delimiter of `text` (comma, semicolon or tab) as its first 8 KB suggest; comma if unsure."""
    sample = text[:SNIFF_CHARS]
    if len(text) > SNIFF_CHARS and (cut := sample.rfind("\n")) > 0:
        sample = sample[:cut]  # a torn last line would spoil the sniffer's column counts
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def row_at(prefix: str) -> int:
    """Return the CSV record number (as Excel counts rows) of the character just after `prefix`."""
    # the "x" makes the record the next character starts count even when `prefix` ends a line
    return sum(1 for _ in csv.reader(io.StringIO(prefix + "x", newline="")))


def _strict(data: bytes | memoryview, encoding: str) -> str:
    try:
        return str(data, encoding)
    except UnicodeDecodeError as exc:
        raise _undecodable(data, exc, encoding) from exc


def _undecodable(data: bytes | memoryview, error: UnicodeDecodeError, encoding: str) -> FileProblem:
    row = row_at(str(data[: error.start], encoding, errors="replace"))
    bad = " ".join(f"0x{b:02X}" for b in bytes(data[error.start : error.start + 4]))
    reason = f"{UNDECODABLE}（第{row}行有无法识别的字节 {bad}）"
    return FileProblem(Problem(reason, row=row, value=bad))


def _declared_warning(declared: str | None, encoding: str) -> tuple[Problem, ...]:
    """Return a warning when the `declared` encoding is not the one the bytes are in."""
    if declared is None or not declared.strip():
        return ()
    try:
        name = codecs.lookup(declared.strip()).name
    except LookupError:
        name = declared
    if _FAMILIES.get(name, name) == _FAMILIES[encoding]:
        return ()
    reason = f"声明的编码为 {declared.strip()}，实际按 {_LABELS[encoding]} 读取"
    return (Problem(reason, severity=Severity.WARNING),)


def _reject_inner_bom(text: str) -> None:
    at = text.find("\ufeff")
    if at >= 0:
        row = row_at(text[:at])
        raise FileProblem(Problem(INNER_BOM.format(row=row), row=row, value="U+FEFF"))
