"""What a department's spreadsheet would do to its draft: read and validated whole, then planned in
either scope and listed as the clerk sees it (新增 / 修改 / 撤销 against the draft as it stands).

Nothing here writes: `into_draft` shows these plans and applies the one confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from app.catalog.columns import map_columns
from app.catalog.nodes import Level, NodeState
from app.catalog.sheet import Problem
from app.catalog.validation import ParsedItem, validate
from app.db import draft_store, store
from app.db.models import Catalog, Department, Draft, Version
from app.errors import InvalidInput
from app.formats.sheets import FileProblem, read_table
from app.services.drafts.changes import ChangeCounts
from app.services.imports import pipeline
from app.services.imports.pipeline import ImportResult, ImportScope
from app.services.screening import files as screening_files
from app.versioning.changes import Modified, Moved, Renumbered, Reordered, node_changes

# What a clerk calls each part of an item that an upload changes.
FIELD_LABELS = {
    "name": "名称",
    "description": "服务内容",
    "department": "部门",
    "level": "层级",
    "attrs": "备注",
    "parent": "所属目录",
    "code": "编码",
    "sort_key": "排序",
}


@dataclass(frozen=True, slots=True)
class Listed:
    """One item of a preview's list: its code and name (as it will be; as it was, when withdrawn)."""

    uid: str | None  # None for an item the upload adds: it gets its identity when applied
    code: str
    name: str
    level: Level
    fields: tuple[str, ...] = ()  # for 修改: the labels of what changes

    def as_json(self) -> dict[str, object]:
        """Return the item as the API shows it."""
        shown: dict[str, object] = {"uid": self.uid, "code": self.code, "name": self.name}
        return shown | {"level": int(self.level), "fields": list(self.fields)}


@dataclass(frozen=True, slots=True)
class Effect:
    """What an upload in one scope does to the department's items as the draft has them."""

    scope: ImportScope
    added: tuple[Listed, ...] = ()
    changed: tuple[Listed, ...] = ()
    withdrawn: tuple[Listed, ...] = ()

    @property
    def counts(self) -> ChangeCounts:
        """Return how many items the upload adds, changes and withdraws."""
        return ChangeCounts(len(self.added), len(self.changed), len(self.withdrawn))


@dataclass(frozen=True, slots=True)
class DraftPlan:
    """The changes an upload writes in one scope, against the draft's base.

    `writes`: uid → proposed state (None: withdrawn); `rewritten`: the uids whose change the
    upload replaces (None: every change of the draft, as REPLACE starts the draft over).
    """

    scope: ImportScope
    writes: dict[str, NodeState | None]
    rewritten: frozenset[str] | None
    effect: Effect
    problems: tuple[Problem, ...] = ()


@dataclass
class DraftContent:
    """The draft an upload is planned against: its base and its changes, for one department."""

    draft: Draft
    catalog: Catalog
    department: str
    base: dict[str, store.StoredNode]
    changes: list[draft_store.StoredChange]


@dataclass
class ReadFile:
    """A file read and validated against the draft's base: its report, and its items when valid."""

    result: ImportResult
    items: list[ParsedItem] = field(default_factory=list)
    screened: screening_files.ImportScreening | None = None


def content(session: Session, draft: Draft) -> DraftContent:
    """Return the department's draft with its base and its changes; InvalidInput for another draft."""
    catalog = session.get_one(Catalog, draft.catalog_id)
    seq = session.get_one(Version, draft.base_version_id).seq
    base = store.load_version(session, catalog.id, seq)
    changes = draft_store.load_changes(session, draft.id)
    return DraftContent(draft, catalog, department_of(session, draft), base, changes)


def department_of(session: Session, draft: Draft) -> str:
    """Return the code of the draft's department; InvalidInput for a draft of no department."""
    department = session.get(Department, draft.department_id) if draft.department_id else None
    if department is None:
        raise InvalidInput("只有部门的草稿可以导入表格")
    return department.code


