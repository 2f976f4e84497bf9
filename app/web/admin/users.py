"""Admin pages for users: the list, adding, enabling or disabling, role changes, password resets."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app.db.models import User
from app.http.auth import MaybeUser, SignedIn
from app.http.deps import SessionDep
from app.services.people import departments as admin_departments
from app.services.people import users as admin_users
from app.web.forms import Outcome, View, answer, show, to_login
from app.workflow.states import ROLE_LABELS, Role

router = APIRouter(prefix="/admin", include_in_schema=False)


def _users_view(request: Request, session: Session, user: User) -> View:
    def view(**extras: Any) -> Response:
        lines = admin_users.users(session, user)
        depts = admin_departments.departments(session, user, active_only=True)
        return show(
            request, "admin/users.html", "admin/_users.html", user=user, lines=lines, departments=depts,
            roles=ROLE_LABELS, **extras,
        )  # fmt: skip

    return view


@router.get("/users", response_class=HTMLResponse)
def users_page(
    request: Request, session: SessionDep, user: MaybeUser, changed: str | None = None
) -> Response:
    if user is None:
        return to_login("/admin/users")
    return _users_view(request, session, user)(changed=changed)


@router.post("/users", response_class=HTMLResponse)
def add_user(
    request: Request,
    session: SessionDep,
    user: SignedIn,
    username: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    department: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    def do() -> Outcome:
        added = admin_users.add_user(
            session, username=username, display_name=display_name, password=password, role=role,
            department=department, actor=user,
        )  # fmt: skip
        return Outcome(f"已添加用户 {added.username}", f"user-{added.username}")

    form = {"username": username, "display_name": display_name, "role": role, "department": department}
    return answer(request, do, _users_view(request, session, user), key="add-user", form=form)


@router.post("/users/{username}/active", response_class=HTMLResponse)
def set_user_active(
    request: Request, username: str, session: SessionDep, user: SignedIn, active: Annotated[str, Form()] = ""
) -> Response:
    def do() -> Outcome:
        changed = admin_users.set_user_active(session, username, active=active == "1", actor=user)
        return Outcome(f"已{'启用' if changed.active else '停用'}用户 {username}", f"user-{username}")

    view = _users_view(request, session, user)
    return answer(request, do, view, key=f"active-{username}", form={})


def _role_view(request: Request, session: Session, user: User, username: str) -> View:
    def view(**extras: Any) -> Response:
        line = admin_users.user_line(session, user, username)
        depts = admin_departments.departments(session, user, active_only=True)
        page = "admin/user_role.html"
        return show(request, page, page, user=user, line=line, departments=depts, roles=ROLE_LABELS, **extras)

    return view


@router.get("/users/{username}/role", response_class=HTMLResponse)
def user_role_page(request: Request, username: str, session: SessionDep, user: MaybeUser) -> Response:
    if user is None:
        return to_login(f"/admin/users/{username}/role")
    return _role_view(request, session, user, username)()


@router.post("/users/{username}/role", response_class=HTMLResponse)
def set_user_role(
    request: Request,
    username: str,
    session: SessionDep,
    user: SignedIn,
    role: Annotated[str, Form()] = "",
    department: Annotated[str, Form()] = "",
) -> Response:
    def do() -> Outcome:
        changed = admin_users.set_user_role(session, username, role=role, department=department, actor=user)
        return Outcome(f"用户 {username} 现为{ROLE_LABELS[Role(changed.role)]}", f"user-{username}")

    view = _role_view(request, session, user, username)
    form = {"role": role, "department": department}
    return answer(request, do, view, key=f"role-{username}", form=form)


@router.post("/users/{username}/password", response_class=HTMLResponse)
def reset_password(
    request: Request,
    username: str,
    session: SessionDep,
    user: SignedIn,
    password: Annotated[str, Form()] = "",
) -> Response:
    def do() -> Outcome:
        admin_users.reset_password(session, username, password, actor=user)
        return Outcome(f"已重置用户 {username} 的密码，其已登录的会话随之失效", f"user-{username}")

    view = _users_view(request, session, user)
    return answer(request, do, view, key=f"password-{username}", form={})
