"""Sending drafts through review: submit, return (with a reason), approve, withdraw, comments.

Merging an approved draft is merging.merge.merge_draft's."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import draft_store
from app.db.models import AuditEvent, Comment, Draft, Node, User, Version
from app.errors import Conflict, Forbidden, InvalidInput, InvalidTransition, NotFound
from app.services import access, audit
from app.services.access import Actor
from app.workflow.states import FINANCE, DraftAction, VersionState

COMMENT_MAX = 2000


AUDITED = {  # the audit event each action writes
    DraftAction.SUBMIT: "draft.submit",
    DraftAction.RETURN: "draft.return",
    DraftAction.APPROVE: "draft.approve",
    DraftAction.WITHDRAW: "draft.withdraw_all",
    DraftAction.REOPEN: "draft.reopen",
}


def _locked(
    session: Session, draft_id: int, actor: Actor, lock: int | None, action: DraftAction
) -> tuple[Draft, bool]:
    """Return the draft with its lock taken for `action`, and whether this request repeats the one
    that just did it (a double click): a repeat changes nothing and answers as the first did."""
    access.visible_draft(session, draft_id, actor)
    if not draft_store.bump_lock(session, draft_id, lock):  # atomic: see drafts.begin_edit
        session.rollback()
        current = session.get_one(Draft, draft_id, populate_existing=True)
        if _repeats(session, current, action, actor, lock):
            return current, True
        raise Conflict(f"草稿在您打开后又有修改（第 {lock} 次 → 第 {current.lock_version} 次），请刷新后重试")
    return session.get_one(Draft, draft_id, populate_existing=True), False


def _repeats(session: Session, draft: Draft, action: DraftAction, actor: Actor, lock: int | None) -> bool:
    """Return whether the last thing done to `draft` was `action` by `actor` on the lock `lock`."""
    if lock is None or draft.lock_version != lock + 1:
        return False
    last = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == "draft", AuditEvent.object_id == str(draft.id))
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).first()
    return last is not None and last.action == AUDITED[action] and last.actor_name == access.actor_name(actor)


def _done(session: Session, draft: Draft, action: str, actor: Actor, **summary: object) -> Draft:
    draft.updated_at = datetime.now(UTC)
    audit.record(
        session, actor=actor, action=action, object_type="draft", object_id=draft.id, summary=summary
    )
    session.commit()
    return draft


def submit(session: Session, draft_id: int, *, actor: Actor, lock: int | None = None) -> Draft:
    """Send the draft to review; raise ScreeningBlocked while a blocking finding is not overridden."""
    draft, repeated = _locked(session, draft_id, actor, lock, DraftAction.SUBMIT)
    if repeated:
        return draft
    status = access.check_action(draft, DraftAction.SUBMIT, actor)
    _screening_gate(session, draft)
    draft.status, draft.submitted_at, draft.return_reason = status, datetime.now(UTC), None
    return _done(session, draft, AUDITED[DraftAction.SUBMIT], actor, lock=draft.lock_version)


def _screening_gate(session: Session, draft: Draft) -> None:
    from app.errors import ScreeningBlocked
    from app.services.screening import drafts as screening

    found = [f for f in screening.blocking(session, draft) if f.blocks]
    if found:
        details = [f.as_json() for f in found]
        items = len({f.uid for f in found})
        raise ScreeningBlocked(
            f"有 {items} 个条目存在负面清单问题（{len(found)} 项）未处理，不能送审", details=details
        )


def return_draft(
    session: Session, draft_id: int, *, reason: str, actor: Actor, lock: int | None = None
) -> Draft:
    """Send the draft back to its department with a reason (required)."""
    draft, repeated = _locked(session, draft_id, actor, lock, DraftAction.RETURN)
    if repeated:
        return draft
    status = access.check_action(draft, DraftAction.RETURN, actor)
    reason = reason.strip()
    if not reason:
        raise InvalidInput("退回修改必须说明理由")
    draft.status, draft.return_reason = status, reason
    return _done(session, draft, AUDITED[DraftAction.RETURN], actor, reason=reason)


def approve(session: Session, draft_id: int, *, actor: Actor, lock: int | None) -> Draft:
    """Approve the draft as the reviewer saw it (`lock`); refuse a reviewer who edited it or a stale view."""
    if lock is None:
        raise InvalidInput("审核通过须指明所审阅的草稿版本（lock_version 或 If-Match）")
    draft, repeated = _locked(session, draft_id, actor, lock, DraftAction.APPROVE)
    if repeated:
        return draft
    status = access.check_action(draft, DraftAction.APPROVE, actor)
    if access.edited_by(session, draft.id, actor):
        raise Forbidden("您修改过这份草稿，不能由您审核通过，请由其他审核人审核")
    draft.status = status
    return _done(session, draft, AUDITED[DraftAction.APPROVE], actor, lock=lock)


def withdraw(
    session: Session, draft_id: int, *, actor: Actor, lock: int | None = None, reason: str = ""
) -> Draft:
    """Withdraw the draft (it stays readable, its changes are never merged; it may be reopened while
    its round lasts). Finance withdrawing a department's draft must say why: the department sees it."""
    draft, repeated = _locked(session, draft_id, actor, lock, DraftAction.WITHDRAW)
    if repeated:
        return draft
    status = access.check_action(draft, DraftAction.WITHDRAW, actor)
    reason = reason.strip()
    by_finance = access.role_of(actor) in FINANCE and draft.department_id is not None
    if by_finance and not reason:
        raise InvalidInput("财政部门撤回部门的草稿须说明理由（部门可以看到）")
    if len(reason) > COMMENT_MAX:
        raise InvalidInput(f"理由过长：{len(reason)} 个字符，最多 {COMMENT_MAX} 个")
    draft.status, draft.withdraw_reason = status, reason or None
    return _done(session, draft, AUDITED[DraftAction.WITHDRAW], actor, reason=reason or None)


