"""Reading published catalogs: what the public pages and the read API show."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from app.catalog.nodes import Level
from app.db import queries
from app.db.export_query import RowFilter
from app.db.models import Catalog, Jurisdiction, Version
from app.db.queries import NodeFilter, NodeRow
from app.errors import InvalidInput, NotFound
from app.formats.exports import csv_fields
from app.services.exports import rows as export_rows


@dataclass(frozen=True, slots=True)
class CatalogSummary:
    catalog: Catalog
    jurisdiction: Jurisdiction
    latest: Version | None


@dataclass(frozen=True, slots=True)
class TypeView:
    node: NodeRow
    item_count: int


@dataclass(frozen=True, slots=True)
class ClassView:
    node: NodeRow
    types: list[TypeView]

    @property
    def item_count(self) -> int:
        """Return the number of items under all of this class's types."""
        return sum(t.item_count for t in self.types)


@dataclass(frozen=True, slots=True)
class ItemView:
    node: NodeRow
    children: list[NodeRow] = field(default_factory=list)


def public_catalogs(session: Session) -> list[CatalogSummary]:
    """Return every catalog with its newest public version (None when none is published yet)."""
    latest = queries.latest_public_by_catalog(session)
    return [CatalogSummary(c, j, latest.get(c.id)) for c, j in queries.catalogs_with_jurisdiction(session)]


def catalog(session: Session, slug: str) -> Catalog:
    """Return the catalog `slug` or raise NotFound."""
    found = queries.catalog_by_slug(session, slug)
    if found is None:
        raise NotFound(f"没有找到目录“{slug}”")
    return found


def catalog_by_id(session: Session, catalog_id: int) -> Catalog:
    """Return the catalog with id `catalog_id`."""
    return session.get_one(Catalog, catalog_id)


def department_names(session: Session, cat: Catalog) -> dict[str, str]:
    """Return the names of the catalog's jurisdiction's departments by code."""
    return {d.code: d.name for d in queries.departments(session, cat.jurisdiction_id)}


def public_version(session: Session, slug: str, seq: int | None = None) -> tuple[Catalog, Version]:
    """Return the catalog and its public version `seq` (default: the newest), or raise NotFound."""
    cat = catalog(session, slug)
    found = queries.latest_version(session, cat.id) if seq is None else queries.version(session, cat.id, seq)
    if found is None:
        raise NotFound(
            f"目录“{cat.name}”没有已公开的第{seq}版" if seq else f"目录“{cat.name}”尚无已公开的版本"
        )
    return cat, found


def pick_version(cat: Catalog, versions: list[Version], seq: int | None) -> Version:
    """Return version `seq` (default: the newest) from the catalog's public `versions`, or raise NotFound."""
    if not versions:
        raise NotFound(f"目录“{cat.name}”尚无已公开的版本")
    found = versions[0] if seq is None else next((v for v in versions if v.seq == seq), None)
    if found is None:
        raise NotFound(f"目录“{cat.name}”没有已公开的第{seq}版")
    return found


def public_versions(session: Session, slug: str) -> tuple[Catalog, list[Version]]:
    """Return the catalog and its public versions, newest first."""
    cat = catalog(session, slug)
    return cat, queries.versions(session, cat.id)


def tree(session: Session, cat: Catalog, version: Version) -> list[ClassView]:
    """Return the classes of `version` with their types and each type's item count."""
    classes = queries.level_nodes(session, cat.id, version.seq, Level.CLASS)
    types = queries.level_nodes(session, cat.id, version.seq, Level.TYPE)
    counts = queries.child_counts(session, cat.id, version.seq, Level.ITEM)
    by_class: dict[int, list[TypeView]] = {c.node_id: [] for c in classes}
    for t in types:
        if t.parent_id in by_class:
            by_class[t.parent_id].append(TypeView(t, counts.get(t.node_id, 0)))
    return [ClassView(c, by_class[c.node_id]) for c in classes]


def type_items(session: Session, cat: Catalog, version: Version, uid: str) -> tuple[NodeRow, list[ItemView]]:
    """Return the type `uid` of `version` and its items, each with its 四级 sub-items."""
    node = queries.node_by_uid(session, cat.id, version.seq, uid)
    if node is None or node.level != Level.TYPE:
        raise NotFound(f"第{version.seq}版中没有这个二级目录")
    items = queries.children(session, cat.id, version.seq, node.node_id)
    subs: dict[int, list[NodeRow]] = {}
    for sub in queries.subitems_of(session, cat.id, version.seq, [i.node_id for i in items]):
        subs.setdefault(sub.parent_id or 0, []).append(sub)
    return node, [ItemView(i, subs.get(i.node_id, [])) for i in items]


