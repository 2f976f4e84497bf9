"""The queries a page runs, and their plans: a full scan of a large table fails the benchmark.

Statements are captured at the DBAPI boundary (SQLAlchemy's before_cursor_execute) while
the real app answers the page in-process, so what is explained is exactly what was sent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from app.config import Settings
from app.main import create_app

# SQLite: a SCAN of these (without an index) reads the whole table; PostgreSQL may rightly
# seq-scan the 100-row versions table, so there only the two large tables count
SQLITE_LARGE = ("node_revisions", "nodes", "versions")
POSTGRES_LARGE = ("node_revisions", "nodes")


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str
    params: Any


@dataclass(frozen=True, slots=True)
class Plan:
    page: str
    statement: Statement
    lines: list[str]
    full_scans: list[str]  # the plan lines that read a whole large table
    index_scans: list[str]  # whole-index or whole-catalog walks: not failures, but worth a look


@dataclass(frozen=True, slots=True)
class Page:
    name: str
    path: str
    headers: dict[str, str]
    expect: str  # a marker the body must contain, so a 404 page is never explained by mistake


def capture(url: str, pages: Sequence[Page]) -> dict[str, list[Statement]]:
    """Return the statements each page runs, served in-process with the page cache off."""
    app = create_app(Settings(database_url=url, page_cache_bytes=0))
    engine: Engine = app.state.engine
    seen: list[Statement] = []

    def record(_conn: Any, _cursor: Any, sql: str, params: Any, _context: Any, _many: bool) -> None:  # noqa: FBT001
        seen.append(Statement(sql, params))

    out: dict[str, list[Statement]] = {}
    with TestClient(app) as client:
        event.listen(engine, "before_cursor_execute", record)
        try:
            for page in pages:
                seen.clear()
                response = client.get(page.path, headers=page.headers)
                if response.status_code != 200 or page.expect not in response.text:
                    raise RuntimeError(f"{page.name}: {page.path} answered {response.status_code}")
                out[page.name] = list(seen)
        finally:
            event.remove(engine, "before_cursor_execute", record)
    return out


def explain(engine: Engine, page: str, statement: Statement) -> Plan:
    """Return the plan of `statement` with the parameters it was run with."""
    dialect = engine.dialect.name
    prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(prefix + statement.sql, statement.params).all()
    if dialect == "sqlite":
        lines = _sqlite_tree(rows)
        full, walks = _sqlite_scans(lines)
    else:
        lines = [str(r[0]) for r in rows]
        full, walks = _postgres_scans(lines)
    return Plan(page, statement, lines, full, walks)


def _sqlite_tree(rows: Sequence[Any]) -> list[str]:
    # rows are (id, parent, notused, detail); indent each by its depth as the sqlite3 shell does
    depth: dict[int, int] = {0: -1}
    lines = []
    for node_id, parent, _unused, detail in rows:
        depth[node_id] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node_id] + str(detail))
    return lines


# a node_revisions search bounded by nothing narrower than its catalog reads every
# revision of that catalog (thousands of rows) to answer for one node or one type
_WHOLE_CATALOG = re.compile(
    r"SEARCH node_revisions USING (COVERING )?INDEX \w+ \(catalog_id=\?( AND valid_from<\?)?\)"
)


def _sqlite_scans(lines: list[str]) -> tuple[list[str], list[str]]:
    full: list[str] = []
    walks: list[str] = []
    for line in lines:
        m = re.match(r"\s*SCAN (\w+)", line)
        if m is not None and m.group(1) in SQLITE_LARGE:
            (walks if "USING INDEX" in line or "USING COVERING INDEX" in line else full).append(line.strip())
        elif _WHOLE_CATALOG.search(line):
            walks.append(line.strip())
    return full, walks


def _postgres_scans(lines: list[str]) -> tuple[list[str], list[str]]:
    names = "|".join(POSTGRES_LARGE)
    full = [ln.strip() for ln in lines if re.search(rf"Seq Scan on ({names})\b", ln)]
    walks = []
    for i, line in enumerate(lines):
        if re.search(rf"Index (Only )?Scan (Backward )?using \w+ on ({names})\b", line):
            # a node's details follow its own line, up to the next node ("->"): no Index Cond
            # among them means the scan walks the whole index
            details = next(
                (lines[i + 1 : j] for j in range(i + 1, len(lines)) if "->" in lines[j]), lines[i + 1 :]
            )
            if not any("Index Cond" in d for d in details):
                walks.append(line.strip())
    return full, walks


def short_sql(sql: str) -> str:
    """Return `sql` on one line, a long IN list folded to its first placeholder and a count."""
    flat = " ".join(sql.split())

    def fold(m: re.Match[str]) -> str:
        return f"{m.group(1)}, … ({m.group(0).count(',') + 1} values)"

    return re.sub(r"(\?|%\([\w]+\)s)(?:, (?:\?|%\([\w]+\)s)){3,}", fold, flat)
