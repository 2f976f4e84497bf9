"""Serving immutable published content: version resolution, rendered-bytes cache, ETags.

A public version never changes and is never unpublished, so once (slug, seq) resolves to
a public version the answer holds for the life of the process, and so do the bytes
rendered from it.
"""

from __future__ import annotations

import gzip
import os
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.orm import Session, sessionmaker

from app.db.models import Catalog, Version
from app.http.cache import PageCache, strong_etag
from app.services.catalogs import browse
from app.services.versions import lifecycle

HTML_CACHE = "public, max-age=300"
# Building a page is CPU work that holds the interpreter lock: threads beyond the cores only take it
# from each other (and from the event loop). A burst of requests for one missing page builds it once.
_BUILDERS = threading.BoundedSemaphore(max(2, os.cpu_count() or 2))
STREAM_CHUNK = 64 * 1024
KEEP_STREAMED_MAX = 32 * 1024 * 1024  # a city's printed catalog is ~2.5 MB; a province's is not kept


@dataclass(frozen=True, slots=True)
class PublicRef:
    catalog_id: int
    version_id: int
    seq: int


def resolve_public(request: Request, sessions: sessionmaker[Session], slug: str, seq: int) -> PublicRef:
    """Return the ids of public version `seq` of `slug`, or raise NotFound (one read per version)."""
    known: dict[tuple[str, int], PublicRef] = request.app.state.public_refs
    ref = known.get((slug, seq))
    if ref is None:
        with sessions() as session:
            cat, ver = browse.public_version(session, slug, seq)
        ref = known[(slug, seq)] = PublicRef(cat.id, ver.id, ver.seq)
    return ref


@dataclass(frozen=True, slots=True)
class PublicList:
    """A catalog's public versions as this process last read them, and when."""

    catalog: Catalog
    versions: list[Version]
    stamp: int  # lifecycle.publications_here() when read
    read_at: float  # time.monotonic()


def public_list(request: Request, slug: str) -> PublicList | None:
    """Return the catalog's public versions from memory (no I/O) if they can still be trusted, else None.

    A publication committed by this process makes them stale at once; one committed by another
    process (another worker, the scheduler of another server) within the settings'
    `public_list_seconds`, well inside the time public pages may be cached anyway (HTML_CACHE).
    """
    known: dict[str, PublicList] = request.app.state.public_lists
    found = known.get(slug)
    trusted: float = request.app.state.settings.public_list_seconds
    fresh = found is not None and found.stamp == lifecycle.publications_here()
    if found is None or not fresh or time.monotonic() - found.read_at > trusted:
        return None
    return found


def remember_public_list(request: Request, catalog: Catalog, versions: list[Version]) -> None:
    """Keep the catalog's public versions just read for public_list."""
    known: dict[str, PublicList] = request.app.state.public_lists
    known[catalog.slug] = PublicList(catalog, versions, lifecycle.publications_here(), time.monotonic())


def cached_bytes_hit(request: Request, key: Hashable) -> bytes | None:
    """Return the bytes cached under `key` if they are in memory, else None (never any I/O)."""
    cache: PageCache = request.app.state.page_cache
    body = cache.get(key)
    return body if isinstance(body, bytes) else None


def known_public(request: Request, slug: str, seq: int) -> PublicRef | None:
    """Return the ids of public version `seq` of `slug` if this process resolved it before (no I/O)."""
    known: dict[tuple[str, int], PublicRef] = request.app.state.public_refs
    return known.get((slug, seq))


def cached_html_hit(request: Request, key: tuple[Hashable, ...]) -> Response | None:
    """Return the answer cached_html would give if it is in memory already, else None (never any I/O)."""
    gzipped = "gzip" in request.headers.get("accept-encoding", "")
    cache: PageCache = request.app.state.page_cache
    entry = cache.get((*key, "gzip" if gzipped else "identity"))
    return _answer(request, entry) if isinstance(entry, _Entry) else None


