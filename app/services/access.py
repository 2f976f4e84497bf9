"""Who may see and do what: roles from the workflow table, plus jurisdiction and department ownership.

Anything a user may not see answers NotFound, as if it did not exist, so its existence
does not leak; a visible thing the user's role may not act on answers Forbidden.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalog.nodes import NodeState
from app.db.models import AuditEvent, Catalog, Department, Draft, User
from app.errors import Forbidden, NotFound
from app.workflow.states import DRAFT_ROLES, FINANCE, DraftAction, DraftState, Role, advance

# Audit actions that change a draft's content: a reviewer who did any of these may not approve it.
EDIT_ACTIONS = (
    "draft.add",
    "draft.edit",
    "draft.move",
    "draft.withdraw",
    "draft.reorder",
    "draft.discard",
    "draft.import",
)


def role_of(user: User) -> Role:
    """Return the user's role."""
    return Role(user.role)


def department_code(session: Session, user: User) -> str | None:
    """Return the code of the user's department, if any."""
    if user.department_id is None:
        return None
    return session.scalars(select(Department.code).where(Department.id == user.department_id)).first()


def can_see(user: User, draft: Draft, catalog: Catalog) -> bool:
    """Return whether `user` may see `draft`: finance in its jurisdiction, or the department that owns it."""
    if user.jurisdiction_id != catalog.jurisdiction_id:
        return False
    role = role_of(user)
    if role in FINANCE:
        return True
    return role is Role.DEPT_EDITOR and draft.department_id == user.department_id


def visible_draft(session: Session, draft_id: int, actor: User | None) -> Draft:
    """Return the draft if `actor` (None: the system) may see it, else raise NotFound."""
    draft = session.get(Draft, draft_id)
    if draft is None or (
        actor is not None and not can_see(actor, draft, session.get_one(Catalog, draft.catalog_id))
    ):
        raise NotFound(f"没有编号为 {draft_id} 的草稿")
    return draft


def check_action(draft: Draft, action: DraftAction, actor: User | None) -> DraftState:
    """Return the draft's state after `action` by `actor`.

    Forbidden for the wrong role, InvalidTransition for the wrong state.
    """
    state = DraftState(draft.status)
    if actor is None:
        role = next(iter(DRAFT_ROLES[action]))  # the system acts with whichever role may
    else:
        role = role_of(actor)
        if role not in DRAFT_ROLES[action]:
            raise Forbidden(f"{role.label}不能{action.label}")
    return advance(state, action, role)


def check_item(session: Session, actor: User | None, state: NodeState | None) -> None:
    """Raise Forbidden unless `actor` may change this item: a department changes only its own items."""
    if actor is None or role_of(actor) in FINANCE or state is None:
        return
    if state.department != department_code(session, actor):
        raise Forbidden("只能修改本部门的目录条目")


def edited_by(session: Session, draft_id: int, user: User) -> bool:
    """Return whether `user` ever changed the content of the draft."""
    stmt = (
        select(AuditEvent.id)
        .where(
            AuditEvent.object_type == "draft",
            AuditEvent.object_id == str(draft_id),
            AuditEvent.actor_id == user.id,
            AuditEvent.action.in_(EDIT_ACTIONS),
        )
        .limit(1)
    )
    return session.scalars(stmt).first() is not None


def require_finance(actor: User | None) -> None:
    """Raise Forbidden unless `actor` is a finance role (None: the system)."""
    if actor is not None and role_of(actor) not in FINANCE:
        raise Forbidden(f"{role_of(actor).label}不能执行此操作")


def require_same_jurisdiction(actor: User | None, catalog: Catalog) -> None:
    """Raise NotFound when the catalog belongs to another jurisdiction than `actor`'s."""
    if actor is not None and actor.jurisdiction_id != catalog.jurisdiction_id:
        raise NotFound(f"没有找到目录“{catalog.slug}”")


ADMINS = frozenset({Role.FINANCE_ADMIN, Role.SYSADMIN})


def require_admin(actor: User) -> Role:
    """Return the actor's role if it may use the admin pages (finance admin, sysadmin); else Forbidden."""
    role = role_of(actor)
    if role not in ADMINS:
        raise Forbidden(f"{role.label}不能使用管理页面，只有财政管理员和系统管理员可以")
    return role
