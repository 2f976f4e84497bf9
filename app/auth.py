"""Who is asking: the request's user from an API token, and role checks as dependencies."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request

from app.db.models import User
from app.deps import SessionDep
from app.errors import Forbidden, Unauthenticated
from app.services.people import user_for_token

FINANCE_ROLES = ("finance_reviewer", "finance_admin")


async def current_user(request: Request, session: SessionDep) -> User | None:
    """Return the user an `Authorization: Bearer` token names, None for an anonymous request."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    user = user_for_token(session, token.strip())
    if user is None:
        raise Unauthenticated("令牌无效或已被吊销")
    return user


MaybeUser = Annotated[User | None, Depends(current_user)]


def require_role(*roles: str) -> Callable[..., Coroutine[Any, Any, User]]:
    """Return a dependency that yields the signed-in user if their role is one of `roles`."""

    async def dependency(user: MaybeUser) -> User:
        if user is None:
            raise Unauthenticated("请先登录或提供 API 令牌")
        if user.role not in roles:
            raise Forbidden("当前角色无权执行此操作")
        return user

    return dependency


FinanceUser = Annotated[User, Depends(require_role(*FINANCE_ROLES))]
