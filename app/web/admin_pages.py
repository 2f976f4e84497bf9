"""Admin pages: users, departments and the negative-list rules; and how every admin action answers.

An action posted by htmx answers with the page's partial: the changed row highlighted and a
toast (200), the form re-rendered with its error (422), or the current state with what
changed and a reload link (409). Without JavaScript the same forms post normally: success
redirects back (303) to the page with the row highlighted; errors render the whole page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from app.auth import MaybeUser, SignedIn
from app.db.models import User
from app.deps import SessionDep
from app.errors import Conflict, InvalidInput, InvalidTransition
from app.services import admin
from app.web.templating import is_fragment_request, render
from app.workflow.states import ROLE_LABELS, Role

router = APIRouter(prefix="/admin", include_in_schema=False)


@dataclass(frozen=True, slots=True)
class FormError:
    """A refused form: which form (`key`), why, and what was typed (re-rendered, passwords left out)."""

    key: str
    message: str
    values: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Outcome:
    """A done action: the toast's text and the id of the element that changed."""

    message: str
    changed: str


View = Callable[..., Response]


def show(request: Request, page: str, partial: str, *, status_code: int = 200, **context: Any) -> Response:
    """Return the whole `page`, or only its `partial` when htmx asked for a fragment."""
    fragment = is_fragment_request(request)
    extras = {"error": None, "conflict": None, "changed": None, "toast": None, "fragment": fragment} | context
    return render(request, partial if fragment else page, status_code=status_code, **extras)


def answer(
    request: Request,
    session: Session,
    do: Callable[[], Outcome],
    view: View,
    *,
    key: str,
    form: Mapping[str, str],
) -> Response:
    """Run the action `do` and answer with `view`: a toast and the changed row, a 422 form or a 409 state."""
    try:
        outcome = do()
    except InvalidInput as exc:
        session.rollback()
        return view(status_code=422, error=FormError(key, exc.message, form))
    except (InvalidTransition, Conflict) as exc:
        session.rollback()
        return view(status_code=409, conflict=exc.message)
    if not is_fragment_request(request):
        changed = quote(outcome.changed)
        return RedirectResponse(f"{_page_of(request.url.path)}?changed={changed}#{changed}", status_code=303)
    return view(changed=outcome.changed, toast=outcome.message)


def _page_of(path: str) -> str:
    """Return the admin page an action's path belongs to (/admin/users/x/active → /admin/users)."""
    parts = path.split("/")
    return "/admin" if len(parts) < 3 or parts[2] == "catalogs" else f"/admin/{parts[2]}"


def parse_date(text: str, what: str) -> date:
    """Return the ISO date typed in a form's `what` field, or raise InvalidInput in Chinese."""
    if not text.strip():
        raise InvalidInput(f"请填写{what}")
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{what}“{text}”不是有效日期，应形如 2026-03-16") from None


def to_login(path: str) -> Response:
    """Return a redirect to the sign-in page that comes back to `path`."""
    return RedirectResponse(f"/login?next={quote(path)}", status_code=303)


# --- users -------------------------------------------------------------------------------------


def _users_view(request: Request, session: Session, user: User) -> View:
    def view(**extras: Any) -> Response:
        lines = admin.users(session, user)
        depts = admin.departments(session, user, active_only=True)
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
        added = admin.add_user(
            session, username=username, display_name=display_name, password=password, role=role,
            department=department, actor=user,
        )  # fmt: skip
        return Outcome(f"已添加用户 {added.username}", f"user-{added.username}")

    form = {"username": username, "display_name": display_name, "role": role, "department": department}
    return answer(request, session, do, _users_view(request, session, user), key="add-user", form=form)


@router.post("/users/{username}/active", response_class=HTMLResponse)
def set_user_active(
    request: Request, username: str, session: SessionDep, user: SignedIn, active: Annotated[str, Form()] = ""
) -> Response:
    def do() -> Outcome:
        changed = admin.set_user_active(session, username, active=active == "1", actor=user)
        return Outcome(f"已{'启用' if changed.active else '停用'}用户 {username}", f"user-{username}")

    view = _users_view(request, session, user)
    return answer(request, session, do, view, key=f"active-{username}", form={})


