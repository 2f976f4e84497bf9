"""Statistics pages: per catalog version and across catalogs, each table also as CSV; the half-year XLSX.

Public, like the versions they count. A public version never changes, so its statistics are
computed once per process and kept in the page cache (keyed by the public versions too,
because the changes table lists them).
"""

from __future__ import annotations

import io
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app.db.models import Catalog, Version
from app.errors import NotFound
from app.http import downloads
from app.http.cache import PageCache
from app.http.deps import SessionDep, Today
from app.http.downloads import download
from app.http.rendering import render
from app.services.catalogs import browse
from app.services.stats import figures as statistics
from app.services.stats import report as stats_report
from app.services.stats.figures import CatalogStats
from app.services.stats.tables import Table, catalog_tables, csv_bytes, overview_tables, pick

router = APIRouter(include_in_schema=False)


class StatsUrls:
    """The statistics URLs; the static site's variant ends page paths with a slash and has no report."""

    def __init__(self, *, static: bool = False) -> None:
        self._slash = "/" if static else ""
        self._static = static

    def overview(self) -> str:
        return f"/statistics{self._slash}"

    def overview_csv(self, key: str) -> str:
        return f"/statistics/{quote(key)}.csv"

    def catalog(self, slug: str, seq: int) -> str:
        return f"/catalogs/{quote(slug)}/versions/{seq}/statistics{self._slash}"

    def catalog_csv(self, slug: str, seq: int, key: str) -> str:
        return f"/catalogs/{quote(slug)}/versions/{seq}/statistics/{quote(key)}.csv"

    def report(self, slug: str) -> str | None:
        return None if self._static else f"/statistics/report.xlsx?{urlencode({'catalog': slug})}"


LIVE = StatsUrls()


def _urls(request: Request) -> StatsUrls:
    """Return the statistics URL builder: the environment's own if it has one (the static site's)."""
    found = request.app.state.templates.globals.get("stats_urls")
    return found if isinstance(found, StatsUrls) else LIVE


@router.get("/statistics", response_class=HTMLResponse)
def overview_page(request: Request, session: SessionDep) -> Response:
    all_stats = _overview(request, session)
    return render(request, "stats/overview.html", **_overview_context(all_stats, _urls(request)))


@router.get("/statistics/report.xlsx")
def report_xlsx(
    session: SessionDep,
    today: Today,
    catalog: Annotated[str, Query()],
    since: Annotated[date | None, Query()] = None,
) -> Response:
    report = stats_report.half_year_report(session, catalog, since=since, today=today)
    out = io.BytesIO()
    stats_report.write_report(report, out)
    name = f"{catalog}-统计报表-{report.stats.version.seq}-{report.since.isoformat()}.xlsx"
    return download(out.getvalue(), name, media_type=downloads.XLSX, headers={"Cache-Control": "no-store"})


@router.get("/statistics/{key}.csv")
def overview_csv(request: Request, key: str, session: SessionDep) -> Response:
    return _csv(pick(overview_tables(_overview(request, session)), key), "statistics")


@router.get("/catalogs/{slug}/statistics", response_class=HTMLResponse)
def catalog_page(
    request: Request, slug: str, session: SessionDep, version: Annotated[int | None, Query()] = None
) -> Response:
    return render(
        request,
        "stats/catalog.html",
        **_catalog_context(_stats(request, session, slug, version), _urls(request)),
    )


@router.get("/catalogs/{slug}/versions/{seq}/statistics", response_class=HTMLResponse)
def version_page(request: Request, slug: str, seq: int, session: SessionDep) -> Response:
    return render(
        request, "stats/catalog.html", **_catalog_context(_stats(request, session, slug, seq), _urls(request))
    )


@router.get("/catalogs/{slug}/versions/{seq}/statistics/{key}.csv")
def version_csv(request: Request, slug: str, seq: int, key: str, session: SessionDep) -> Response:
    return _csv(pick(catalog_tables(_stats(request, session, slug, seq)), key), f"{slug}-{seq}")


def _overview_context(all_stats: list[CatalogStats], urls: StatsUrls) -> dict[str, Any]:
    """Return what stats/overview.html shows for `all_stats`, linking with `urls`."""
    tables = overview_tables(all_stats)
    return {
        "all_stats": all_stats,
        "tables": tables,
        "csv_urls": {t.key: urls.overview_csv(t.key) for t in tables},
        "surls": urls,
    }


def _catalog_context(stats: CatalogStats, urls: StatsUrls) -> dict[str, Any]:
    """Return what stats/catalog.html shows for `stats`, linking with `urls`."""
    slug, seq = stats.catalog.slug, stats.version.seq
    tables = catalog_tables(stats)
    return {
        "s": stats,
        "tables": tables,
        "csv_urls": {t.key: urls.catalog_csv(slug, seq, t.key) for t in tables},
        "report_url": urls.report(slug),
        "surls": urls,
    }


def _csv(table: Table | None, prefix: str) -> Response:
    if table is None:
        raise NotFound("没有这张统计表")
    name = f"{prefix}-{table.key}.csv"
    return download(csv_bytes(table), name, media_type=downloads.csv_media_type())


def _stats(request: Request, session: Session, slug: str, seq: int | None) -> CatalogStats:
    cat, public = browse.public_versions(session, slug)
    return _cached(request, session, cat, browse.pick_version(cat, public, seq), public)


def _overview(request: Request, session: Session) -> list[CatalogStats]:
    return [_cached(request, session, c, v, public) for c, v, public in statistics.latest_public(session)]


def _cached(
    request: Request, session: Session, cat: Catalog, ver: Version, public: list[Version]
) -> CatalogStats:
    cache: PageCache = request.app.state.page_cache
    key = ("statistics", ver.id, tuple(v.id for v in public))
    found = cache.get(key)
    if isinstance(found, CatalogStats):
        return found
    stats = statistics.version_stats(session, cat, ver, public)
    rows = len(stats.by_type) + len(stats.by_department) + len(stats.changes) + len(stats.matrix) * 8
    cache.put(key, stats, 2048 + 160 * rows)  # roughly: a row is a few short strings
    return stats
