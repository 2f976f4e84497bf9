"""Who is asking: the request's user from an API token, and role checks as dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.db.models import User
from app.errors import Forbidden, Unauthenticated
from app.http import sessions
from app.http.deps import SessionDep
from app.services.people.accounts import session_fingerprint, user_for_token
from app.workflow.states import FINANCE, Role


async def sent_csrf(request: Request) -> str | None:
    """Return the CSRF token the request carries (header, else form field); parsing touches no database."""
    sent = request.headers.get(sessions.CSRF_HEADER)
    if (
        sent is None
        and request.method not in SAFE_METHODS
        and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        )
    ):
        value = (await request.form()).get(sessions.CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    return sent


def current_user(
    request: Request, session: SessionDep, csrf: Annotated[str | None, Depends(sent_csrf)]
) -> User | None:
    """Return the signed-in user (API token, else session cookie), None for an anonymous request.

    A plain `def`: FastAPI runs it in the threadpool, so its queries never block the event loop
    (which, blocked on a pool checkout, could not close the sessions that would free one).
    A write through the session cookie must carry the session's CSRF token; a token-
    authenticated request is not exposed to CSRF and needs none.
    """
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token:
        user = user_for_token(session, token.strip())
        if user is None:
            raise Unauthenticated("令牌无效或已被吊销")
        session.expunge(user)  # a value for the request: a service's rollback must not expire it
        return user
    data = sessions.read(request)
    if data is None:
        return None
    found = session.get(User, data.user_id)
    if found is None or not found.active or session_fingerprint(found) != data.fingerprint:
        return None
    if request.method not in SAFE_METHODS and not sessions.csrf_ok(request, csrf):
        raise Forbidden("页面已过期或请求来源不明（CSRF 校验失败），请刷新页面后重试")
    session.expunge(found)  # a value for the request: a service's rollback must not expire it
    return found


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


MaybeUser = Annotated[User | None, Depends(current_user)]


async def signed_in_finance(user: MaybeUser) -> User:
    """Return the signed-in finance user: 401 for nobody, 403 for any other role."""
    if user is None:
        raise Unauthenticated("请先登录或提供 API 令牌")
    if Role(user.role) not in FINANCE:
        raise Forbidden("当前角色无权执行此操作")
    return user


FinanceUser = Annotated[User, Depends(signed_in_finance)]


async def signed_in(user: MaybeUser) -> User:
    """Return the signed-in user; nobody (or an ended session, an invalid token) is Unauthenticated:
    a page sends them to sign in and back, the API answers 401. What a signed-in user may not see
    still answers 404 (the services' NotFound)."""
    if user is None:
        raise Unauthenticated("请先登录：会话已结束或尚未登录")
    return user


SignedIn = Annotated[User, Depends(signed_in)]