def cached_bytes(request: Request, key: Hashable, build: Callable[[], bytes]) -> bytes:
    """Return the bytes cached under `key`, building and remembering them on a miss."""
    cache: PageCache = request.app.state.page_cache
    body = cache.get(key)
    if isinstance(body, bytes):
        return body
    with _BUILDERS:
        body = cache.get(key)  # built by another request while this one waited its turn
        if not isinstance(body, bytes):
            body = build()
            cache.put(key, body, len(body))
    return body


def cached_html(request: Request, key: tuple[Hashable, ...], build: Callable[[], bytes]) -> Response:
    """Answer immutable HTML from the cache with a strong ETag (304 when the client has it).

    Browsers accept gzip, so the cache also keeps a compressed copy, made once: a 500-item
    fragment is 195 KB as HTML and 18 KB gzipped, and sending bytes is most of its cost.
    Each representation's headers are made once too: a hit does no hashing.
    """
    gzipped = "gzip" in request.headers.get("accept-encoding", "")
    return _answer(request, _representation(request, key, build, gzipped=gzipped))


def _answer(request: Request, entry: _Entry) -> Response:
    if entry.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=entry.not_modified)
    return Response(entry.body, media_type="text/html; charset=utf-8", headers=entry.headers)


@dataclass(frozen=True, slots=True)
class _Entry:
    body: bytes
    etag: str
    headers: dict[str, str]
    not_modified: dict[str, str]


def _representation(
    request: Request, key: tuple[Hashable, ...], build: Callable[[], bytes], *, gzipped: bool
) -> _Entry:
    cache: PageCache = request.app.state.page_cache
    full_key = (*key, "gzip" if gzipped else "identity")
    entry = cache.get(full_key)
    if isinstance(entry, _Entry):
        return entry
    body = cached_bytes(request, key, build)
    if gzipped:
        with _BUILDERS:
            body = gzip.compress(body, compresslevel=9, mtime=0)  # made once per version: spend the CPU
    etag = strong_etag(*full_key)
    common = {"ETag": etag, "Cache-Control": HTML_CACHE, "Vary": "HX-Request, Accept-Encoding"}
    headers = {**common, "Content-Encoding": "gzip"} if gzipped else common
    entry = _Entry(body, etag, headers, common)
    cache.put(full_key, entry, len(body) + 512)  # the headers' share, roughly
    return entry


def streamed_html(
    request: Request, key: tuple[Hashable, ...], render: Callable[[], Iterable[str]]
) -> Response:
    """Answer immutable HTML from the cache, or stream it from `render` and keep a copy that fits.

    For pages too big to build before the first byte (a whole printed catalog): memory stays
    flat while it streams, and the next request is served from the cache like cached_html's.
    """
    cache: PageCache = request.app.state.page_cache
    etag = strong_etag(*key, "identity")  # the tag cached_html gives the same bytes uncompressed
    headers = {"ETag": etag, "Cache-Control": HTML_CACHE, "Vary": "HX-Request, Accept-Encoding"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    if isinstance(cache.get(key), bytes):
        return cached_html(request, key, lambda: "".join(render()).encode())  # built only if evicted since
    chunks = _kept_while_streamed(cache, key, render)
    return StreamingResponse(chunks, media_type="text/html; charset=utf-8", headers=headers)


def _kept_while_streamed(
    cache: PageCache, key: Hashable, render: Callable[[], Iterable[str]]
) -> Iterator[bytes]:
    kept: list[bytes] | None = []
    size = 0
    for chunk in _joined(render()):
        yield chunk
        if kept is not None:
            kept.append(chunk)
            size += len(chunk)
            if size > KEEP_STREAMED_MAX:
                kept = None  # too big to keep: the next request streams again
    if kept is not None:
        cache.put(key, b"".join(kept), size)


def _joined(parts: Iterable[str]) -> Iterator[bytes]:
    # template.generate() yields many tiny strings: send them in chunks of about 64 KB
    buffer: list[str] = []
    length = 0
    for part in parts:
        buffer.append(part)
        length += len(part)
        if length >= STREAM_CHUNK // 3:  # a CJK character is three bytes
            yield "".join(buffer).encode()
            buffer, length = [], 0
    if buffer:
        yield "".join(buffer).encode()
