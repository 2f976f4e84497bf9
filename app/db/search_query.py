"""Searching the index: which entries of some id ranges match, for both databases.

SQLite asks its FTS5 tables, which hand rowids over in ascending order within a rowid range,
so a page stops after `limit` rows and a count at `cap`. PostgreSQL has GIN indexes (pg_trgm,
bigram tsvector) that answer only as whole, unordered bitmaps; `_plan` chooses per range
between those and walking the primary key, from a sample of the range.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.catalog import search_text
from app.db.search_store import dialect, has_fts

_ROW_COLUMNS = (
    "id", "version_id", "catalog_id", "uid", "level", "code", "name", "description",
    "class_code", "type_code", "type_uid", "type_name", "path", "department_code", "department_name",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Hit:
    """One matching entry, as a result page shows it."""

    id: int
    version_id: int
    catalog_id: int
    uid: str
    level: int
    code: str
    name: str
    description: str
    class_code: str
    type_code: str
    type_uid: str
    type_name: str
    path: str
    department_code: str
    department_name: str


@dataclass(frozen=True, slots=True)
class Filters:
    """Equality filters on the entries; None: any."""

    class_code: str | None = None
    type_code: str | None = None
    department_code: str | None = None


@dataclass(frozen=True, slots=True)
class Match:
    """A compiled search: which index answers which terms, in each dialect's query language."""

    long_terms: tuple[str, ...]  # 3+ characters: trigram index
    short_terms: tuple[str, ...]  # 1-2 characters: bigram tokens

    @classmethod
    def of(cls, terms: Sequence[str]) -> Match:
        """Return the match for `terms` (each already lowercased)."""
        return cls(tuple(t for t in terms if len(t) >= 3), tuple(t for t in terms if len(t) < 3))


def _short_tokens(match: Match, *, prefix: str) -> list[str]:
    return [search_text.token(t) if len(t) == 2 else search_text.token(t) + prefix for t in match.short_terms]


def _sqlite_sql(match: Match, flt: Filters, *, select_list: str) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {}
    joins, where = [], []
    if match.long_terms:
        params["tq"] = " AND ".join('"' + t.replace('"', '""') + '"' for t in match.long_terms)
        joins.append("search_trigram")
        where.append("search_trigram MATCH :tq")
    if match.short_terms:
        params["gq"] = " AND ".join(_short_tokens(match, prefix="*"))
        joins.append("search_grams")
        where.append("search_grams MATCH :gq")
    driver = joins[0]  # FTS5 hands rowids over in ascending order, bounded by the rowid range
    source = driver + "".join(f" JOIN {o} ON {o}.rowid = {driver}.rowid" for o in joins[1:])
    source += f" JOIN search_entries e ON e.id = {driver}.rowid"
    where += [f"{driver}.rowid > :after", f"{driver}.rowid <= :hi", *_filter_sql(flt, params)]
    return f"SELECT {select_list} FROM {source} WHERE {' AND '.join(where)}", params


def _postgres_indexed_sql(match: Match, flt: Filters, *, select_list: str) -> tuple[str, dict[str, Any]]:
    """The query the GIN indexes answer: pg_trgm for long terms, the bigram tsvector for short ones."""
    params: dict[str, Any] = {}
    where = ["e.id > :after", "e.id <= :hi"]
    for n, term in enumerate(match.long_terms):
        escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params[f"p{n}"] = f"%{escaped}%"
        where.append(f"e.search_text LIKE :p{n}")
    if match.short_terms:
        params["gq"] = " & ".join(_short_tokens(match, prefix=":*"))
        where.append("e.grams @@ CAST(:gq AS tsquery)")
    where += _filter_sql(flt, params)
    return f"SELECT {select_list} FROM search_entries e WHERE {' AND '.join(where)}", params


def _postgres_scan_sql(match: Match, flt: Filters, *, select_list: str) -> tuple[str, dict[str, Any]]:
    """The same question asked row by row in id order (strpos: no index can take it over)."""
    params: dict[str, Any] = {}
    where = ["e.id > :after", "e.id <= :hi"]
    for n, term in enumerate((*match.long_terms, *match.short_terms)):
        params[f"t{n}"] = term
        where.append(f"strpos(e.search_text, :t{n}) > 0")
    where += _filter_sql(flt, params)
    return f"SELECT {select_list} FROM search_entries e WHERE {' AND '.join(where)}", params


