"""Admin pages for departments: the list, adding, renaming, enabling or disabling."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app.db.models import User
from app.http.auth import MaybeUser, SignedIn
from app.http.deps import SessionDep
from app.services.people import departments as admin_departments
from app.web.forms import Outcome, View, answer, show, to_login

router = APIRouter(prefix="/admin", include_in_schema=False)


def _departments_view(request: Request, session: Session, user: User) -> View:
    def view(**extras: Any) -> Response:
        lines = admin_departments.departments(session, user)
        return show(
            request, "admin/departments.html", "admin/_departments.html", user=user, lines=lines, **extras
        )

    return view


@router.get("/departments", response_class=HTMLResponse)
def departments_page(
    request: Request, session: SessionDep, user: MaybeUser, changed: str | None = None
) -> Response:
    if user is None:
        return to_login("/admin/departments")
    return _departments_view(request, session, user)(changed=changed)


@router.post("/departments", response_class=HTMLResponse)
def add_department(
    request: Request,
    session: SessionDep,
    user: SignedIn,
    code: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
) -> Response:
    def do() -> Outcome:
        dept = admin_departments.add_department(session, code=code, name=name, actor=user)
        return Outcome(f"已添加部门 {dept.code} {dept.name}", f"dept-{dept.code}")

    view = _departments_view(request, session, user)
    return answer(request, do, view, key="add-department", form={"code": code, "name": name})


@router.post("/departments/{code}/name", response_class=HTMLResponse)
def rename_department(
    request: Request,
    code: str,
    session: SessionDep,
    user: SignedIn,
    name: Annotated[str, Form()] = "",
    expected: Annotated[str, Form()] = "",
) -> Response:
    def do() -> Outcome:
        dept = admin_departments.rename_department(session, code, name=name, expected=expected, actor=user)
        return Outcome(f"部门 {code} 已改名为“{dept.name}”", f"dept-{code}")

    view = _departments_view(request, session, user)
    return answer(request, do, view, key=f"rename-{code}", form={"name": name})


@router.post("/departments/{code}/active", response_class=HTMLResponse)
def set_department_active(
    request: Request, code: str, session: SessionDep, user: SignedIn, active: Annotated[str, Form()] = ""
) -> Response:
    def do() -> Outcome:
        dept = admin_departments.set_department_active(session, code, active=active == "1", actor=user)
        return Outcome(f"已{'启用' if dept.active else '停用'}部门“{dept.name}”", f"dept-{code}")

    view = _departments_view(request, session, user)
    return answer(request, do, view, key=f"active-{code}", form={})
