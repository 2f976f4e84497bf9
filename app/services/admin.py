"""The admin desk's gate: who may use the admin pages (finance admin, sysadmin)."""

from __future__ import annotations

from app.db.models import User
from app.errors import Forbidden
from app.services import access
from app.workflow.states import Role

ADMINS = frozenset({Role.FINANCE_ADMIN, Role.SYSADMIN})


def require_admin(actor: User) -> Role:
    """Return the actor's role if it may use the admin pages (finance admin, sysadmin); else Forbidden."""
    role = access.role_of(actor)
    if role not in ADMINS:
        raise Forbidden(f"{role.label}不能使用管理页面，只有财政管理员和系统管理员可以")
    return role
