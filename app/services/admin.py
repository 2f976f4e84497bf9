"""The administrator's use cases: versions to issue and publish, users, departments, rule sets.

Each write checks the actor's role and jurisdiction, calls the service that owns the change
(versions, publication, people, screening_rules) or makes it here, audits and commits once.
A repeated or stale action raises InvalidTransition or Conflict naming what changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from app.calendar.days import CalendarYearMissing, add_working_days
from app.db import finding_store
from app.db.models import Catalog, Department, RuleSet, User, Version
from app.errors import Conflict, Forbidden, InvalidInput, InvalidTransition, NotFound
from app.services import access, audit, browse, catalogs, people, screening_rules, versions, workdays
from app.services.publication import beijing_date
from app.services.publication_board import Standing, standing
from app.workflow.states import VERSION_ROLES, Role, VersionAction, VersionState, advance_version

ADMINS = frozenset({Role.FINANCE_ADMIN, Role.SYSADMIN})
# they appear in URLs (/admin/users/{username}/…), so only characters that need no escaping there
NAME_RE = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
CODE_RE = re.compile(r"[A-Za-z0-9_.-]{1,32}")


def require_admin(actor: User) -> Role:
    """Return the actor's role if it may use the admin pages (finance admin, sysadmin); else Forbidden."""
    role = access.role_of(actor)
    if role not in ADMINS:
        raise Forbidden(f"{role.label}不能使用管理页面，只有财政管理员和系统管理员可以")
    return role


# --- versions ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VersionLine:
    """One version on the admin page, with where it stands against its publication deadline."""

    version: Version
    state: VersionState
    standing: Standing | None  # None: not issued yet
    deadline_if_issued_today: date | None  # for a version still assembling


@dataclass(frozen=True, slots=True)
class CatalogVersions:
    catalog: Catalog
    lines: list[VersionLine]  # newest first

    @property
    def can_open(self) -> bool:
        """Return whether a new version may be opened (none is being assembled)."""
        return all(line.state is not VersionState.ASSEMBLING for line in self.lines)


def catalog_versions(
    session: Session, actor: User, *, today: date, slug: str | None = None
) -> list[CatalogVersions]:
    """Return every catalog of the actor's jurisdiction (or just `slug`) with its versions, newest first."""
    require_admin(actor)
    cal = workdays.work_calendar(session)
    stmt = select(Catalog).where(Catalog.jurisdiction_id == actor.jurisdiction_id).order_by(Catalog.slug)
    if slug is not None:
        stmt = stmt.where(Catalog.slug == slug)
    found = list(session.scalars(stmt))
    by_catalog: dict[int, list[Version]] = {c.id: [] for c in found}
    for v in session.scalars(
        select(Version).where(Version.catalog_id.in_(by_catalog)).order_by(Version.seq.desc())
    ):
        by_catalog[v.catalog_id].append(v)
    out = []
    for c in found:
        lines = []
        for v in by_catalog[c.id]:
            state = VersionState(v.status)
            published_on = None if v.published_at is None else beijing_date(v.published_at)
            stand = (
                None if v.issued_on is None else standing(v.publication_deadline, published_on, today, cal)
            )
            preview = None
            if state is VersionState.ASSEMBLING:
                try:
                    preview = add_working_days(today, c.publication_period_days, cal)
                except CalendarYearMissing:
                    preview = None
            lines.append(VersionLine(v, state, stand, preview))
        out.append(CatalogVersions(c, lines))
    return out


def _version_for(session: Session, slug: str, seq: int, actor: User, action: VersionAction) -> Version:
    """Return version `seq` of `slug` if `actor` may take `action` on it now; else raise."""
    access.require_same_jurisdiction(actor, browse.catalog(session, slug))
    role = access.role_of(actor)
    if role not in VERSION_ROLES[action]:
        raise Forbidden(f"{role.label}不能执行此操作，只有财政管理员可以")
    version = versions.get_version(session, slug, seq)
    try:
        advance_version(VersionState(version.status), action, role)
    except InvalidTransition:
        raise InvalidTransition(
            f"操作未执行：{describe(version)}", details={"status": version.status}
        ) from None
    return version


