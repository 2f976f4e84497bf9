"""Drafts: proposed changes on top of a base version, stored as one change per touched node."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.catalog.nodes import NodeState
from app.db import draft_store, queries, store
from app.db.models import AuditEvent, Catalog, Comment, Draft, DraftChange, Version
from app.errors import Conflict, Forbidden, InvalidInput, InvalidTransition, NotFound
from app.services import access, audit
from app.services.access import Actor
from app.services.catalogs import browse
from app.workflow.states import DRAFT_ROLES, DraftAction, Role


@dataclass(frozen=True, slots=True)
class KindCounts:
    """How many of a draft's changes add, edit, move and withdraw a node (its stored kinds)."""

    add: int = 0
    update: int = 0
    move: int = 0
    delete: int = 0

    @property
    def total(self) -> int:
        """Return the number of changed nodes."""
        return self.add + self.update + self.move + self.delete


PAGE = 50  # changes on a draft's first screen (open_draft with limit=PAGE)


@dataclass(frozen=True, slots=True)
class DraftView:
    """A draft opened: its base, its counts by kind, and its changes (all, or one page of them).

    `next_after` is None when `changes` ends the list; else pass it as `after` for the next page.
    """

    draft: Draft
    base: Version
    changes: list[draft_store.StoredChange]
    counts: KindCounts = KindCounts()
    next_after: int | None = None


def latest_version(session: Session, catalog: Catalog) -> Version:
    """Return the catalog's newest version, whatever its status (a new draft's base)."""
    found = session.scalars(
        select(Version).where(Version.catalog_id == catalog.id).order_by(Version.seq.desc()).limit(1)
    ).first()
    if found is None:
        raise NotFound(f"目录“{catalog.name}”还没有任何版本")
    return found


def new_draft(
    session: Session, catalog: Catalog, *, actor: Actor, department_id: int | None, title: str
) -> tuple[Draft, Version]:
    """Add a draft on the catalog's newest version (nothing is copied) and return it with its base."""
    base = latest_version(session, catalog)
    draft = Draft(
        catalog_id=catalog.id,
        base_version_id=base.id,
        department_id=department_id,
        title=title,
        created_by_id=access.user_id(actor),
    )
    session.add(draft)
    session.flush()
    return draft, base


def create_draft(
    session: Session,
    slug: str,
    *,
    actor: Actor,
    department: str | None = None,
    title: str = "",
    request_token: str | None = None,
) -> Draft:
    """Open a draft on the catalog's newest version for `department` (code) or the finance bureau.

    `request_token` names the form that asks (新建草稿): asked again with the same token (a double
    click, a reload), the draft it made is returned and nothing new is created.
    """
    if request_token is not None:
        made = _made_by_request(session, request_token, actor)
        if made is not None:
            return made
    catalog = browse.catalog(session, slug)
    access.require_same_jurisdiction(actor, catalog)
    if access.role_of(actor) is Role.DEPT_EDITOR:
        own = access.department_code(session, actor)
        if department not in (None, own):
            raise Forbidden("部门经办人只能为本部门新建草稿")
        department = own
    elif access.role_of(actor) not in DRAFT_ROLES[DraftAction.EDIT]:
        raise Forbidden(f"{access.role_of(actor).label}不能新建草稿")
    department_id = None
    if department is not None:
        dept = queries.department_by_code(session, catalog.jurisdiction_id, department)
        if dept is None:
            raise NotFound(f"没有部门编码“{department}”")
        department_id = dept.id
    draft, base = new_draft(session, catalog, actor=actor, department_id=department_id, title=title)
    draft.request_token = request_token
    audit.record(
        session,
        actor=actor,
        action="draft.create",
        object_type="draft",
        object_id=draft.id,
        summary={"catalog": slug, "base": base.seq, "department": department},
    )
    try:
        session.commit()
    except IntegrityError:  # the same form, sent twice at once: the other request made it
        session.rollback()
        made = None if request_token is None else _made_by_request(session, request_token, actor)
        if made is None:
            raise
        return made
    return draft


def _made_by_request(session: Session, token: str, actor: Actor) -> Draft | None:
    """Return the draft the form `token` made, if `actor` may see it."""
    draft = session.scalars(select(Draft).where(Draft.request_token == token)).first()
    return None if draft is None else access.visible_draft(session, draft.id, actor)


