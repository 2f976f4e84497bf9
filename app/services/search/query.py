"""Search over published catalogs: answering a query (the index is written by `search_index`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalog import search_text
from app.catalog.search_text import Span
from app.db import queries, search_query, search_store
from app.db.models import Catalog, Jurisdiction, Version
from app.db.search_query import Filters, Hit, Match
from app.errors import InvalidInput, NotFound
from app.workflow.states import PUBLIC_VERSION_STATES, VersionState

PAGE_SIZE = 50
COUNT_CAP = 1000  # "1000+": counting every hit of a very common term would cost more than the page


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """What a visitor asks: the text, the scope (all, a jurisdiction or one catalog) and the filters."""

    q: str
    catalog: str | None = None  # slug
    version: int | None = None  # a chosen public version of `catalog` (default: its newest)
    jurisdiction: str | None = None  # division code: that jurisdiction's catalogs
    subordinate: bool = False  # with `jurisdiction`: and those of every jurisdiction below it
    class_code: str | None = None
    type_code: str | None = None
    department: str | None = None  # department code
    after: int = 0  # cursor: the last entry id of the previous page
    limit: int = PAGE_SIZE


@dataclass(frozen=True, slots=True)
class SearchHit:
    hit: Hit
    catalog_slug: str
    catalog_name: str
    version_seq: int
    spans: list[Span]


@dataclass(frozen=True, slots=True)
class HitGroup:
    """Consecutive hits of one type of one catalog version."""

    catalog_slug: str
    catalog_name: str
    version_seq: int
    type_code: str
    type_name: str
    type_uid: str
    hits: list[SearchHit] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SearchPage:
    query: SearchQuery
    terms: list[str]
    total: int  # capped at COUNT_CAP
    capped: bool
    groups: list[HitGroup]
    next_after: int | None  # None: this is the last page

    @property
    def hits(self) -> list[SearchHit]:
        """Return the page's hits in order."""
        return [h for g in self.groups for h in g.hits]


# ---- searching ------------------------------------------------------------------------


def search(session: Session, query: SearchQuery) -> SearchPage:
    """Return the first page of hits after `query.after`, grouped by type, with the capped total."""
    words = search_text.terms(query.q)
    match = Match.of(words)
    ranges = _ranges(session, _scope_versions(session, query))
    flt = Filters(query.class_code or None, query.type_code or None, query.department or None)
    limit = max(1, min(query.limit, 200))
    hits, total = search_query.find(
        session, match, flt, ranges, after=query.after, limit=limit + 1, cap=COUNT_CAP
    )
    more = len(hits) > limit
    hits = hits[:limit]
    return SearchPage(
        query=query,
        terms=words,
        total=total,
        capped=total >= COUNT_CAP,
        groups=_groups(session, hits, words),
        next_after=hits[-1].id if more else None,
    )


def _scope_versions(session: Session, query: SearchQuery) -> set[int]:
    """Return the ids of the versions the query searches: each catalog's newest, or the chosen one."""
    if query.version is not None and not query.catalog:
        raise InvalidInput("指定版本时须同时指定目录")
    stmt = select(Version.id).join(Catalog, Catalog.id == Version.catalog_id)
    if query.catalog:
        cat = queries.catalog_by_slug(session, query.catalog)
        if cat is None:
            raise NotFound(f"没有找到目录“{query.catalog}”")
        stmt = stmt.where(Catalog.id == cat.id)
    if query.jurisdiction:
        stmt = stmt.where(Catalog.jurisdiction_id.in_(_jurisdictions(session, query)))
    if query.version is not None:
        stmt = stmt.where(Version.seq == query.version, Version.status.in_(PUBLIC_VERSION_STATES))
    else:
        stmt = stmt.where(Version.status == VersionState.PUBLISHED)
    return set(session.scalars(stmt))


def _jurisdictions(session: Session, query: SearchQuery) -> set[int]:
    rows = session.execute(select(Jurisdiction.id, Jurisdiction.code, Jurisdiction.parent_id)).all()
    root = next((r.id for r in rows if r.code == query.jurisdiction), None)
    if root is None:
        raise NotFound(f"没有行政区划代码“{query.jurisdiction}”")
    found = {root}
    while query.subordinate:
        below = {r.id for r in rows if r.parent_id in found} - found
        if not below:
            break
        found |= below
    return found


def _ranges(session: Session, wanted: set[int]) -> list[tuple[int, int]]:
    """Return the id ranges of the wanted versions' entries, merged where nothing else lies between."""
    out: list[tuple[int, int]] = []
    adjacent = False
    for v in search_store.indexed_versions(session):
        if v.items == 0:
            continue
        if v.version_id not in wanted:
            adjacent = False
            continue
        if adjacent and v.first_id == out[-1][1] + 1:  # never across ids no recorded version owns
            out[-1] = (out[-1][0], v.last_id)
        else:
            out.append((v.first_id, v.last_id))
        adjacent = True
    return out


def _groups(session: Session, hits: list[Hit], words: list[str]) -> list[HitGroup]:
    if not hits:
        return []
    versions = {
        v.id: (v.seq, c)
        for v, c in session.execute(
            select(Version, Catalog)
            .join(Catalog, Catalog.id == Version.catalog_id)
            .where(Version.id.in_({h.version_id for h in hits}))
        ).all()
    }
    groups: list[HitGroup] = []
    for h in hits:
        seq, cat = versions[h.version_id]
        if not groups or (groups[-1].catalog_slug, groups[-1].version_seq, groups[-1].type_uid) != (
            cat.slug,
            seq,
            h.type_uid,
        ):
            groups.append(HitGroup(cat.slug, cat.name, seq, h.type_code, h.type_name, h.type_uid))
        spans = search_text.spans(h.name, h.description, words)
        groups[-1].hits.append(SearchHit(h, cat.slug, cat.name, seq, spans))
    return groups
