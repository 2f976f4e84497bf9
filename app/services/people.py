"""Users: creation and password hashing (argon2id, memory-hard)."""

from __future__ import annotations

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import User
from app.errors import InvalidInput

ROLES = ("dept_editor", "finance_reviewer", "finance_admin", "sysadmin")
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """Return the argon2id hash of `password`."""
    return _hasher.hash(password)


def add_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    jurisdiction_id: int,
    department_id: int | None = None,
    display_name: str = "",
) -> User:
    """Add a user (the caller commits); a department editor must belong to a department."""
    if role not in ROLES:
        raise InvalidInput(f"未知的角色：{role}（可选：{'、'.join(ROLES)}）")
    if role == "dept_editor" and department_id is None:
        raise InvalidInput("部门经办人必须指定所属部门")
    if len(password) < 8:
        raise InvalidInput("密码至少 8 位")
    if session.scalars(select(User).where(User.username == username)).first() is not None:
        raise InvalidInput(f"用户名已存在：{username}")
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        role=role,
        jurisdiction_id=jurisdiction_id,
        department_id=department_id,
    )
    session.add(user)
    session.flush()
    return user
