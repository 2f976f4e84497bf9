"""Statistics of published versions: items per class, type and department, and changes per version.

Only public versions are counted: a version comes from browse (public statuses only) and the
changes table walks the public versions alone. Every number is an SQL aggregate
(app.db.stats_query); what is held in memory is one row per class, type or department.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from app.catalog.nodes import Level
from app.db import queries, stats_query
from app.db.export_query import departments
from app.db.models import Catalog, Jurisdiction, Version
from app.db.queries import NodeRow
from app.services.catalogs import browse

NO_DEPARTMENT = ("", "（未指定购买主体）")


@dataclass(frozen=True, slots=True)
class Count:
    code: str
    name: str
    items: int
    group: str = ""  # a type's class, as "A 基本公共服务"


@dataclass(frozen=True, slots=True)
class VersionChange:
    """One public version against the public version before it (the first: against nothing)."""

    version: Version
    items: int
    added: int
    withdrawn: int
    changed: int


@dataclass(frozen=True, slots=True)
class CatalogStats:
    catalog: Catalog
    jurisdiction: Jurisdiction
    version: Version
    versions: list[Version]  # the catalog's public versions, newest first
    items: int  # 三级
    subitems: int  # 四级
    by_class: list[Count]
    by_type: list[Count]
    by_department: list[Count]
    # department (code, name) → class code → items: what the half-year report tabulates
    matrix: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    changes: list[VersionChange] = field(default_factory=list)


def catalog_stats(session: Session, slug: str, seq: int | None = None) -> CatalogStats:
    """Return the statistics of public version `seq` of `slug` (default: the newest), or raise NotFound."""
    cat, public = browse.public_versions(session, slug)
    ver = browse.pick_version(cat, public, seq)
    return version_stats(session, cat, ver, public)


def version_stats(session: Session, cat: Catalog, ver: Version, public: list[Version]) -> CatalogStats:
    """Return the statistics of `ver`, one of the catalog's `public` versions (newest first)."""
    if ver.id not in {v.id for v in public}:
        raise ValueError("statistics are only computed for public versions")
    seq = ver.seq
    tally = _Tally(
        {n.node_id: n for n in queries.level_nodes(session, cat.id, seq, Level.CLASS)},
        {n.node_id: n for n in queries.level_nodes(session, cat.id, seq, Level.TYPE)},
        departments(session, jurisdiction_id=cat.jurisdiction_id),
    )
    for parent, dept_id, n in stats_query.counts_by_parent_and_department(session, cat.id, seq, Level.ITEM):
        tally.add(parent, dept_id, n)
    return CatalogStats(
        catalog=cat,
        jurisdiction=session.get_one(Jurisdiction, cat.jurisdiction_id),
        version=ver,
        versions=public,
        items=sum(tally.per_dept.values()),
        subitems=stats_query.level_count(session, cat.id, seq, Level.SUBITEM),
        by_class=[Count(c.code, c.name, tally.per_class[c.node_id]) for c in tally.classes.values()],
        by_type=[
            Count(t.code, t.name, tally.per_type[t.node_id], _label(tally.classes.get(t.parent_id or 0)))
            for t in tally.types.values()
        ],
        by_department=sorted(
            (Count(code, name, n) for (code, name), n in tally.per_dept.items()),
            key=lambda c: (-c.items, c.code),
        ),
        matrix={d: dict(row) for d, row in tally.matrix.items()},
        changes=version_changes(session, cat, [v for v in public if v.seq <= seq]),
    )


class _Tally:
    """Item counts per class, type, department and department × class, from per-parent aggregates."""

    def __init__(
        self, classes: dict[int, NodeRow], types: dict[int, NodeRow], depts: dict[int, tuple[str, str]]
    ) -> None:
        self.classes, self.types, self.depts = classes, types, depts
        self.per_class: dict[int, int] = dict.fromkeys(classes, 0)
        self.per_type: dict[int, int] = dict.fromkeys(types, 0)
        self.per_dept: dict[tuple[str, str], int] = defaultdict(int)
        self.matrix: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def add(self, parent: int | None, dept_id: int | None, n: int) -> None:
        """Count `n` items under node `parent` (a type, or a class directly) of department `dept_id`."""
        type_ = self.types.get(parent or 0)
        class_id = type_.parent_id if type_ is not None else parent
        if type_ is not None:
            self.per_type[type_.node_id] += n
        if class_id in self.per_class:
            self.per_class[class_id] += n
        dept = self.depts.get(dept_id or 0, NO_DEPARTMENT)
        self.per_dept[dept] += n
        self.matrix[dept][self.classes[class_id].code if class_id in self.classes else ""] += n


def version_changes(session: Session, cat: Catalog, public: list[Version]) -> list[VersionChange]:
    """Return, newest first, what each of the `public` versions added, withdrew and changed (三级 items)."""
    out: list[VersionChange] = []
    previous = 0
    for ver in sorted(public, key=lambda v: v.seq):
        added, withdrawn, changed = stats_query.change_counts(session, cat.id, previous, ver.seq, Level.ITEM)
        items = stats_query.level_count(session, cat.id, ver.seq, Level.ITEM)
        out.append(VersionChange(ver, items, added, withdrawn, changed))
        previous = ver.seq
    return out[::-1]


def latest_public(session: Session) -> list[tuple[Catalog, Version, list[Version]]]:
    """Return each catalog that has a public version: the catalog, its newest public version, all of them."""
    latest = queries.latest_public_by_catalog(session)
    return [
        (cat, latest[cat.id], queries.versions(session, cat.id))
        for cat, _j in queries.catalogs_with_jurisdiction(session)
        if cat.id in latest
    ]


def _label(node: NodeRow | None) -> str:
    return f"{node.code} {node.name}" if node is not None else ""
