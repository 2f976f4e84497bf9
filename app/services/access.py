"""Who may see and do what, in one place: roles from the workflow tables, plus jurisdiction and ownership.

Every service names its actor: a signed-in `User`, or a `System` actor (the command line run
by the server's operator, the publication scheduler, the demo loader). There is no "no actor":
the system's permissions are rows of the workflow tables like any role's, and its acts are
audited under its name.

Anything a user may not see answers NotFound, as if it did not exist, so its existence
does not leak; a visible thing the user's role may not act on answers Forbidden.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalog.nodes import NodeState
from app.db.models import AuditEvent, Catalog, Department, Draft, User
from app.errors import Forbidden, NotFound
from app.workflow.states import (
    DRAFT_ROLES,
    FINANCE,
    VERSION_ROLES,
    DraftAction,
    DraftState,
    Role,
    VersionAction,
    advance,
)


@dataclass(frozen=True, slots=True)
class System:
    """The product acting by itself; `name` is what the audit trail shows as the actor."""

    name: str


CLI = System("cli")  # the server's operator at the command line
SEED = System("system")  # the product storing what it ships (the calendar, the first rule set)
SCHEDULER = System("scheduler")  # publishing what was scheduled
DEMO = System("demo")  # loading the demo

Actor = User | System

# Audit actions that change a draft's content: a reviewer who did any of these may not approve it.
EDIT_ACTIONS = (
    "draft.add",
    "draft.edit",
    "draft.move",
    "draft.withdraw",
    "draft.reorder",
    "draft.discard",
    "draft.import",
    "draft.import_undo",
)
ADMINS = frozenset({Role.FINANCE_ADMIN, Role.SYSADMIN})


def role_of(actor: Actor) -> Role:
    """Return the actor's role (the system's own role for a System actor)."""
    return Role.SYSTEM if isinstance(actor, System) else Role(actor.role)


def actor_name(actor: Actor) -> str:
    """Return the name the audit trail records for `actor`."""
    return actor.name if isinstance(actor, System) else actor.username


def user_id(actor: Actor) -> int | None:
    """Return the id of the person `actor`, None for the system (for the `…_by_id` columns)."""
    return actor.id if isinstance(actor, User) else None


def department_code(session: Session, actor: Actor) -> str | None:
    """Return the code of the actor's department, if any (the system has none)."""
    if isinstance(actor, System) or actor.department_id is None:
        return None
    return session.scalars(select(Department.code).where(Department.id == actor.department_id)).first()


def in_jurisdiction(actor: Actor, catalog: Catalog) -> bool:
    """Return whether `catalog` lies in the actor's jurisdiction (the system's reaches every one)."""
    return isinstance(actor, System) or actor.jurisdiction_id == catalog.jurisdiction_id


def can_see(actor: Actor, draft: Draft, catalog: Catalog) -> bool:
    """Return whether `actor` may see `draft`: finance in its jurisdiction, or the department that owns it."""
    if not in_jurisdiction(actor, catalog):
        return False
    role = role_of(actor)
    if role in FINANCE or role is Role.SYSTEM:
        return True
    return role is Role.DEPT_EDITOR and isinstance(actor, User) and draft.department_id == actor.department_id


def visible_draft(session: Session, draft_id: int, actor: Actor) -> Draft:
    """Return the draft if `actor` may see it, else raise NotFound."""
    draft = session.get(Draft, draft_id)
    if draft is None or not can_see(actor, draft, session.get_one(Catalog, draft.catalog_id)):
        raise NotFound(f"没有编号为 {draft_id} 的草稿")
    return draft


def check_action(draft: Draft, action: DraftAction, actor: Actor) -> DraftState:
    """Return the draft's state after `action` by `actor`.

    Forbidden for the wrong role, InvalidTransition for the wrong state.
    """
    role = role_of(actor)
    if role not in DRAFT_ROLES[action]:
        raise Forbidden(f"{role.label}不能{action.label}")
    return advance(DraftState(draft.status), action, role)


def check_version_action(actor: Actor, catalog: Catalog, action: VersionAction) -> None:
    """Raise unless `actor` may take `action` on the catalog's versions: NotFound outside its jurisdiction."""
    require_same_jurisdiction(actor, catalog)
    role = role_of(actor)
    if role not in VERSION_ROLES[action]:
        raise Forbidden(f"{role.label}不能{action.label}，只有财政管理员可以")


def check_item(session: Session, actor: Actor, state: NodeState | None) -> None:
    """Raise Forbidden unless `actor` may change this item: a department changes only its own items."""
    if state is None or role_of(actor) is not Role.DEPT_EDITOR:
        return
    assert isinstance(actor, User)
    if state.department != department_code(session, actor):
        raise Forbidden("只能修改本部门的目录条目")


def edited_by(session: Session, draft_id: int, actor: Actor) -> bool:
    """Return whether the person `actor` ever changed the content of the draft (never true of the system)."""
    if isinstance(actor, System):
        return False
    stmt = (
        select(AuditEvent.id)
        .where(
            AuditEvent.object_type == "draft",
            AuditEvent.object_id == str(draft_id),
            AuditEvent.actor_id == actor.id,
            AuditEvent.action.in_(EDIT_ACTIONS),
        )
        .limit(1)
    )
    return session.scalars(stmt).first() is not None


def require_finance(actor: Actor) -> None:
    """Raise Forbidden unless `actor` is a finance role or the system."""
    role = role_of(actor)
    if role not in FINANCE and role is not Role.SYSTEM:
        raise Forbidden(f"{role.label}不能执行此操作")


def require_same_jurisdiction(actor: Actor, catalog: Catalog) -> None:
    """Raise NotFound when the catalog belongs to another jurisdiction than `actor`'s."""
    if not in_jurisdiction(actor, catalog):
        raise NotFound(f"没有找到目录“{catalog.slug}”")


def require_admin(actor: Actor) -> Role:
    """Return the actor's role if it may use the admin pages (finance admin, sysadmin); else Forbidden."""
    role = role_of(actor)
    if role not in ADMINS:
        raise Forbidden(f"{role.label}不能使用管理页面，只有财政管理员和系统管理员可以")
    return role
