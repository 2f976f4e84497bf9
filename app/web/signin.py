"""Signing in and out, and the desk (待办) each role lands on."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.errors import CatalogError, Unauthenticated
from app.http import sessions, urls
from app.http.auth import MaybeUser, current_user
from app.http.deps import SessionDep, Today
from app.http.errors import status_of
from app.http.rendering import render
from app.services.people import accounts as people
from app.services.review import desk as desks
from app.services.versions import board as publication_board
from app.services.versions.board import BoardState

router = APIRouter(include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str = "/desk") -> Response:
    response = HTMLResponse()
    csrf = sessions.login_token(request, response)
    page = render(request, "auth/login.html", csrf=csrf, next=urls.safe_next(next), error=None, username="")
    page.raw_headers.extend(h for h in response.raw_headers if h[0] == b"set-cookie")
    return page


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/desk",
) -> Response:
    try:
        if not sessions.csrf_ok(request, csrf_token):
            raise Unauthenticated("登录页面已过期，请刷新后重试")
        address = request.client.host if request.client else "unknown"
        user = people.authenticate(
            session, username.strip(), password, address=address, now=datetime.now(UTC)
        )
    except CatalogError as exc:
        return render(
            request,
            "auth/login.html",
            status_code=status_of(exc),
            csrf=csrf_token,
            next=urls.safe_next(next),
            error=exc.message,
            username=username,
        )
    response = RedirectResponse(urls.safe_next(next), status_code=303)
    sessions.start(request, response, user_id=user.id, fingerprint=people.session_fingerprint(user))
    return response


@router.post("/logout", dependencies=[Depends(current_user)])  # a signed-in form: its CSRF token is checked
async def logout() -> Response:
    response = RedirectResponse("/", status_code=303)
    sessions.end(response)
    return response


@router.get("/desk", response_class=HTMLResponse)
def desk_page(request: Request, session: SessionDep, user: MaybeUser, today: Today) -> Response:
    if user is None:
        return RedirectResponse("/login?next=/desk", status_code=303)
    jurisdiction_id, department_id = publication_board.scope_of(user)
    rows = publication_board.board(
        session, jurisdiction_id=jurisdiction_id, department_id=department_id, today=today
    )
    overdue = sum(1 for r in rows if r.standing.state is BoardState.OVERDUE)
    desk = desks.desk(session, user)
    return render(request, "desk/index.html", user=user, desk=desk, overdue=overdue)