def item(
    session: Session, cat: Catalog, version: Version, uid: str
) -> tuple[NodeRow, list[NodeRow], list[NodeRow]]:
    """Return the node `uid` in `version`, its ancestors (class first) and its children."""
    node = queries.node_by_uid(session, cat.id, version.seq, uid)
    if node is None:
        raise NotFound(f"第{version.seq}版中没有这个目录条目")
    path = queries.ancestors(session, cat.id, version.seq, node)
    kids = queries.children(session, cat.id, version.seq, node.node_id)
    return node, path, kids


def node_filter(
    session: Session,
    cat: Catalog,
    version: Version,
    *,
    level: int | None,
    parent: str | None,
    department: str | None,
) -> NodeFilter:
    """Return the storage filter for the API's `level`, `parent` (uid or code) and `department` (code)."""
    parent_id = None
    if parent:
        found = queries.node_by_uid(session, cat.id, version.seq, parent) or queries.node_by_code(
            session, cat.id, version.seq, parent
        )
        if found is None:
            raise NotFound(f"第{version.seq}版中没有上级目录“{parent}”")
        parent_id = found.node_id
    department_id = None
    if department:
        dept = queries.department_by_code(session, cat.jurisdiction_id, department)
        if dept is None:
            raise NotFound(f"没有部门编码“{department}”")
        department_id = dept.id
    if level is not None and level not in (1, 2, 3, 4):
        raise InvalidInput("层级只能是 1 到 4")
    return NodeFilter(level=level, parent_id=parent_id, department_id=department_id)


class PathResolver:
    """Names of a node's ancestors, from the small upper levels held in memory.

    Levels 1–2 are loaded once (under a hundred nodes); a 四级 item's 三级 parent is
    fetched on first sight and remembered.
    """

    def __init__(self, session: Session, catalog_id: int, seq: int) -> None:
        self._session, self._catalog_id, self._seq = session, catalog_id, seq
        self._known: dict[int, NodeRow] = {}
        for level in (Level.CLASS, Level.TYPE):
            for n in queries.level_nodes(session, catalog_id, seq, level):
                self._known[n.node_id] = n

    def path(self, node: NodeRow) -> list[NodeRow]:
        """Return the ancestors of `node`, class first."""
        out: list[NodeRow] = []
        parent_id = node.parent_id
        while parent_id is not None:
            parent = self._known.get(parent_id)
            if parent is None:
                found = queries.nodes_by_ids(self._session, self._catalog_id, self._seq, [parent_id])
                if not found:
                    break
                parent = self._known[parent_id] = found[0]
            out.append(parent)
            parent_id = parent.parent_id
        return out[::-1]


def iter_version_nodes(
    session: Session,
    cat: Catalog,
    version: Version,
    flt: NodeFilter,
    *,
    after: tuple[str, int] | None,
    limit: int | None,
) -> Iterator[tuple[NodeRow, list[NodeRow]]]:
    """Yield each matching node of `version` with its ancestors, in code order."""
    resolver = PathResolver(session, cat.id, version.seq)
    for node in queries.iter_nodes(session, cat.id, version.seq, flt, after=after, limit=limit):
        yield node, resolver.path(node)


@dataclass(frozen=True, slots=True)
class PrintRow:
    """One row of the printed catalog, as the official attachment lays it out."""

    number: int
    code: str
    levels: tuple[str, str, str, str]  # 一级 to 四级 names ('' where the row has no such level)
    description: str
    department: str


def print_rows(session: Session, cat: Catalog, version: Version) -> Iterator[PrintRow]:
    """Yield every item (三级 and 四级) of `version` in code order, numbered from 1, streamed."""
    rows = export_rows.entries(session, cat, version.seq, RowFilter(levels=export_rows.ITEM_LEVELS))
    for number, entry in enumerate(rows, 1):
        _n, code, one, two, three, four, description, department, *_rest = csv_fields(number, entry)
        yield PrintRow(number, code, (one, two, three, four), description, department)


def has_subitems(session: Session, cat: Catalog, version: Version) -> bool:
    """Return whether any item of `version` has 四级 sub-items."""
    return bool(queries.child_counts(session, cat.id, version.seq, Level.SUBITEM))
