"""What changed, as JSON or the CSV 新旧对照表: between public versions, in a draft, to one item."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from app.api.schemas import ErrorOut
from app.auth import FinanceUser
from app.catalog.nodes import NodeState
from app.deps import SessionDep
from app.services import browse, drafts, history
from app.web.cache import IMMUTABLE, strong_etag

router = APIRouter(prefix="/api/v1", tags=["变动对照"], responses={404: {"model": ErrorOut}})


class StateOut(BaseModel):
    code: str
    name: str
    description: str
    department: str | None
    parent: str | None


class ChangeOut(BaseModel):
    uid: str
    kinds: list[str] = Field(description="新增、撤销、移动、重新编号、更名、内容调整")
    fields: list[str] = Field(description="内容有调整的字段")
    old: StateOut | None
    new: StateOut | None


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


def _diff_body(
    slug: str, comparison: history.Comparison, a: int | None, b: int | None, draft: int | None
) -> DiffOut:
    rows = history.rows(comparison)
    summary: dict[str, int] = {}
    for row in rows:
        for kind in row.kinds:
            summary[kind] = summary.get(kind, 0) + 1
    changes = [
        ChangeOut(uid=r.uid, kinds=list(r.kinds), fields=list(r.fields), old=_state(r.old), new=_state(r.new))
        for r in rows
    ]
    return DiffOut(catalog=slug, from_version=a, to_version=b, draft=draft, summary=summary, changes=changes)


def _csv(comparison: history.Comparison, names: dict[str, str], filename: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(history.CHANGE_TABLE_COLUMNS)
    writer.writerows(history.change_table(comparison, names))
    headers = {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"}
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/catalogs/{slug}/diff", response_model=DiffOut, summary="两个已公开版本之间的变动（新旧对照表）")
async def version_diff(
    request: Request,
    slug: str,
    session: SessionDep,
    from_: Annotated[
        int | None, Query(alias="from", description="旧版本序号（默认：新版本的上一版）")
    ] = None,
    to: Annotated[int | None, Query(description="新版本序号（默认：最新公开版本）")] = None,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Response:
    catalog = browse.catalog(session, slug)
    a, b = history.public_pair(session, catalog, from_, to)
    etag = strong_etag("diff", a.id, b.id, format)
    headers = {"ETag": etag, "Cache-Control": IMMUTABLE}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    comparison = history.compare_versions(session, catalog, a, b)
    if format == "csv":
        response = _csv(
            comparison, browse.department_names(session, catalog), f"{slug}-v{a.seq}-v{b.seq}-对照表.csv"
        )
    else:
        response = Response(
            _diff_body(slug, comparison, a.seq, b.seq, None).model_dump_json(), media_type="application/json"
        )
    response.headers.update(headers)
    return response


@router.get("/drafts/{draft_id}/diff", response_model=DiffOut, summary="草稿相对其基础版本的变动")
async def draft_diff(
    draft_id: int,
    session: SessionDep,
    user: FinanceUser,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Response:
    draft = drafts.get_draft(session, draft_id)
    comparison = history.compare_draft(session, draft)
    catalog = browse.catalog_by_id(session, draft.catalog_id)
    if format == "csv":
        return _csv(comparison, browse.department_names(session, catalog), f"草稿{draft_id}-对照表.csv")
    body = _diff_body(catalog.slug, comparison, None, None, draft_id)
    return Response(body.model_dump_json(), media_type="application/json")


@router.get(
    "/catalogs/{slug}/items/{uid}/history",
    response_model=list[HistoryEntryOut],
    summary="条目在各公开版本中的变化",
)
async def item_history(slug: str, uid: str, session: SessionDep) -> list[HistoryEntryOut]:
    catalog = browse.catalog(session, slug)
    return [
        HistoryEntryOut(
            version=e.version.seq, label=e.version.label, kinds=list(e.kinds), state=_state(e.state)
        )
        for e in history.item_history(session, catalog, uid)
    ]