def _role_view(request: Request, session: Session, user: User, username: str) -> View:
    def view(**extras: Any) -> Response:
        line = admin.user_line(session, user, username)
        depts = admin.departments(session, user, active_only=True)
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
        changed = admin.set_user_role(session, username, role=role, department=department, actor=user)
        return Outcome(f"用户 {username} 现为{ROLE_LABELS[Role(changed.role)]}", f"user-{username}")

    view = _role_view(request, session, user, username)
    form = {"role": role, "department": department}
    return answer(request, session, do, view, key=f"role-{username}", form=form)


@router.post("/users/{username}/password", response_class=HTMLResponse)
def reset_password(
    request: Request,
    username: str,
    session: SessionDep,
    user: SignedIn,
    password: Annotated[str, Form()] = "",
) -> Response:
    def do() -> Outcome:
        admin.reset_password(session, username, password, actor=user)
        return Outcome(f"已重置用户 {username} 的密码，其已登录的会话随之失效", f"user-{username}")

    view = _users_view(request, session, user)
    return answer(request, session, do, view, key=f"password-{username}", form={})


# --- departments -------------------------------------------------------------------------------


def _departments_view(request: Request, session: Session, user: User) -> View:
    def view(**extras: Any) -> Response:
        lines = admin.departments(session, user)
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
        dept = admin.add_department(session, code=code, name=name, actor=user)
        return Outcome(f"已添加部门 {dept.code} {dept.name}", f"dept-{dept.code}")

    view = _departments_view(request, session, user)
    return answer(request, session, do, view, key="add-department", form={"code": code, "name": name})


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
        dept = admin.rename_department(session, code, name=name, expected=expected, actor=user)
        return Outcome(f"部门 {code} 已改名为“{dept.name}”", f"dept-{code}")

    view = _departments_view(request, session, user)
    return answer(request, session, do, view, key=f"rename-{code}", form={"name": name})


@router.post("/departments/{code}/active", response_class=HTMLResponse)
def set_department_active(
    request: Request, code: str, session: SessionDep, user: SignedIn, active: Annotated[str, Form()] = ""
) -> Response:
    def do() -> Outcome:
        dept = admin.set_department_active(session, code, active=active == "1", actor=user)
        return Outcome(f"已{'启用' if dept.active else '停用'}部门“{dept.name}”", f"dept-{code}")

    view = _departments_view(request, session, user)
    return answer(request, session, do, view, key=f"active-{code}", form={})


# --- negative-list rules -----------------------------------------------------------------------


def _rules_view(request: Request, session: Session, user: User) -> View:
    def view(**extras: Any) -> Response:
        version, document, stored = admin.active_rules(session, user)
        return show(
            request, "admin/rules.html", "admin/_rules.html", user=user, version=version, document=document,
            stored=stored, rule_sets=admin.rule_sets(session, user), **extras,
        )  # fmt: skip

    return view


@router.get("/rules", response_class=HTMLResponse)
def rules_page(
    request: Request, session: SessionDep, user: MaybeUser, changed: str | None = None
) -> Response:
    if user is None:
        return to_login("/admin/rules")
    return _rules_view(request, session, user)(changed=changed)


@router.post("/rules", response_class=HTMLResponse)
def load_rules(
    request: Request, session: SessionDep, user: SignedIn, rules: UploadFile | None = None
) -> Response:
    raw = b"" if rules is None else rules.file.read()

    def do() -> Outcome:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput("规则文件须为 UTF-8 编码的 JSON") from None
        if not text.strip():
            raise InvalidInput("请选择规则文件（JSON）")
        row = admin.load_rules(session, text, actor=user)
        return Outcome(f"已载入规则版本 {row.rules_version}，现行规则已更新", f"ruleset-{row.rules_version}")

    return answer(request, session, do, _rules_view(request, session, user), key="load-rules", form={})
