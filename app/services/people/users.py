"""The admin's users: list, add, enable or disable, change role, reset password."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Department, User
from app.errors import Conflict, InvalidInput, NotFound
from app.services import audit
from app.services.access import require_admin
from app.services.people import accounts as people
from app.services.people.departments import get_department
from app.workflow.states import Role

# they appear in URLs (/admin/users/{username}/…), so only characters that need no escaping there
NAME_RE = re.compile(r"[A-Za-z0-9_.@-]{1,64}")


@dataclass(frozen=True, slots=True)
class UserLine:
    user: User
    role: Role
    department: str | None  # its name
    department_code: str | None


def users(session: Session, actor: User, *, username: str | None = None) -> list[UserLine]:
    """Return the users of the actor's jurisdiction (or just `username`), by username."""
    require_admin(actor)
    stmt = (
        select(User, Department.name, Department.code)
        .outerjoin(Department, Department.id == User.department_id)
        .where(User.jurisdiction_id == actor.jurisdiction_id)
        .order_by(User.username)
    )
    if username is not None:
        stmt = stmt.where(User.username == username)
    return [UserLine(u, Role(u.role), name, code) for u, name, code in session.execute(stmt)]


def user_line(session: Session, actor: User, username: str) -> UserLine:
    """Return one user of the actor's jurisdiction with their role and department, or raise NotFound."""
    found = users(session, actor, username=username)
    if not found:
        raise NotFound(f"没有用户“{username}”")
    return found[0]


def add_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    password: str,
    role: str,
    department: str,
    actor: User,
) -> User:
    """Add a user to the actor's jurisdiction, audit and commit; InvalidInput says what is wrong."""
    require_admin(actor)
    username = username.strip()
    if not NAME_RE.fullmatch(username):
        raise InvalidInput("请填写用户名：64 个字符以内，只用字母、数字和 _ . @ -")
    if role not in {r.value for r in Role}:
        raise InvalidInput("请选择角色")
    dept = get_department(session, actor, department) if department else None
    if dept is not None and role != Role.DEPT_EDITOR:
        raise InvalidInput("只有部门经办人属于部门：财政和系统角色请不要选择部门")
    if dept is not None and not dept.active:
        raise InvalidInput(f"部门“{dept.name}”已停用，不能添加用户")
    user = people.add_user(
        session,
        username=username,
        password=password,
        role=role,
        jurisdiction_id=actor.jurisdiction_id,
        department_id=None if dept is None else dept.id,
        display_name=display_name.strip()[:100],
    )
    audit.record(
        session, actor=actor, action="user.add", object_type="user", object_id=username,
        summary={"role": role, "department": department or None},
    )  # fmt: skip
    session.commit()
    return user


def set_user_active(session: Session, username: str, *, active: bool, actor: User) -> User:
    """Enable or disable a user of the actor's jurisdiction; Conflict when it already is so."""
    user = _user(session, actor, username)
    if user.id == actor.id and not active:
        raise InvalidInput("不能停用自己的账号")
    if user.active == active:
        raise Conflict(f"用户 {username} 已经是“{'启用' if active else '停用'}”状态（可能已被他人修改）")
    return people.set_active(session, username, active=active, actor=actor)


def set_user_role(session: Session, username: str, *, role: str, department: str, actor: User) -> User:
    """Give a user of the actor's jurisdiction a new role (and department for an editor); commit."""
    user = _user(session, actor, username)
    if user.id == actor.id:
        raise InvalidInput("不能修改自己的角色")
    if role not in {r.value for r in Role}:
        raise InvalidInput("请选择角色")
    dept = get_department(session, actor, department) if department else None
    if (role == Role.DEPT_EDITOR) != (dept is not None):
        raise InvalidInput("部门经办人必须选择所属部门；财政和系统角色不属于部门")
    before = {"role": user.role, "department_id": user.department_id}
    user.role, user.department_id = role, None if dept is None else dept.id
    audit.record(
        session, actor=actor, action="user.set_role", object_type="user", object_id=username,
        summary={"before": before, "after": {"role": role, "department": department or None}},
    )  # fmt: skip
    session.commit()
    return user


def reset_password(session: Session, username: str, password: str, *, actor: User) -> User:
    """Set a new password for a user of the actor's jurisdiction (ending their sessions) and commit."""
    _user(session, actor, username)
    return people.reset_password(session, username, password, actor=actor)


def _user(session: Session, actor: User, username: str) -> User:
    require_admin(actor)
    user = session.scalars(
        select(User).where(User.username == username, User.jurisdiction_id == actor.jurisdiction_id)
    ).first()
    if user is None:
        raise NotFound(f"没有用户“{username}”")
    return user
