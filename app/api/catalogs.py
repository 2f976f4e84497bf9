"""Read API: catalogs, their public versions and a version's nodes (JSON, NDJSON, CSV, XLSX)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from datetime import date
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from app.api.nodes_format import node_out
from app.api.schemas import CatalogOut, ErrorOut, JurisdictionOut, NodePage, VersionOut
from app.db.models import Catalog, Version
from app.db.queries import NodeFilter
from app.errors import InvalidInput
from app.formats.exports import Charset
from app.http import downloads, urls
from app.http.cache import IMMUTABLE, strong_etag
from app.http.deps import SessionDep, SessionmakerDep
from app.http.downloads import streamed_download
from app.services.catalogs import browse, history
from app.services.exports import files as exports
from app.services.exports.files import Format

router = APIRouter(
    prefix="/api/v1", tags=["公开目录"], responses={404: {"model": ErrorOut}, 422: {"model": ErrorOut}}
)

DEFAULT_PAGE = 100
AS_OF_CACHE = "public, max-age=300"
MAX_PAGE = 1000


@router.get("/catalogs", response_model=list[CatalogOut], summary="所有目录")
def list_catalogs(session: SessionDep) -> list[CatalogOut]:
    return [
        CatalogOut(
            slug=c.catalog.slug,
            name=c.catalog.name,
            jurisdiction=JurisdictionOut(code=c.jurisdiction.code, name=c.jurisdiction.name),
            framework=c.catalog.framework,
            publication_period_days=c.catalog.publication_period_days,
            latest_version=None if c.latest is None else c.latest.seq,
            versions_url=f"/api/v1/catalogs/{quote(c.catalog.slug)}/versions",
        )
        for c in browse.public_catalogs(session)
    ]


@router.get("/catalogs/{slug}/versions", response_model=list[VersionOut], summary="目录的已公开版本")
def list_versions(slug: str, session: SessionDep) -> list[VersionOut]:
    cat, versions = browse.public_versions(session, slug)
    return [_version_out(cat, v) for v in versions]


@router.get(
    "/catalogs/{slug}/versions/{seq}/nodes",
    response_model=NodePage,
    summary="版本中的目录节点",
    description="按目录编码排序。JSON 分页返回（`limit` 默认 100，最多 1000，`next` 为下一页）；"
    "`format=ndjson`、`csv` 或 `xlsx` 且不带 `limit` 时流式返回整个版本。"
    "CSV 与 XLSX 每行一个三级/四级目录（除非指定 `level`），NDJSON 含全部匹配节点。"
    "已公开版本不会再变，响应带强 ETag。",
    responses={
        200: {"content": {downloads.NDJSON: {}, downloads.CSV: {}, downloads.XLSX: {}}},
        304: {"description": "未修改"},
    },
)
def list_nodes(
    request: Request,
    slug: str,
    seq: int,
    session: SessionDep,
    sessions: SessionmakerDep,
    *,
    level: Annotated[int | None, Query(ge=1, le=4, description="层级 1–4")] = None,
    parent: Annotated[str | None, Query(description="上级节点的 uid 或目录编码")] = None,
    department: Annotated[str | None, Query(description="部门编码")] = None,
    limit: Annotated[int | None, Query(ge=1, le=MAX_PAGE)] = None,
    after: Annotated[str | None, Query(description="上一页返回的游标")] = None,
    format: Annotated[Literal["json", "ndjson", "csv", "xlsx"], Query()] = "json",
    bom: Annotated[bool, Query(description="CSV 加 UTF-8 BOM，便于 Excel 打开")] = False,
    charset: Annotated[Charset, Query(description="CSV 的编码：utf-8 或 gb18030（不加 BOM）")] = Charset.UTF8,
) -> Response:
    cat, ver = browse.public_version(session, slug, seq)
    etag = strong_etag("nodes", ver.id, sorted(request.query_params.multi_items()))
    headers = {"ETag": etag, "Cache-Control": IMMUTABLE}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    flt = browse.node_filter(session, cat, ver, level=level, parent=parent, department=department)
    keyset = _decode_cursor(after)
    if format == "json":
        return _json_page(request, session, cat, ver, flt, keyset, limit or DEFAULT_PAGE, headers)
    fmt, options = Format(format), exports.StreamOptions(keyset, limit, bom=bom, charset=charset)
    return _download(exports.stream(sessions, cat, ver, fmt, flt, options), cat, ver, fmt, charset, headers)


@router.get(
    "/catalogs/{slug}/nodes",
    response_model=NodePage,
    summary="某日现行版本中的目录节点",
    description="`as_of=YYYY-MM-DD`：答复该日（北京时间）已公开的最新版本，参数与按版本查询相同；"
    "`Content-Location` 指明所用的版本。",
)
def nodes_as_of(
    request: Request,
    slug: str,
    session: SessionDep,
    sessions: SessionmakerDep,
    *,
    as_of: Annotated[date, Query(description="日期 YYYY-MM-DD")],
    level: Annotated[int | None, Query(ge=1, le=4)] = None,
    parent: Annotated[str | None, Query()] = None,
    department: Annotated[str | None, Query()] = None,
    limit: Annotated[int | None, Query(ge=1, le=MAX_PAGE)] = None,
    after: Annotated[str | None, Query()] = None,
    format: Annotated[Literal["json", "ndjson", "csv", "xlsx"], Query()] = "json",
    bom: Annotated[bool, Query()] = False,
    charset: Annotated[Charset, Query()] = Charset.UTF8,
) -> Response:
    version = history.version_as_of(session, browse.catalog(session, slug), as_of)
    response = list_nodes(
        request,
        slug,
        version.seq,
        session,
        sessions,
        level=level,
        parent=parent,
        department=department,
        limit=limit,
        after=after,
        format=format,
        bom=bom,
        charset=charset,
    )
    response.headers["Cache-Control"] = AS_OF_CACHE  # a later publication can change today's answer
    response.headers["Content-Location"] = urls.api_nodes(slug, version.seq)
    return response


def _json_page(
    request: Request,
    session: SessionDep,
    cat: Catalog,
    ver: Version,
    flt: NodeFilter,
    keyset: tuple[str, int] | None,
    limit: int,
    headers: dict[str, str],
) -> Response:
    rows = list(browse.iter_version_nodes(session, cat, ver, flt, after=keyset, limit=limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    next_url = None
    if more:
        last = rows[-1][0]
        params = dict(request.query_params) | {
            "after": _encode_cursor(last.code, last.node_id),
            "limit": str(limit),
        }
        next_url = urls.api_nodes(cat.slug, ver.seq, **params)
        headers["Link"] = f'<{next_url}>; rel="next"'
    page = NodePage(catalog=cat.slug, version=ver.seq, items=[node_out(n, p) for n, p in rows], next=next_url)
    return Response(page.model_dump_json(), media_type="application/json", headers=headers)


def _download(
    chunks: Iterator[bytes],
    cat: Catalog,
    ver: Version,
    fmt: Format,
    charset: Charset,
    headers: dict[str, str],
) -> StreamingResponse:
    if fmt is Format.NDJSON:
        return StreamingResponse(chunks, media_type=downloads.NDJSON, headers=headers)
    media_type = downloads.XLSX if fmt is Format.XLSX else downloads.csv_media_type(charset.value)
    return streamed_download(
        chunks, f"{cat.slug}-v{ver.seq}.{fmt.value}", media_type=media_type, headers=headers
    )


def _version_out(cat: Catalog, v: Version) -> VersionOut:
    return VersionOut(
        seq=v.seq,
        label=v.label,
        status=v.status,
        doc_number=v.doc_number,
        issued_on=v.issued_on,
        publication_deadline=v.publication_deadline,
        published_at=v.published_at,
        nodes_url=urls.api_nodes(cat.slug, v.seq),
    )


def _encode_cursor(code: str, node_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([code, node_id]).encode()).decode().rstrip("=")


def _decode_cursor(after: str | None) -> tuple[str, int] | None:
    if not after:
        return None
    try:
        code, node_id = json.loads(base64.urlsafe_b64decode(after + "=" * (-len(after) % 4)))
    except (ValueError, binascii.Error, TypeError) as exc:
        raise InvalidInput("分页游标 after 无效，请使用上一页返回的 next 地址") from exc
    if not isinstance(code, str) or not isinstance(node_id, int):
        raise InvalidInput("分页游标 after 无效，请使用上一页返回的 next 地址")
    return code, node_id