def delete_empty(session: Session, draft_id: int, *, actor: Actor) -> None:
    """Delete a draft that proposes nothing and carries no comment (one made by mistake), audit, commit.

    A draft with any change or comment is refused (withdraw it instead): nothing anyone wrote is lost.
    """
    draft = access.visible_draft(session, draft_id, actor)
    access.check_action(draft, DraftAction.EDIT, actor)  # its editors, while it can be edited
    if session.scalars(select(DraftChange.id).where(DraftChange.draft_id == draft.id).limit(1)).first():
        raise InvalidTransition("草稿中已有修改，不能删除；如不再需要，请撤回草稿")
    if session.scalars(select(Comment.id).where(Comment.draft_id == draft.id).limit(1)).first() is not None:
        raise InvalidTransition("草稿中已有审核意见，不能删除；如不再需要，请撤回草稿")
    audit.record(
        session,
        actor=actor,
        action="draft.delete",
        object_type="draft",
        object_id=draft.id,
        summary={"title": draft.title, "department_id": draft.department_id},
    )
    session.delete(draft)
    session.commit()


def get_draft(session: Session, draft_id: int, *, actor: Actor) -> Draft:
    """Return draft `draft_id` if `actor` may see it, or raise NotFound."""
    return access.visible_draft(session, draft_id, actor)


def open_draft(
    session: Session,
    draft_id: int,
    *,
    actor: Actor,
    limit: int | None = None,
    after: int | None = None,
) -> DraftView:
    """Return the draft with its base version, its counts by kind and its changes.

    With `limit`, one page: the counts come from SQL and only `limit` changes after change
    `after` are decoded, so a draft of any size opens in the same few milliseconds. Without,
    every change (reading only what the draft touched, never the catalog).
    """
    draft = get_draft(session, draft_id, actor=actor)
    base = session.get_one(Version, draft.base_version_id)
    if limit is None:
        changes = draft_store.load_changes(session, draft.id)
        return DraftView(draft, base, changes, _counts(Counter(c.kind for c in changes)))
    if limit < 1:
        raise InvalidInput("每页条数至少为 1")
    rows = queries.draft_change_rows(session, draft.id, after=after, limit=limit + 1)
    page = rows[:limit]
    bases = draft_store.revision_states(session, [r[3] for r in page if r[3] is not None])
    changes = [
        draft_store.StoredChange(
            node_id,
            uid,
            revision_id,
            None if revision_id is None else bases.get(revision_id),
            draft_store.state_from_json(uid, fields),
        )
        for _, node_id, uid, revision_id, fields in page
    ]
    next_after = page[-1][0] if len(rows) > limit else None
    return DraftView(
        draft, base, changes, _counts(queries.draft_change_counts(session, draft.id)), next_after
    )


def _counts(by_kind: Mapping[str, int]) -> KindCounts:
    return KindCounts(**{kind: by_kind.get(kind, 0) for kind in ("add", "update", "move", "delete")})


# --- editing one node at a time -------------------------------------------------------------


