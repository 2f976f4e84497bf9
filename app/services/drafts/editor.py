"""The department editor's view of a draft: its department's items under the classes and types.

Read only: composed from drafts.open_draft, the base version's upper levels, the department's
items in the base and the draft's stored screening findings. Every write goes through
app.services.draft_items / editor_import / review, which check who may do what.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from app.catalog.nodes import Level, NodeState
from app.db import queries
from app.db.models import Catalog, Department, Draft, User, Version
from app.screening import Finding, ScreenItem, Severity
from app.services import access
from app.services.drafts import lifecycle as drafts
from app.services.drafts.editor_tree import EditorClass, EditorItem, EditorType, Mark, marks_of
from app.services.review.queue import CommentView, comments_of
from app.services.screening import drafts as screening
from app.services.screening.drafts import ItemFinding
from app.workflow.states import FINANCE, DraftAction, DraftState, Role, allowed_actions


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts per kind of change and of findings: the always-visible head of the editor."""

    added: int = 0
    edited: int = 0
    moved: int = 0
    withdrawn: int = 0
    blocking: int = 0
    warnings: int = 0

    @property
    def changes(self) -> int:
        """Return the number of changed items."""
        return self.added + self.edited + self.moved + self.withdrawn


@dataclass(frozen=True, slots=True)
class EditorView:
    draft: Draft
    catalog: Catalog
    base: Version
    department: str | None
    classes: tuple[EditorClass, ...]
    summary: Summary
    actions: frozenset[DraftAction] = field(default_factory=frozenset)
    comments: Mapping[str, tuple[CommentView, ...]] = field(default_factory=dict)  # per item uid
    draft_comments: tuple[CommentView, ...] = ()  # on the whole draft
    other_comments: tuple[CommentView, ...] = ()  # on a node the tree does not show
    viewer_is_finance: bool = False

    @property
    def deletable(self) -> bool:
        """Return whether the draft may be deleted: an editable draft that proposes and carries nothing."""
        said = self.draft_comments or self.other_comments or self.comments
        return self.editable and self.summary.changes == 0 and not said

    @property
    def item_comment_count(self) -> int:
        """Return how many comments the reviewers left on the items the tree shows."""
        return sum(len(cs) for cs in self.comments.values())

    def comments_on(self, uid: str) -> tuple[CommentView, ...]:
        """Return the reviewers' comments on the item `uid`, oldest first."""
        return self.comments.get(uid, ())

    @property
    def state(self) -> DraftState:
        """Return the draft's state."""
        return DraftState(self.draft.status)

    @property
    def editable(self) -> bool:
        """Return whether the viewer may change the draft's items now."""
        return DraftAction.EDIT in self.actions

    @property
    def types(self) -> list[EditorType]:
        """Return every type, in tree order (the move picker's choices)."""
        return [t for c in self.classes for t in c.types]

    def items(self) -> list[EditorItem]:
        """Return every item (三级, each followed by its 四级 sub-items), in tree order."""
        return [x for t in self.types for i in t.items for x in (i, *i.children)]

    def item(self, uid: str) -> EditorItem | None:
        """Return the item `uid` of the tree, or None."""
        return next((i for i in self.items() if i.state.uid == uid), None)


def editor_view(session: Session, draft_id: int, *, actor: User) -> EditorView:
    """Return the draft as its editor sees it; NotFound when `actor` may not see it."""
    opened = drafts.open_draft(session, draft_id, actor=actor)
    draft, seq = opened.draft, opened.base.seq
    catalog = session.get_one(Catalog, draft.catalog_id)
    items = _base_items(session, draft, seq)
    marks: dict[str, tuple[Mark, ...]] = {}
    bases: dict[str, NodeState | None] = dict(items)
    for change in opened.changes:
        state = change.proposed or change.base
        if state is None or state.level < Level.ITEM:
            continue
        items[change.uid], bases[change.uid] = state, change.base
        marks[change.uid] = marks_of(change.base, change.proposed)
    found = _findings(session, draft_id, actor, {u for u, m in marks.items() if Mark.WITHDRAWN not in m})
    tree = _tree(session, catalog.id, seq, items, bases, marks, found)
    department = session.get(Department, draft.department_id) if draft.department_id else None
    role = access.role_of(actor)
    shown = {x.state.uid for c in tree for t in c.types for i in t.items for x in (i, *i.children)}
    per_item: dict[str, list[CommentView]] = defaultdict(list)
    on_draft: list[CommentView] = []
    elsewhere: list[CommentView] = []
    for c in comments_of(session, draft.id, actor=actor):
        if c.uid is None:
            on_draft.append(c)
        elif c.uid in shown:
            per_item[c.uid].append(c)
        else:
            elsewhere.append(c)
    return EditorView(
        draft,
        catalog,
        opened.base,
        department.name if department else None,
        tree,
        _summary(tree),
        frozenset(allowed_actions(DraftState(draft.status), role)),
        {u: tuple(cs) for u, cs in per_item.items()},
        tuple(on_draft),
        tuple(elsewhere),
        role in FINANCE,
    )