def read_file(session: Session, draft: Draft, data: bytes, filename: str, catalogs_dir: Path) -> ReadFile:
    """Return the file's row-by-row report and, when it has no error, its items and their screening."""
    result = ImportResult()
    try:
        result.table = read_table(data, filename=filename)
    except FileProblem as exc:
        result.problems.extend(exc.problems)
        return ReadFile(result)
    result.problems.extend(result.table.warnings)
    columns, problems = map_columns(result.table, department_fixed=True)
    result.problems.extend(problems)
    if not result.ok:
        return ReadFile(result)
    catalog = session.get_one(Catalog, draft.catalog_id)
    seq = session.get_one(Version, draft.base_version_id).seq
    department = department_of(session, draft)
    ctx = pipeline.import_context(session, catalog, seq, department, catalogs_dir)
    items, problems = validate(result.table, columns, ctx)
    result.problems.extend(problems)
    result.rows = len(items)
    screened = screening_files.screen_parsed(session, items, result.table, columns)
    result.problems.extend(screened.problems)
    return ReadFile(result, items, screened) if result.ok else ReadFile(result)


def plan(target: DraftContent, items: list[ParsedItem], scope: ImportScope) -> DraftPlan:
    """Return what the file's items do to the draft in `scope`.

    ADD_UPDATE plans the file against the draft as it stands (so an item the clerk added or
    withdrew in the browser is recognised), rewrites only the items the file names and keeps
    every other change. REPLACE plans it against the base, as the department's whole list: the
    draft's changes become exactly what turns the base into the file.
    """
    base = {uid: n.state for uid, n in target.base.items()}
    before = _proposed(base, target.changes)
    if scope is ImportScope.ADD_UPDATE:
        known = base | {c.uid: c.proposed for c in target.changes if c.proposed is not None}
        writes, problems = pipeline.plan(items, known, target.department, scope=scope)
        after = before | {uid: s for uid, s in writes.items() if s is not None}
        rewritten: frozenset[str] | None = frozenset(writes)
    else:
        writes, problems = pipeline.plan(items, base, target.department, scope=scope)
        after = _proposed(base, [], writes)
        rewritten = None
    existing = set(base) | {c.uid for c in target.changes}
    effect = _effect(scope, _own(before, target.department), _own(after, target.department), existing)
    return DraftPlan(scope, writes, rewritten, effect, tuple(problems))


def _proposed(
    base: dict[str, NodeState],
    changes: list[draft_store.StoredChange],
    writes: dict[str, NodeState | None] | None = None,
) -> dict[str, NodeState]:
    """Return the catalog as proposed: `base` with the changes (or `writes`) laid over it."""
    states = dict(base)
    overlay = writes if writes is not None else {c.uid: c.proposed for c in changes}
    for uid, state in overlay.items():
        if state is None:
            states.pop(uid, None)
        else:
            states[uid] = state
    return states


def _own(states: dict[str, NodeState], department: str) -> dict[str, NodeState]:
    return {u: s for u, s in states.items() if s.level >= Level.ITEM and s.department == department}


def _effect(
    scope: ImportScope, before: dict[str, NodeState], after: dict[str, NodeState], existing: set[str]
) -> Effect:
    added = [_listed(s, known=u in existing) for u, s in after.items() if u not in before]
    withdrawn = [_listed(s) for u, s in before.items() if u not in after]
    changed = [
        _listed(after[u], _fields(s, after[u])) for u, s in before.items() if u in after and after[u] != s
    ]
    return Effect(scope, *(tuple(sorted(lst, key=lambda it: it.code)) for lst in (added, changed, withdrawn)))


def _listed(state: NodeState, fields: tuple[str, ...] = (), *, known: bool = True) -> Listed:
    return Listed(state.uid if known else None, state.code, state.name, state.level, fields)


def _fields(old: NodeState, new: NodeState) -> tuple[str, ...]:
    """Return the labels of what differs between `old` and `new`, in the order a clerk reads an item."""
    names: list[str] = []
    for change in node_changes(old, new):
        match change:
            case Moved():
                names += ["parent", "code"] if change.old_code != change.new_code else ["parent"]
            case Renumbered():
                names.append("code")
            case Reordered() if change.shown:
                names.append("sort_key")
            case Modified():
                names += [f.field for f in change.fields]
    order = list(FIELD_LABELS)
    return tuple(FIELD_LABELS[n] for n in sorted(set(names), key=order.index))