@dataclass
class _Edit:
    """One edit of a draft: the locked draft, its base seq and the current state of the nodes it reads."""

    session: Session
    draft: Draft
    base_seq: int
    actor: Actor

    def node(self, uid: str) -> tuple[int, store.StoredNode | None, NodeState | None]:
        """Return (node id, base node, state in the draft) of `uid`, or raise NotFound."""
        base = store.load_nodes(self.session, self.draft.catalog_id, self.base_seq, uids=[uid]).get(uid)
        change = change_row(self.session, self.draft.id, uid)
        if change is not None:
            return change.node_id, base, draft_store.state_from_json(uid, change.fields)
        if base is None:
            raise NotFound("草稿中没有这个目录条目")
        return base.node_id, base, base.state

    def children(self, parent: str) -> list[NodeState]:
        """Return the children of `parent` as the draft has them, in order."""
        base = store.load_nodes(self.session, self.draft.catalog_id, self.base_seq, parent_uids=[parent])
        states = {u: n.state for u, n in base.items()}
        for c in draft_store.load_changes(self.session, self.draft.id):
            if c.proposed is not None and c.proposed.parent == parent:
                states[c.uid] = c.proposed
            elif c.uid in states:
                del states[c.uid]
        return sorted(states.values(), key=lambda s: (s.sort_key, s.code))

    def taken_codes(self, parent: str) -> set[str]:
        """Return every code used under `parent` in the base or the draft (a code is never reused)."""
        base = store.load_nodes(self.session, self.draft.catalog_id, self.base_seq, parent_uids=[parent])
        return {n.state.code for n in base.values()} | {s.code for s in self.children(parent)}

    def put(self, node_id: int, uid: str, base: store.StoredNode | None, proposed: NodeState | None) -> None:
        """Record `proposed` as the draft's state of the node (dropping the change if it equals the base)."""
        row = change_row(self.session, self.draft.id, uid)
        unchanged = (base is None and proposed is None) or (base is not None and base.state == proposed)
        if unchanged:
            if row is not None:
                self.session.delete(row)
            return
        kind = draft_store.kind_of(base.state if base else None, proposed)
        if row is None:
            row = DraftChange(
                draft_id=self.draft.id, node_id=node_id, base_revision_id=base.revision_id if base else None
            )
            self.session.add(row)
        row.kind, row.fields = kind, draft_store.state_to_json(proposed)
        row.updated_at = datetime.now(UTC)

    def screen(self, uid: str) -> None:
        """Screen the node as the draft now has it, so its findings show beside it (same transaction)."""
        from app.services.screening import drafts as screening

        self.session.flush()
        screening.screen_draft_nodes(self.session, self.draft, [uid])

    def done(self, action: str, uid: str, before: NodeState | None, after: NodeState | None) -> None:
        """Audit the edit and commit (the lock version advanced when the edit began)."""
        self.draft.updated_at = datetime.now(UTC)
        audit.record(
            self.session,
            actor=self.actor,
            action=action,
            object_type="draft",
            object_id=self.draft.id,
            summary={"uid": uid, "before": _brief(before), "after": _brief(after)},
        )
        self.session.commit()


def _brief(state: NodeState | None) -> dict[str, object] | None:
    if state is None:
        return None
    return {
        "code": state.code,
        "name": state.name,
        "parent": state.parent,
        "description": state.description[:200],
    }


def change_row(session: Session, draft_id: int, uid: str) -> DraftChange | None:
    """Return the draft's change row for the node `uid`, or None when the draft leaves it alone."""
    from app.db.models import Node

    stmt = (
        select(DraftChange)
        .join(Node, Node.id == DraftChange.node_id)
        .where(DraftChange.draft_id == draft_id, Node.uid == uid)
    )
    return session.scalars(stmt).first()


def begin_edit(session: Session, draft_id: int, *, lock: int | None, actor: Actor) -> _Edit:
    """Return an edit of the draft after checking who may edit it, its state and that `lock` is current.

    The lock version advances here, atomically, as the edit's first write: a concurrent edit
    based on the same version fails this compare-and-swap and gets a Conflict.
    """
    draft = access.visible_draft(session, draft_id, actor)
    status = access.check_action(draft, DraftAction.EDIT, actor)  # a returned draft reopens
    if not draft_store.bump_lock(session, draft_id, lock):
        session.rollback()
        current = session.get_one(Draft, draft_id, populate_existing=True).lock_version
        raise Conflict(
            f"草稿已被他人修改（您看到的是第 {lock} 次修改，现在是第 {current} 次），请刷新后重试",
            details=changes_since(session, draft_id, lock or 0),
        )
    draft = session.get_one(Draft, draft_id, populate_existing=True)
    draft.status = status
    base_seq = session.get_one(Version, draft.base_version_id).seq
    return _Edit(session, draft, base_seq, actor)


def changes_since(session: Session, draft_id: int, lock: int) -> list[dict[str, object]]:
    """Return the edits made to a draft after the client's `lock`: what a 409 tells it changed."""
    events = session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.object_type == "draft",
            AuditEvent.object_id == str(draft_id),
            AuditEvent.action.in_(access.EDIT_ACTIONS),
        )
        .order_by(AuditEvent.id)
    ).all()
    later = events[max(lock - 1, 0) :]  # every edit bumps the lock by one, from 1
    return [{"action": e.action, "by": e.actor_name, "at": e.at.isoformat(), **e.summary} for e in later]