def _filter_sql(flt: Filters, params: dict[str, Any]) -> list[str]:
    out = []
    for column, value in (
        ("class_code", flt.class_code),
        ("type_code", flt.type_code),
        ("department_code", flt.department_code),
    ):
        if value is not None:
            params[column] = value
            out.append(f"e.{column} = :{column}")
    return out


def _searchable(session: Session, match: Match) -> bool:
    if not (match.long_terms or match.short_terms):
        return False
    return dialect(session) != "sqlite" or has_fts(session)


_HIT_COLUMNS = ", ".join(f"e.{c}" for c in _ROW_COLUMNS)
_SAMPLES = 1000
_DENSE_SAMPLE_HITS = 30
_MIXED_RATIO = 200  # a hit in every 200 rows or more: a page is found within ~10,000 rows walked
_SAMPLE_IDS = "generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint), CAST(:step AS bigint))"
_SMALL_RANGE = 12_000  # ids: the largest catalog of a city


class _Plan(Enum):
    FTS = "fts"  # SQLite: FTS5 walks its rowids in order
    INDEXED = "indexed"  # PostgreSQL, few hits: GIN bitmaps (ANDed with the id range), then sorted
    SCAN = "scan"  # PostgreSQL, a small range: the primary key in order, every row tested
    SCAN_DENSE = "scan_dense"  # PostgreSQL, hits everywhere: the same, stopping when the page is full
    MIXED = "mixed"  # PostgreSQL, hits here and there: counted from the bitmaps, the page walked


def find(
    session: Session,
    match: Match,
    flt: Filters,
    ranges: Sequence[tuple[int, int]],
    *,
    after: int,
    limit: int,
    cap: int,
) -> tuple[list[Hit], int]:
    """Return up to `limit` hits above `after` in `ranges` (ascending, disjoint) and the count up to `cap`.

    The count covers the whole of `ranges`, whatever `after` is.
    """
    if not _searchable(session, match):
        return [], 0
    hits: list[Hit] = []
    total = 0
    for lo, hi in ranges:
        plan = _plan(session, match, flt, lo, hi, cap=cap)
        wanted = limit - len(hits) if hi > after else 0
        if plan in (_Plan.SCAN_DENSE, _Plan.MIXED) or total >= cap:
            if plan is _Plan.MIXED and total < cap:
                total += _count(session, match, flt, lo - 1, hi, cap - total)
            total = cap if plan is _Plan.SCAN_DENSE else total
            hits += _page(session, plan, match, flt, max(after, lo - 1), hi, wanted) if wanted > 0 else []
            continue
        # one walk both counts (up to the cap) and finds the page, where the page lies in what is counted
        ids = _ids(session, plan, match, flt, lo - 1, hi, cap - total)
        counted_all = len(ids) < cap - total
        total += len(ids)
        if wanted <= 0:
            continue
        page_ids = [i for i in ids if i > after][:wanted]
        hits += _by_ids(session, page_ids)
        if len(page_ids) < wanted and not counted_all:
            hits += _page(session, plan, match, flt, max(after, ids[-1]), hi, wanted - len(page_ids))
    return hits, min(total, cap)