def describe(version: Version) -> str:
    """Return what a version is now, in words (for a 409 that says what changed)."""
    state = VersionState(version.status)
    text = f"第{version.seq}版（{version.label}）现为“{state.label}”"
    if version.doc_number:
        text += f"，文号 {version.doc_number}"
    if version.issued_on:
        text += f"，{version.issued_on.isoformat()} 印发"
    if version.published_at:
        text += f"，{beijing_date(version.published_at).isoformat()} 已公开"
    return text


def issue(session: Session, slug: str, seq: int, *, doc_number: str, on: date, actor: User) -> Version:
    """Issue (印发) the assembling version with its document number and date; commit and return it."""
    _version_for(session, slug, seq, actor, VersionAction.ISSUE)
    return versions.issue(session, slug, seq, doc_number=doc_number, on=on, actor=actor)


def publish(session: Session, slug: str, seq: int, *, actor: User, index: bool = True) -> Version:
    """Publish (公开) the issued version now; commit and return it (see versions.publish on `index`)."""
    _version_for(session, slug, seq, actor, VersionAction.PUBLISH)
    return versions.publish(session, slug, seq, actor=actor, index=index)


def open_version(session: Session, slug: str, *, label: str, actor: User) -> Version:
    """Open the catalog's next version (assembling), audit, commit and return it."""
    if access.role_of(actor) is not Role.FINANCE_ADMIN:
        raise Forbidden("只有财政管理员可以新建版本")
    catalog = browse.catalog(session, slug)
    access.require_same_jurisdiction(actor, catalog)
    label = label.strip()
    if not label or len(label) > 100:
        raise InvalidInput("请填写版本名称（100 字以内），如“2026年版”")
    try:
        version = catalogs.open_next_version(session, catalog, label)
    except InvalidInput as exc:
        raise Conflict(exc.message) from None
    audit.record(
        session, actor=actor, action="version.open", object_type="version", object_id=version.id,
        summary={"catalog": slug, "seq": version.seq, "label": label},
    )  # fmt: skip
    session.commit()
    return version


# --- users -------------------------------------------------------------------------------------


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
    dept = _department(session, actor, department) if department else None
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
    dept = _department(session, actor, department) if department else None
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


# --- departments -------------------------------------------------------------------------------


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
    dept = _department(session, actor, code)
    name = _name(name)
    if dept.name != expected:
        raise Conflict(f"部门 {code} 的名称已被改为“{dept.name}”，未按“{name}”修改")
    before, dept.name = dept.name, name
    _audit_department(session, actor, "department.rename", dept, {"before": before, "after": name})
    session.commit()
    return dept


def set_department_active(session: Session, code: str, *, active: bool, actor: User) -> Department:
    """Enable or disable a department; Conflict when it already is so."""
    dept = _department(session, actor, code)
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


def _department(session: Session, actor: User, code: str) -> Department:
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


# --- rule sets ---------------------------------------------------------------------------------


def rule_sets(session: Session, actor: User) -> list[RuleSet]:
    """Return every stored rule set, newest first (documents load only when read)."""
    require_admin(actor)
    return list(session.scalars(select(RuleSet).options(defer(RuleSet.document)).order_by(RuleSet.id.desc())))


def active_rules(session: Session, actor: User) -> tuple[str, dict[str, Any], bool]:
    """Return the rules in force as (version, document, stored); the shipped file until first stored."""
    require_admin(actor)
    row = finding_store.active_rule_set(session)
    if row is not None:
        return row.rules_version, row.document, True
    shipped = screening_rules.shipped_rules()
    return shipped.ruleset.version, shipped.document, False


def load_rules(session: Session, text: str, *, actor: User) -> RuleSet:
    """Load a new rules document (validated whole) as the active rule set; see screening_rules.load_rules."""
    require_admin(actor)
    return screening_rules.load_rules(session, text, actor=actor)
