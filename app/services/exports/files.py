"""Exporting a version: the operator's whole-version files (CLI) and the API's streamed downloads.

CSV and XLSX hold one row per item (三级 and 四级) unless the API caller picks a level; the
API's NDJSON keeps every node matching its filters. Everything streams from one cursor.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy.orm import Session, sessionmaker

from app.catalog.entries import Entry
from app.db import queries
from app.db.export_query import RowFilter
from app.db.models import Catalog, Jurisdiction, Version
from app.db.queries import NodeFilter
from app.errors import NotFound
from app.formats.exports import Charset, csv_header, json_document, ndjson_chunks
from app.formats.xlsx import SheetHead, write_xlsx
from app.services.catalogs import browse
from app.services.exports.rows import ALL_LEVELS, ITEM_LEVELS, CsvLines, entries
from app.workflow.states import VersionState

FILE_CHUNK = 64 * 1024
DOCUMENT_FORMAT = "guidecat-catalog"
DOCUMENT_FORMAT_VERSION = 1


class Format(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    JSON = "json"
    NDJSON = "ndjson"


@dataclass(frozen=True, slots=True)
class Target:
    """The version an export writes, with its catalog and the catalog's jurisdiction."""

    catalog: Catalog
    jurisdiction: Jurisdiction
    version: Version


def find(session: Session, slug: str, seq: int | None = None) -> Target:
    """Return version `seq` of catalog `slug` in any status (default: the newest public one).

    Raises NotFound. Any status, because the CLI is the operator's tool on the server; the
    public API serves public versions only (browse.public_version).
    """
    cat = browse.catalog(session, slug)
    if seq is None:
        found = queries.latest_version(session, cat.id)
        missing = f"目录“{cat.name}”尚无已公开的版本，请用 --version 指定版本"
    else:
        found = queries.version(session, cat.id, seq, statuses=tuple(VersionState))
        missing = f"目录“{cat.name}”没有第{seq}版"
    if found is None:
        raise NotFound(missing)
    jurisdiction = session.get(Jurisdiction, cat.jurisdiction_id)
    if jurisdiction is None:
        raise NotFound(f"目录“{cat.name}”的行政区划不存在")
    return Target(cat, jurisdiction, found)


def write(
    session: Session,
    target: Target,
    fmt: Format,
    out: BinaryIO,
    *,
    bom: bool = False,
    charset: Charset = Charset.UTF8,
) -> None:
    """Write the version's items (三级 and 四级, in code order) to `out` in `fmt`."""
    cat, ver = target.catalog, target.version
    flt = RowFilter(levels=ITEM_LEVELS)
    if fmt is Format.CSV:
        out.write(csv_header(bom=bom, charset=charset))
        for chunk in CsvLines(session, cat, ver.seq, charset=charset).chunks(flt):
            out.write(chunk)
        return
    rows = entries(session, cat, ver.seq, flt)
    if fmt is Format.XLSX:
        _write_xlsx(out, sheet_head(cat, ver), rows)
        return
    chunks = ndjson_chunks(rows) if fmt is Format.NDJSON else json_document(document_head(target), rows)
    for chunk in chunks:
        out.write(chunk)


def _write_xlsx(out: BinaryIO, head: SheetHead, rows: Iterator[Entry]) -> None:
    # a zip file is written with seeks: straight into a file, through a temporary file into a pipe
    if out.seekable():
        write_xlsx(out, head, rows)
        return
    for chunk in _xlsx_chunks(head, rows):
        out.write(chunk)


@dataclass(frozen=True, slots=True)
class StreamOptions:
    """How the API download is cut and encoded: keyset start, row limit, BOM and charset."""

    after: tuple[str, int] | None = None
    limit: int | None = None
    bom: bool = False
    charset: Charset = Charset.UTF8


def stream(
    sessions: sessionmaker[Session],
    cat: Catalog,
    ver: Version,
    fmt: Format,
    flt: NodeFilter,
    options: StreamOptions | None = None,
) -> Iterator[bytes]:
    """Yield the API download of `ver`'s nodes matching `flt` in `fmt` (csv, ndjson or xlsx).

    Reads through a session of its own: the response outlives the request's session.
    """
    opts = options or StreamOptions()
    default = ALL_LEVELS if fmt is Format.NDJSON else ITEM_LEVELS
    levels = default if flt.level is None else (flt.level,)
    row_filter = RowFilter(levels, flt.parent_id, flt.department_id, opts.after, opts.limit)
    with sessions() as session:
        if fmt is Format.NDJSON:
            yield from ndjson_chunks(entries(session, cat, ver.seq, row_filter))
        elif fmt is Format.XLSX:
            yield from _xlsx_chunks(sheet_head(cat, ver), entries(session, cat, ver.seq, row_filter))
        else:
            yield csv_header(bom=opts.bom, charset=opts.charset)
            yield from CsvLines(session, cat, ver.seq, charset=opts.charset).chunks(row_filter)


def _xlsx_chunks(head: SheetHead, rows: Iterator[Entry]) -> Iterator[bytes]:
    """Yield the workbook in 64 KB chunks: written to a temporary file first, deleted after."""
    handle, name = tempfile.mkstemp(prefix="guidecat-", suffix=".xlsx")
    os.close(handle)
    path = Path(name)
    try:
        write_xlsx(path, head, rows)
        with path.open("rb") as f:
            while chunk := f.read(FILE_CHUNK):
                yield chunk
    finally:
        path.unlink(missing_ok=True)


def sheet_head(cat: Catalog, ver: Version) -> SheetHead:
    """Return what the XLSX sheet shows above its header row for `ver`."""
    return SheetHead(cat.name, ver.label, ver.doc_number, ver.issued_on, ver.published_at)


def document_head(target: Target) -> dict[str, Any]:
    """Return the members of the JSON export that precede its items."""
    cat, j, ver = target.catalog, target.jurisdiction, target.version
    return {
        "format": DOCUMENT_FORMAT,
        "format_version": DOCUMENT_FORMAT_VERSION,
        "catalog": {"slug": cat.slug, "name": cat.name, "jurisdiction": {"code": j.code, "name": j.name}},
        "version": {
            "seq": ver.seq,
            "label": ver.label,
            "status": ver.status,
            "doc_number": ver.doc_number,
            "issued_on": None if ver.issued_on is None else ver.issued_on.isoformat(),
            "published_at": _utc(ver.published_at),
        },
    }


def _utc(moment: datetime | None) -> str | None:
    # the same spelling as the API's VersionOut (pydantic): 2024-03-20T02:00:00Z
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
