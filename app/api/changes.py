"""What changed, as JSON or the CSV/XLSX 新旧对照表: between public versions, in a draft, to one item."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Literal, Protocol, cast

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.dimensions import ColumnDimension, DimensionHolder
from pydantic import BaseModel, Field

from app.api.schemas import ErrorOut
from app.catalog.nodes import NodeState
from app.formats.xlsx import MAX_WIDTH, MIN_WIDTH, SAMPLE_ROWS, display_width
from app.http import downloads
from app.http.auth import FinanceUser
from app.http.cache import IMMUTABLE, strong_etag
from app.http.deps import SessionDep
from app.http.downloads import download
from app.services.catalogs import browse, history
from app.services.drafts import lifecycle as drafts

router = APIRouter(prefix="/api/v1", tags=["变动对照"], responses={404: {"model": ErrorOut}})


class StateOut(BaseModel):
    code: str
    name: str
    description: str
    department: str | None
    parent: str | None


class ChangeOut(BaseModel):
    uid: str
    kinds: list[str] = Field(description="新增、撤销、移动、重新编号、排序调整、更名、内容调整、编码调整")
    fields: list[str] = Field(description="内容有调整的字段")
    old: StateOut | None
    new: StateOut | None
    provisional_code: str | None = Field(
        None, description="编码调整：新增条目在草稿中的暂定编码（合并时该编码已被占用，改为 new.code）"
    )


class DiffOut(BaseModel):
    catalog: str
    from_version: int | None
    to_version: int | None
    draft: int | None = None
    summary: dict[str, int]
    changes: list[ChangeOut]


class HistoryEntryOut(BaseModel):
    version: int
    label: str
    kinds: list[str]
    state: StateOut | None


def _state(s: NodeState | None) -> StateOut | None:
    if s is None:
        return None
    return StateOut(
        code=s.code, name=s.name, description=s.description, department=s.department, parent=s.parent
    )


def diff_out(
    slug: str, comparison: history.Comparison, a: int | None, b: int | None, draft: int | None
) -> DiffOut:
    """Return the diff document of `comparison` (the API's answer, and `guidecat diff --format json`)."""
    rows = history.rows(comparison)
    summary: dict[str, int] = {}
    for row in rows:
        for kind in row.kinds:
            summary[kind] = summary.get(kind, 0) + 1
    changes = [
        ChangeOut(
            uid=r.uid,
            kinds=list(r.kinds),
            fields=list(r.fields),
            old=_state(r.old),
            new=_state(r.new),
            provisional_code=r.provisional,
        )
        for r in rows
    ]
    return DiffOut(catalog=slug, from_version=a, to_version=b, draft=draft, summary=summary, changes=changes)


def _xlsx(comparison: history.Comparison, names: dict[str, str], filename: str, title: str) -> Response:
    """Return the 新旧对照表 as a workbook: a title row, the header (frozen), then one row per node."""
    rows = history.change_table(comparison, names)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="新旧对照表")
    widths = [display_width(h) for h in history.CHANGE_TABLE_COLUMNS]
    for row in rows[:SAMPLE_ROWS]:
        widths = [max(w, display_width(v)) for w, v in zip(widths, row, strict=True)]
    for index, width in enumerate(widths, 1):
        cast(_Sheet, sheet).column_dimensions[get_column_letter(index)].width = min(
            MAX_WIDTH, max(MIN_WIDTH, width + 2)
        )
    sheet.freeze_panes = "A3"
    heading = WriteOnlyCell(sheet, value=title)
    heading.font = Font(bold=True, size=14)
    sheet.append([heading])
    sheet.append([_text_cell(sheet, h, bold=True) for h in history.CHANGE_TABLE_COLUMNS])
    for row in rows:
        sheet.append([_text_cell(sheet, v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return download(out.getvalue(), filename, media_type=downloads.XLSX)


class _Sheet(Protocol):
    # set up at run time by openpyxl for write-only sheets, but missing from their stubs
    column_dimensions: DimensionHolder[str, ColumnDimension]


def _text_cell(sheet: WriteOnlyWorksheet, value: str, *, bold: bool = False) -> Cell:
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"  # a name starting with "=" stays text, never a formula
    if bold:
        cell.font = Font(bold=True)
    return cell


def _csv(comparison: history.Comparison, names: dict[str, str], filename: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(history.CHANGE_TABLE_COLUMNS)
    writer.writerows(history.change_table(comparison, names))
    return download("\ufeff" + out.getvalue(), filename, media_type=downloads.csv_media_type())


@router.get(
    "/catalogs/{slug}/diff",
    response_model=DiffOut,
    summary="两个已公开版本之间的变动（新旧对照表）",
    description="`format=csv`（UTF-8 带 BOM）或 `xlsx` 下载新旧对照表，每个有变动的目录条目一行。",
    responses={200: {"content": {downloads.CSV: {}, downloads.XLSX: {}}}},
)
def version_diff(
    request: Request,
    slug: str,
    session: SessionDep,
    from_: Annotated[
        int | None, Query(alias="from", description="旧版本序号（默认：新版本的上一版）")
    ] = None,
    to: Annotated[int | None, Query(description="新版本序号（默认：最新公开版本）")] = None,
    format: Annotated[Literal["json", "csv", "xlsx"], Query()] = "json",
) -> Response:
    catalog = browse.catalog(session, slug)
    a, b = history.public_pair(session, catalog, from_, to)
    etag = strong_etag("diff", a.id, b.id, format)
    headers = {"ETag": etag, "Cache-Control": IMMUTABLE}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    comparison = history.compare_versions(session, catalog, a, b)
    names, stem = browse.department_names(session, catalog), f"{slug}-v{a.seq}-v{b.seq}-对照表"
    if format == "csv":
        response = _csv(comparison, names, f"{stem}.csv")
    elif format == "xlsx":
        title = f"{catalog.name}新旧对照表（{a.label} → {b.label}）"
        response = _xlsx(comparison, names, f"{stem}.xlsx", title)
    else:
        response = Response(
            diff_out(slug, comparison, a.seq, b.seq, None).model_dump_json(), media_type="application/json"
        )
    response.headers.update(headers)
    return response


@router.get(
    "/drafts/{draft_id}/diff",
    response_model=DiffOut,
    summary="草稿相对其基础版本的变动",
    description="`format=csv`（UTF-8 带 BOM）或 `xlsx` 下载草稿的新旧对照表。",
    responses={200: {"content": {downloads.CSV: {}, downloads.XLSX: {}}}},
)
def draft_diff(
    draft_id: int,
    session: SessionDep,
    user: FinanceUser,
    format: Annotated[Literal["json", "csv", "xlsx"], Query()] = "json",
) -> Response:
    draft = drafts.get_draft(session, draft_id, actor=user)
    comparison = history.compare_draft(session, draft)
    catalog = browse.catalog_by_id(session, draft.catalog_id)
    names = browse.department_names(session, catalog)
    if format == "csv":
        return _csv(comparison, names, f"草稿{draft_id}-对照表.csv")
    if format == "xlsx":
        title = f"{catalog.name}草稿#{draft_id}新旧对照表（{draft.title or '未命名'}）"
        return _xlsx(comparison, names, f"草稿{draft_id}-对照表.xlsx", title)
    body = diff_out(catalog.slug, comparison, None, None, draft_id)
    return Response(body.model_dump_json(), media_type="application/json")


@router.get(
    "/catalogs/{slug}/items/{uid}/history",
    response_model=list[HistoryEntryOut],
    summary="条目在各公开版本中的变化",
)
def item_history(slug: str, uid: str, session: SessionDep) -> list[HistoryEntryOut]:
    catalog = browse.catalog(session, slug)
    return [
        HistoryEntryOut(
            version=e.version.seq, label=e.version.label, kinds=list(e.kinds), state=_state(e.state)
        )
        for e in history.item_history(session, catalog, uid)
    ]
