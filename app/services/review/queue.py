"""Who may review a draft, the reviewer's queue, and what both review pages share: decisions, comments."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app.catalog.nodes import NodeState
from app.db.models import Draft, User
from app.services import access
from app.services.review import desk as desks
from app.services.review import workflow as review
from app.services.screening import drafts as screening
from app.services.screening.drafts import ItemFinding
from app.workflow.states import DraftAction, DraftState, allowed_actions

DECISIONS = (DraftAction.RETURN, DraftAction.APPROVE)


def reviewer_draft(session: Session, draft_id: int, *, actor: User) -> Draft:
    """Return the draft for a finance reviewer; NotFound if unseen, Forbidden for any other role."""
    draft = access.visible_draft(session, draft_id, actor)
    access.require_finance(actor)
    return draft


def queue(session: Session, *, actor: User) -> desks.Desk:
    """Return the drafts waiting for review and for merging in the reviewer's jurisdiction."""
    access.require_finance(actor)
    return desks.desk(session, actor)


@dataclass(frozen=True, slots=True)
class CommentView:
    id: int
    author: str
    body: str
    at: datetime | None
    uid: str | None


@dataclass(frozen=True, slots=True)
class Decision:
    """The draft's state and the decisions the viewer may take on it (drawn from allowed_actions)."""

    draft_id: int
    state: DraftState
    lock: int
    return_reason: str | None
    actions: list[DraftAction]

    @property
    def can_merge(self) -> bool:
        """Return whether the merge page has something to do."""
        return self.state is DraftState.APPROVED


def decision(session: Session, draft_id: int, *, actor: User) -> Decision:
    """Return the draft's state and the review decisions `actor` may take now."""
    draft = reviewer_draft(session, draft_id, actor=actor)
    state = DraftState(draft.status)
    actions = [a for a in allowed_actions(state, access.role_of(actor)) if a in DECISIONS]
    return Decision(draft.id, state, draft.lock_version, draft.return_reason, actions)


def comments_of(session: Session, draft_id: int, *, actor: User) -> list[CommentView]:
    """Return every comment of the draft, oldest first."""
    return [
        CommentView(c.id, name, c.body, c.created_at, uid)
        for c, name, uid in review.comments(session, draft_id, actor=actor)
    ]


def findings_of(session: Session, draft_id: int, uid: str, *, actor: User) -> list[ItemFinding]:
    """Return the screening findings of one item of the draft."""
    reviewer_draft(session, draft_id, actor=actor)
    return [f for f in screening.draft_findings(session, draft_id, actor=actor) if f.uid == uid]


def label(state: NodeState | None) -> str:
    """Return a node as a reviewer reads it: code and name."""
    return "（无）" if state is None else f"{state.code} {state.name}"


def value_text(value: object) -> str:
    """Return a field's value as a reviewer reads it: empty, JSON for a mapping, else the text."""
    if value is None or value == "":
        return "（空）"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)
