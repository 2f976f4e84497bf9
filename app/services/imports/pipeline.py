"""Importing a department's spreadsheet: read, validate whole, then write one draft or nothing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

from sqlalchemy.orm import Session

from app.catalog.codes import next_child_code
from app.catalog.columns import map_columns
from app.catalog.nodes import Level, NodeState
from app.catalog.sheet import Problem, RawTable, Severity
from app.catalog.text import name_key
from app.catalog.validation import ClassRef, ImportContext, ParsedItem, TypeRef, validate
from app.db import queries, store
from app.db.models import Catalog
from app.errors import NotFound
from app.formats.frameworks import load_framework
from app.formats.sheets import MAX_UPLOAD_BYTES, FileProblem, collector_paused, read_table
from app.services import audit
from app.services.access import Actor
from app.services.catalogs import browse
from app.services.catalogs.authoring import new_uid
from app.services.drafts import changes as draft_changes
from app.services.drafts import lifecycle as drafts
from app.services.screening import files as screening_files


class ImportMode(StrEnum):
    WRITE = "write"  # a valid file becomes a draft
    DRY_RUN = "dry_run"  # report what would change, write nothing


class ImportScope(StrEnum):
    """What a file is: rows to add or update (the default), or the whole list of its scope."""

    ADD_UPDATE = "add_update"  # rows add or update items; items the file leaves out stay as they are
    REPLACE = "replace"  # the file is the whole list: items of its scope that it leaves out are withdrawn

    @property
    def label(self) -> str:
        """Return the choice as a clerk reads it."""
        return "只新增和修改" if self is ImportScope.ADD_UPDATE else "替换本部门全部条目"


@dataclass(frozen=True, slots=True)
class ImportRequest:
    catalog: str
    data: bytes
    filename: str = ""
    department: str | None = None  # department code
    sheet: str | None = None
    declared_encoding: str | None = None
    mode: ImportMode = ImportMode.WRITE
    scope: ImportScope = ImportScope.ADD_UPDATE
    max_bytes: int = MAX_UPLOAD_BYTES  # the API's cap; the command line, run on the server, may raise it


@dataclass
class ImportResult:
    problems: list[Problem] = field(default_factory=list)
    counts: draft_changes.ChangeCounts = field(default_factory=draft_changes.ChangeCounts)
    draft_id: int | None = None
    table: RawTable | None = None
    rows: int = 0

    @property
    def ok(self) -> bool:
        """Return whether the file has no error (warnings allowed)."""
        return not any(p.severity is Severity.ERROR for p in self.problems)


def import_file(
    session: Session, request: ImportRequest, *, actor: Actor, catalogs_dir: Path
) -> ImportResult:
    """Validate the whole file; if it is valid (and not a dry run) write it as one draft, in one commit."""
    # A whole file makes millions of objects that live until the end, and few cycles: the
    # collector would walk them again and again (about a fifth of a 650,000-row import).
    with collector_paused():
        return _import(session, request, actor=actor, catalogs_dir=catalogs_dir)


def _import(session: Session, request: ImportRequest, *, actor: Actor, catalogs_dir: Path) -> ImportResult:
    catalog = browse.catalog(session, request.catalog)
    department_id = _department_id(session, catalog, request.department)
    base_version = drafts.latest_version(session, catalog)
    result = ImportResult()
    try:
        result.table = read_table(
            request.data,
            filename=request.filename,
            sheet=request.sheet,
            declared_encoding=request.declared_encoding,
            max_bytes=request.max_bytes,
        )
    except FileProblem as exc:
        result.problems.extend(exc.problems)
        return result
    result.problems.extend(result.table.warnings)
    columns, problems = map_columns(result.table, department_fixed=request.department is not None)
    result.problems.extend(problems)
    if not result.ok:
        return result
    base = store.load_version(session, catalog.id, base_version.seq)
    ctx = import_context(session, catalog, base_version.seq, request.department, catalogs_dir)
    items, problems = validate(result.table, columns, ctx)
    result.problems.extend(problems)
    result.rows = len(items)
    screened = screening_files.screen_parsed(session, items, result.table, columns)
    result.problems.extend(screened.problems)  # warnings, block findings too: the gate is at submit
    if not result.ok:
        return result
    states = {uid: n.state for uid, n in base.items()}
    desired, problems = plan(items, states, request.department, scope=request.scope)
    result.problems.extend(problems)
    if not result.ok:
        return result
    pairs = {u: (base[u].state if u in base else None, s) for u, s in desired.items()}
    result.counts = draft_changes.count(pairs)
    if request.mode is ImportMode.DRY_RUN:
        return result
    draft, _ = drafts.new_draft(
        session,
        catalog,
        actor=actor,
        department_id=department_id,
        title=f"导入：{request.filename or '表格'}",
    )
    result.counts = draft_changes.write_changes(session, draft, desired, base)
    screening_files.store_import_findings(session, draft, desired, base, screened)
    result.draft_id = draft.id
    audit.record(
        session,
        actor=actor,
        action="draft.import",
        object_type="draft",
        object_id=draft.id,
        summary={
            "file": request.filename,
            "scope": request.scope.value,
            "rows": result.rows,
            "added": result.counts.added,
            "changed": result.counts.changed,
            "withdrawn": result.counts.withdrawn,
        },
    )
    session.commit()
    return result


REPORT_ALL_ROWS_UP_TO = 20_000


def report_table(result: ImportResult) -> RawTable | None:
    """Return the rows the XLSX report shows: all, or for a very large file only those with problems."""
    table = result.table
    if table is None or len(table.rows) <= REPORT_ALL_ROWS_UP_TO:
        return table
    bad = {p.row for p in result.problems}
    return replace(table, rows=tuple(r for r in table.rows if r.number in bad))


def _department_id(session: Session, catalog: Catalog, code: str | None) -> int | None:
    if code is None:
        return None
    dept = queries.department_by_code(session, catalog.jurisdiction_id, code)
    if dept is None:
        raise NotFound(f"没有部门编码“{code}”")
    return dept.id


def import_context(
    session: Session, catalog: Catalog, seq: int, department: str | None, catalogs_dir: Path
) -> ImportContext:
    """Return what validating a file against version `seq` of the catalog needs to know."""
    framework = load_framework(catalogs_dir, catalog.framework)
    variants = {c.code: c.name_variants for c in framework.classes}
    classes = tuple(
        ClassRef(n.uid, n.code, (n.name, *variants.get(n.code, ())))
        for n in queries.level_nodes(session, catalog.id, seq, Level.CLASS)
    )
    by_id = {n.node_id: n.uid for n in queries.level_nodes(session, catalog.id, seq, Level.CLASS)}
    types = tuple(
        TypeRef(n.uid, n.code, n.name, by_id[n.parent_id])
        for n in queries.level_nodes(session, catalog.id, seq, Level.TYPE)
        if n.parent_id in by_id
    )
    departments = {d.code: d.name for d in queries.departments(session, catalog.jurisdiction_id)}
    return ImportContext(classes=classes, types=types, departments=departments, department=department)


def plan(
    items: list[ParsedItem],
    states: Mapping[str, NodeState],
    department: str | None,
    *,
    scope: ImportScope = ImportScope.ADD_UPDATE,
) -> tuple[dict[str, NodeState | None], list[Problem]]:
    """Return the changes that make the catalog `states` hold the file's items (uid → state, None: withdrawn).

    The file's scope is one department, or every department. With REPLACE the file is the
    whole list of its scope: items of the scope that it leaves out are withdrawn; with
    ADD_UPDATE they stay as they are. An item is recognised by its uid, else its code, else
    its name under the same parent and department.
    """
    return _Planner(items, states, department, scope).run()


@dataclass
class _Planner:
    items: list[ParsedItem]
    catalog: Mapping[str, NodeState]  # the catalog the file is planned against
    department: str | None
    scope: ImportScope
    problems: list[Problem] = field(default_factory=list)
    result: dict[str, NodeState] = field(default_factory=dict)
    uid_of_row: dict[int, str] = field(default_factory=dict)
    taken: dict[str, set[str]] = field(default_factory=dict)  # parent uid → codes in use
    last_key: dict[str, int] = field(default_factory=dict)  # parent uid → its last child's sort key

    def run(self) -> tuple[dict[str, NodeState | None], list[Problem]]:
        scope = [s for s in self.catalog.values() if s.level >= Level.ITEM and self._in_scope(s)]
        by_code = {s.code: s.uid for s in scope}
        by_name = {(s.parent, s.department, name_key(s.name)): s.uid for s in scope}
        for s in self.catalog.values():
            if s.parent is not None:  # codes in use stay in use: never two nodes with one code
                self.taken.setdefault(s.parent, set()).add(s.code)
                self.last_key[s.parent] = max(self.last_key.get(s.parent, 0), s.sort_key)
        in_scope = {s.uid for s in scope}
        for it in self.items:
            parent = it.type.uid if it.parent_row is None else self.uid_of_row.get(it.parent_row)
            if parent is None:
                continue
            uid = self._identify(it, parent, by_code, by_name, in_scope)
            self.uid_of_row[it.row] = uid
            self.result[uid] = self._state(it, uid, parent)
        changes: dict[str, NodeState | None] = dict(self.result)
        if self.scope is ImportScope.REPLACE:
            changes.update({uid: None for uid in in_scope if uid not in self.result})
        return changes, self.problems

    def _in_scope(self, s: NodeState) -> bool:
        return self.department is None or s.department == self.department

    def _identify(
        self,
        it: ParsedItem,
        parent: str,
        by_code: dict[str, str],
        by_name: dict[tuple[str | None, str | None, str], str],
        in_scope: set[str],
    ) -> str:
        if it.uid and it.uid in in_scope:
            return it.uid
        if it.code and it.code in by_code:
            return by_code[it.code]
        found = by_name.get((parent, it.department, name_key(it.name))) if by_name else None
        if found is not None and found not in self.result:
            return found
        if it.uid and it.uid not in self.catalog:
            return it.uid  # a uid from another catalog's export keeps its identity here
        return new_uid()

    def _state(self, it: ParsedItem, uid: str, parent: str) -> NodeState:
        old = self.catalog.get(uid)
        attrs = dict(old.attrs) if old else {}
        attrs.pop("note", None)
        if it.note:
            attrs["note"] = it.note
        code = self._code(it, parent, old)
        sort_key = old.sort_key if old and old.parent == parent else self._sort_key(it, parent)
        return NodeState(uid, parent, it.level, code, it.name, it.description, it.department, sort_key, attrs)

    def _sort_key(self, it: ParsedItem, parent: str) -> int:
        if self.scope is ImportScope.REPLACE:
            return it.row * 10  # the file is the whole list: its order is the order
        key = self.last_key.get(parent, 0) + 10  # a row added to a list goes after what is there
        self.last_key[parent] = key
        return key

    def _code(self, it: ParsedItem, parent: str, old: NodeState | None) -> str:
        taken = self.taken.setdefault(parent, set())
        if it.code and (
            it.code not in taken or (old is not None and old.code == it.code and old.parent == parent)
        ):
            taken.add(it.code)
            return it.code
        if old is not None and old.parent == parent and not it.code:
            return old.code
        parent_code = self._parent_code(parent)
        code = next_child_code(parent_code, it.level, taken)
        taken.add(code)
        if it.code:
            self.problems.append(
                Problem(
                    f"目录编码“{it.code}”已被其他目录使用，将改用 {code}",
                    row=it.row,
                    value=it.code,
                    severity=Severity.WARNING,
                )
            )
        return code

    def _parent_code(self, parent: str) -> str:
        if parent in self.result:
            return self.result[parent].code
        return self.catalog[parent].code
