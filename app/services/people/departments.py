"""The admin's departments: list with user counts, add, rename, enable or disable."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.models import Department, User
from app.errors import Conflict, InvalidInput, NotFound
from app.services import audit
from app.services.access import require_admin

CODE_RE = re.compile(r"[A-Za-z0-9_.-]{1,32}")


@dataclass(frozen=True, slots=True)
class DepartmentLine:
    department: Department
    users: int


def departments(session: Session, actor: User, *, active_only: bool = False) -> list[DepartmentLine]:
    """Return the departments of the actor's jurisdiction by code, with how many users each has."""
    require_admin(actor)
    counts = select(User.department_id, func.count().label("n")).group_by(User.department_id).subquery()
    stmt = (
        select(Department, counts.c.n)
        .outerjoin(counts, counts.c.department_id == Department.id)
        .where(Department.jurisdiction_id == actor.jurisdiction_id)
        .order_by(Department.code)
    )
    if active_only:
        stmt = stmt.where(Department.active)
    return [DepartmentLine(d, n or 0) for d, n in session.execute(stmt)]


def add_department(session: Session, *, code: str, name: str, actor: User) -> Department:
    """Add a department to the actor's jurisdiction, audit and commit."""
    require_admin(actor)
    code, name = code.strip(), _name(name)
    if not CODE_RE.fullmatch(code):
        raise InvalidInput("请填写部门编码：32 个字符以内，只用字母、数字和 _ . -")
    taken = session.scalars(
        select(Department).where(Department.jurisdiction_id == actor.jurisdiction_id, Department.code == code)
    ).first()
    if taken is not None:
        raise InvalidInput(f"部门编码 {code} 已被“{taken.name}”使用")
    dept = Department(jurisdiction_id=actor.jurisdiction_id, code=code, name=name)
    session.add(dept)
    session.flush()
    _audit_department(session, actor, "department.add", dept, {"name": name})
    session.commit()
    return dept


def rename_department(session: Session, code: str, *, name: str, expected: str, actor: User) -> Department:
    """Rename a department; Conflict when its name is no longer `expected` (someone renamed it meanwhile)."""
    dept = get_department(session, actor, code)
    name = _name(name)
    if dept.name != expected:
        raise Conflict(f"部门 {code} 的名称已被改为“{dept.name}”，未按“{name}”修改")
    before, dept.name = dept.name, name
    _audit_department(session, actor, "department.rename", dept, {"before": before, "after": name})
    session.commit()
    return dept


def set_department_active(session: Session, code: str, *, active: bool, actor: User) -> Department:
    """Enable or disable a department; Conflict when it already is so."""
    dept = get_department(session, actor, code)
    if dept.active == active:
        raise Conflict(f"部门“{dept.name}”已经是“{'启用' if active else '停用'}”状态（可能已被他人修改）")
    dept.active = active
    _audit_department(session, actor, "department.enable" if active else "department.disable", dept, {})
    session.commit()
    return dept


def _name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("请填写部门名称（100 字以内）")
    return name


def get_department(session: Session, actor: User, code: str) -> Department:
    """Return the actor's department with `code` (admins only), or raise NotFound."""
    require_admin(actor)
    dept = session.scalars(
        select(Department).where(Department.jurisdiction_id == actor.jurisdiction_id, Department.code == code)
    ).first()
    if dept is None:
        raise NotFound(f"没有部门编码“{code}”")
    return dept


def _audit_department(
    session: Session, actor: User, action: str, dept: Department, summary: dict[str, object]
) -> None:
    audit.record(
        session, actor=actor, action=action, object_type="department", object_id=dept.code, summary=summary
    )