def reopen(session: Session, draft_id: int, *, actor: Actor, lock: int | None = None) -> Draft:
    """Reopen a withdrawn draft for editing, while the version after its base is not issued yet
    (its round lasts); once that version is issued the draft belongs to a closed round."""
    draft, repeated = _locked(session, draft_id, actor, lock, DraftAction.REOPEN)
    if repeated:
        return draft
    status = access.check_action(draft, DraftAction.REOPEN, actor)  # seen: its department's, or finance
    closed = round_closed_by(session, draft)
    if closed is not None:
        raise InvalidTransition(
            f"本轮的第{closed.seq}版（{closed.label}）已印发，撤回的草稿不能再打开：请新建草稿"
        )
    draft.status, draft.withdraw_reason = status, None
    return _done(session, draft, AUDITED[DraftAction.REOPEN], actor)


def round_closed_by(session: Session, draft: Draft) -> Version | None:
    """Return the version after the draft's base that has been issued (its round is over), or None."""
    base = session.get_one(Version, draft.base_version_id)
    return session.scalars(
        select(Version)
        .where(
            Version.catalog_id == draft.catalog_id,
            Version.seq > base.seq,
            Version.status != VersionState.ASSEMBLING,
        )
        .order_by(Version.seq)
        .limit(1)
    ).first()


def add_comment(session: Session, draft_id: int, *, body: str, uid: str | None, actor: User) -> Comment:
    """Comment on the draft, or on one item it changes (`uid`)."""
    draft = access.visible_draft(session, draft_id, actor)
    body = body.strip()
    if not body:
        raise InvalidInput("评论内容不能为空")
    if len(body) > COMMENT_MAX:
        raise InvalidInput(f"评论过长：{len(body)} 个字符，最多 {COMMENT_MAX} 个")
    node_id = None
    if uid is not None:
        node_id = session.scalars(
            select(Node.id).where(Node.catalog_id == draft.catalog_id, Node.uid == uid)
        ).first()
        if node_id is None:
            raise NotFound("草稿中没有这个目录条目")
    comment = Comment(draft_id=draft.id, node_id=node_id, author_id=actor.id, body=body)
    session.add(comment)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="comment.add",
        object_type="draft",
        object_id=draft.id,
        summary={"comment": comment.id, "uid": uid},
    )
    session.commit()
    return comment


def comments(session: Session, draft_id: int, *, actor: User) -> list[tuple[Comment, str, str | None]]:
    """Return the draft's comments, oldest first, with their author's name and the item's uid."""
    access.visible_draft(session, draft_id, actor)
    stmt = (
        select(Comment, User.display_name, Node.uid)
        .join(User, User.id == Comment.author_id)
        .outerjoin(Node, Node.id == Comment.node_id)
        .where(Comment.draft_id == draft_id)
        .order_by(Comment.id)
    )
    return [(c, name, uid) for c, name, uid in session.execute(stmt)]