def _plan(session: Session, match: Match, flt: Filters, lo: int, hi: int, *, cap: int) -> _Plan:
    """Choose how PostgreSQL answers a range: scan a small one; sample a large one.

    A GIN bitmap is built whole (a two-character word may have tens of thousands of postings
    across the province) and its rows then sorted; walking the primary key costs the rows
    walked. So: a range of a few catalogs' size is walked; a large one is sampled (1,000 rows):
    where hits are surely more than 3 × cap it is walked until the page is full (the count is
    capped anyway); where one row in _MIXED_RATIO or more is a hit, the bitmaps count (unsorted,
    stopping at the cap) and the page is walked; rarer hits are read from the bitmaps and sorted.
    """
    if dialect(session) == "sqlite":
        return _Plan.FTS
    if hi - lo < _SMALL_RANGE:
        return _Plan.SCAN
    step = max(1, (hi - lo + 1) // _SAMPLES)
    sql, params = _postgres_scan_sql(match, flt, select_list="count(*)")
    sql = sql.replace("e.id > :after AND e.id <= :hi", f"e.id = ANY(ARRAY(SELECT {_SAMPLE_IDS}))", 1)
    sampled = int(session.execute(text(sql), params | {"lo": lo, "hi": hi, "step": step}).scalar() or 0)
    samples = (hi - lo) // step + 1
    if sampled >= _DENSE_SAMPLE_HITS and sampled * (hi - lo + 1) / samples >= 3 * cap:
        return _Plan.SCAN_DENSE
    return _Plan.MIXED if sampled * _MIXED_RATIO >= samples else _Plan.INDEXED


def _sql(plan: _Plan, match: Match, flt: Filters, select_list: str) -> tuple[str, dict[str, Any]]:
    if plan is _Plan.FTS:
        return _sqlite_sql(match, flt, select_list=select_list)
    if plan in (_Plan.SCAN, _Plan.SCAN_DENSE, _Plan.MIXED):
        return _postgres_scan_sql(match, flt, select_list=select_list)
    return _postgres_indexed_sql(match, flt, select_list=select_list)


def _order(plan: _Plan, match: Match) -> str:
    if plan is not _Plan.FTS:
        return "e.id"
    return "search_trigram.rowid" if match.long_terms else "search_grams.rowid"


def _count(session: Session, match: Match, flt: Filters, after: int, hi: int, cap: int) -> int:
    """Count up to `cap` hits from the GIN bitmaps; unordered, so the heap is read only that far."""
    sql, params = _postgres_indexed_sql(match, flt, select_list="1")
    with _bitmaps_only(session, _Plan.INDEXED):
        found = session.execute(
            text(f"SELECT count(*) FROM ({sql} LIMIT :n) AS hits"),
            params | {"after": after, "hi": hi, "n": cap},
        ).scalar()
    return int(found or 0)


def _ids(session: Session, plan: _Plan, match: Match, flt: Filters, after: int, hi: int, n: int) -> list[int]:
    sql, params = _sql(plan, match, flt, "e.id")
    with _bitmaps_only(session, plan):
        rows = session.execute(
            text(f"{sql} ORDER BY {_order(plan, match)} LIMIT :n"),
            params | {"after": after, "hi": hi, "n": n},
        )
        return [int(i) for i in rows.scalars()]


def _by_ids(session: Session, ids: list[int]) -> list[Hit]:
    if not ids:
        return []
    marks = ", ".join(f":i{n}" for n in range(len(ids)))
    rows = session.execute(
        text(f"SELECT {_HIT_COLUMNS} FROM search_entries e WHERE e.id IN ({marks}) ORDER BY e.id"),
        {f"i{n}": i for n, i in enumerate(ids)},
    )
    return [Hit(*row) for row in rows]


def _page(
    session: Session, plan: _Plan, match: Match, flt: Filters, after: int, hi: int, n: int
) -> list[Hit]:
    sql, params = _sql(plan, match, flt, _HIT_COLUMNS)
    with _bitmaps_only(session, plan):
        rows = session.execute(
            text(f"{sql} ORDER BY {_order(plan, match)} LIMIT :n"),
            params | {"after": after, "hi": hi, "n": n},
        )
        return [Hit(*row) for row in rows]


@contextmanager
def _bitmaps_only(session: Session, plan: _Plan) -> Iterator[None]:
    # left to itself, PostgreSQL walks the primary key over the id range testing each row's
    # tsvector (detoasted: ~5 µs a row); the GIN bitmap ANDed with the range reads only the hits
    if plan is not _Plan.INDEXED:
        yield
        return
    session.execute(text("SET LOCAL enable_indexscan = off"))
    try:
        yield
    finally:
        session.execute(text("SET LOCAL enable_indexscan = on"))