def screen_text(
    session: Session, draft_id: int, *, name: str, description: str, actor: User
) -> list[Finding]:
    """Return the findings the active rules have for a name and 服务内容 being typed; writes nothing."""
    access.visible_draft(session, draft_id, actor)
    _, found = screening.screen_texts(session, [ScreenItem(name, description)])
    return found[0]


def blocking_findings(view: EditorView) -> list[tuple[EditorItem, ItemFinding]]:
    """Return the blocking findings of the view's items, in tree order (the submit confirmation's list)."""
    return [(i, f) for i in view.items() if not i.withdrawn for f in i.findings if f.blocks]


def creatable_catalogs(session: Session, actor: User) -> list[Catalog]:
    """Return the catalogs `actor` may open a draft on from the desk: a department editor's jurisdiction's."""
    if access.role_of(actor) is not Role.DEPT_EDITOR or actor.department_id is None:
        return []
    return [
        c
        for c, _ in queries.catalogs_with_jurisdiction(session)
        if c.jurisdiction_id == actor.jurisdiction_id
    ]


# --- building the tree --------------------------------------------------------------------


def _base_items(session: Session, draft: Draft, seq: int) -> dict[str, NodeState]:
    """Return the department's 三级 and 四级 items in the base version (none for a finance draft)."""
    if draft.department_id is None:
        return {}
    flt = queries.NodeFilter(department_id=draft.department_id)
    return {r.uid: _state(r) for r in queries.iter_nodes(session, draft.catalog_id, seq, flt)}


def _state(r: queries.NodeRow) -> NodeState:
    return NodeState(
        r.uid,
        r.parent_uid,
        Level(r.level),
        r.code,
        r.name,
        r.description,
        r.department_code,
        r.sort_key,
        r.attrs,
    )


def _findings(
    session: Session, draft_id: int, actor: User, live: set[str]
) -> dict[str, tuple[ItemFinding, ...]]:
    by_uid: dict[str, list[ItemFinding]] = defaultdict(list)
    for f in screening.draft_findings(session, draft_id, actor=actor):
        if f.uid in live:
            by_uid[f.uid].append(f)
    return {u: tuple(fs) for u, fs in by_uid.items()}


def _tree(
    session: Session,
    catalog_id: int,
    seq: int,
    items: dict[str, NodeState],
    bases: dict[str, NodeState | None],
    marks: dict[str, tuple[Mark, ...]],
    found: dict[str, tuple[ItemFinding, ...]],
) -> tuple[EditorClass, ...]:
    subs: dict[str, list[EditorItem]] = defaultdict(list)
    for uid, state in items.items():
        if state.level is Level.SUBITEM and state.parent is not None:
            subs[state.parent].append(
                EditorItem(state, bases.get(uid), marks.get(uid, ()), found.get(uid, ()))
            )
    by_type: dict[str, list[EditorItem]] = defaultdict(list)
    for uid, state in items.items():
        if state.level is Level.ITEM and state.parent is not None:
            children = _ordered(subs.get(uid, []))
            item = EditorItem(state, bases.get(uid), marks.get(uid, ()), found.get(uid, ()), children)
            by_type[state.parent].append(item)
    classes = queries.level_nodes(session, catalog_id, seq, int(Level.CLASS))
    counts = queries.child_counts(session, catalog_id, seq, int(Level.ITEM))
    own = Counter(b.parent for b in bases.values() if b is not None and b.level is Level.ITEM)
    types_of: dict[str, list[queries.NodeRow]] = defaultdict(list)
    for t in queries.level_nodes(session, catalog_id, seq, int(Level.TYPE)):
        if t.parent_uid is not None:
            types_of[t.parent_uid].append(t)
    return tuple(
        EditorClass(
            c.uid,
            c.code,
            c.name,
            tuple(
                EditorType(
                    t.uid,
                    t.code,
                    t.name,
                    c.name,
                    _ordered(by_type.get(t.uid, [])),
                    counts.get(t.node_id, 0) > own.get(t.uid, 0),
                )
                for t in types_of[c.uid]
            ),
        )
        for c in classes
    )


def _ordered(items: Sequence[EditorItem]) -> tuple[EditorItem, ...]:
    return tuple(sorted(items, key=lambda i: (i.state.sort_key, i.state.code)))


def _summary(tree: Sequence[EditorClass]) -> Summary:
    items = [x for c in tree for t in c.types for i in t.items for x in (i, *i.children)]
    live = [f for i in items if not i.withdrawn for f in i.findings]
    return Summary(
        added=sum(Mark.ADDED in i.marks for i in items),
        edited=sum(
            bool({Mark.EDITED, Mark.ORDERED} & set(i.marks)) and Mark.MOVED not in i.marks for i in items
        ),
        moved=sum(Mark.MOVED in i.marks for i in items),
        withdrawn=sum(i.withdrawn for i in items),
        blocking=sum(f.blocks for f in live),
        warnings=sum(f.severity is Severity.WARN for f in live),
    )
