"""Search API: the published catalogs' items matching a query, a page at a time, in JSON."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from app.api.schemas import ErrorOut
from app.http.deps import SearchQueryDep, SessionDep
from app.http.urls import hit_url, query_url
from app.services.search import query as search
from app.services.search.query import SearchHit

router = APIRouter(
    prefix="/api/v1", tags=["search"], responses={404: {"model": ErrorOut}, 422: {"model": ErrorOut}}
)


class SpanOut(BaseModel):
    field: str  # name | description
    start: int  # character offsets, end exclusive
    end: int


class NamedOut(BaseModel):
    code: str
    name: str


class CatalogRefOut(BaseModel):
    slug: str
    name: str


class SearchItemOut(BaseModel):
    uid: str
    code: str
    level: int
    name: str
    description: str
    path: str
    type: NamedOut
    department: NamedOut | None
    catalog: CatalogRefOut
    version: int
    highlight: list[SpanOut]
    url: str


class SearchOut(BaseModel):
    q: str
    terms: list[str]
    total: int
    total_capped: bool  # true: at least `total` items match; the count stops there
    items: list[SearchItemOut]
    next: int | None  # pass as `after` for the next page
    next_url: str | None


@router.get(
    "/search",
    response_model=SearchOut,
    summary="搜索已公开目录",
    description="在各目录的现行已公开版本中查找名称、服务内容、名称全拼或拼音首字母包含关键词的三级/四级目录。"
    "结果按目录编码（即按二级目录分组）排列，每页最多 `limit` 条；`total` 计数至 "
    f"{search.COUNT_CAP} 为止（`total_capped`）。",
)
def search_items(query: SearchQueryDep, session: SessionDep) -> SearchOut:
    page = search.search(session, query)
    return SearchOut(
        q=query.q,
        terms=page.terms,
        total=page.total,
        total_capped=page.capped,
        items=[_item_out(h) for h in page.hits],
        next=page.next_after,
        next_url=None
        if page.next_after is None
        else query_url(query, base="/api/v1/search", after=page.next_after, limit=query.limit),
    )


def _item_out(h: SearchHit) -> SearchItemOut:
    e = h.hit
    return SearchItemOut(
        uid=e.uid,
        code=e.code,
        level=e.level,
        name=e.name,
        description=e.description,
        path=e.path,
        type=NamedOut(code=e.type_code, name=e.type_name),
        department=NamedOut(code=e.department_code, name=e.department_name) if e.department_code else None,
        catalog=CatalogRefOut(slug=h.catalog_slug, name=h.catalog_name),
        version=h.version_seq,
        highlight=[SpanOut(field=str(s.field), start=s.start, end=s.end) for s in h.spans],
        url=hit_url(h),
    )
