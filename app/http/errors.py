"""The one error handler: it alone knows status codes, and answers JSON, a fragment or a page."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import (
    CatalogError,
    Conflict,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    NotFound,
    ScreeningBlocked,
    Throttled,
    Unauthenticated,
)
from app.http import urls
from app.http.rendering import is_fragment_request, render

log = logging.getLogger(__name__)

STATUS: dict[type[CatalogError], int] = {
    NotFound: 404,
    Unauthenticated: 401,
    Throttled: 429,
    Forbidden: 403,
    InvalidInput: 422,
    InvalidTransition: 409,
    Conflict: 409,
    ScreeningBlocked: 422,
}
HTTP_MESSAGES = {
    404: "页面不存在",
    405: "不支持该请求方法",
    422: "请求参数不正确",
    500: "服务器内部错误，请稍后再试",
}


@dataclass(frozen=True, slots=True)
class Refusal:
    """A form that a service refused: which form (`key`), why, with which status, and what was typed.

    422: the input is wrong, the form comes back with the message; 409: the page is out of date
    (someone changed the data), it comes back as the data now stands with a reload; 403: not for
    this user. Templates read it with `on(key)`, `value(key, name)` and `stale`.
    """

    key: str
    message: str
    status: int
    values: Mapping[str, str] = field(default_factory=dict)
    details: Any = None
    code: str = "invalid"  # the error's machine code (CatalogError.code)

    @property
    def stale(self) -> bool:
        """Return whether the page the form came from no longer shows the data: offer a reload."""
        return self.status == 409

    def on(self, key: str) -> str | None:
        """Return the message if form `key` was refused, else None."""
        return self.message if key == self.key else None

    def value(self, key: str, name: str, default: str = "") -> str:
        """Return what was typed into field `name` of form `key` (the form is re-rendered with it)."""
        return self.values.get(name, default) if key == self.key else default


NO_REFUSAL = Refusal("", "", 200)  # what a page shows when nothing was refused
IN_PLACE = frozenset({403, 409, 422})
RefusalAnswer = Callable[[Refusal], Response | None]


def refuse_in_place(request: Request, key: str, answer: RefusalAnswer, **values: str) -> None:
    """Have a refusal of this request's form (403, 409, 422) answered by `answer(refusal)` in place.

    The one mechanism of every page's forms: the route declares, before it calls its service,
    how its form comes back refused; the service raises; this handler answers. `answer` may
    return None to leave the refusal to the default answer (a message in #flash, or a page).
    """
    request.state.refusal = (key, answer, values)


def _answer(request: Request, status: int, code: str, message: str, details: Any = None) -> Response:
    if request.url.path.startswith("/api/"):
        body: dict[str, Any] = {"code": code, "message": message}
        if details is not None:
            body["details"] = details
        return JSONResponse({"error": body}, status_code=status)
    if is_fragment_request(request):
        return _fragment(request, status, code, message, details)
    return render(request, "errors/error.html", status_code=status, status=status, message=message)


def _fragment(request: Request, status: int, code: str, message: str, details: Any) -> Response:
    """Return the error as a fragment for the page: a message (and a reload, when stale) into #flash."""
    listed = details if isinstance(details, list) and all(isinstance(d, dict) for d in details) else []
    response = render(
        request,
        "errors/_flash.html",
        status_code=status,
        status=status,
        code=code,
        message=message,
        details=listed,
        reload_url=request.headers.get("HX-Current-URL", ""),
    )
    response.headers["HX-Retarget"] = "#flash"
    response.headers["HX-Reswap"] = "innerHTML"
    return response


def status_of(exc: CatalogError) -> int:
    """Return the HTTP status of `exc`: that of its nearest class in STATUS (subclasses inherit it)."""
    return next((STATUS[cls] for cls in type(exc).__mro__ if cls in STATUS), 400)


async def on_catalog_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CatalogError)
    status = status_of(exc)
    registered: tuple[str, RefusalAnswer, dict[str, str]] | None = getattr(request.state, "refusal", None)
    if registered is not None and status in IN_PLACE and not request.url.path.startswith("/api/"):
        key, answer, values = registered
        refusal = Refusal(key, exc.message, status, values, exc.details, exc.code)
        in_place = await run_in_threadpool(_answer_in_place, request, answer, refusal)
        if in_place is not None:
            return in_place
    if isinstance(exc, Unauthenticated) and not request.url.path.startswith("/api/"):
        return _to_sign_in(request)
    response = _answer(request, status, exc.code, exc.message, exc.details)
    if isinstance(exc, Unauthenticated):
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


def _to_sign_in(request: Request) -> Response:
    """Send someone whose session ended to sign in, and back to the page they were on afterwards.

    A page (GET) comes back to itself; a form posted without JavaScript to the page it was posted
    from; htmx is told to load the sign-in page (HX-Redirect) instead of swapping in an answer.
    """
    if is_fragment_request(request):
        page = urlsplit(request.headers.get("HX-Current-URL", ""))
        target = urls.sign_in(urlunsplit(("", "", page.path or "/desk", page.query, "")))
        return Response(status_code=401, headers={"HX-Redirect": target})
    if request.method in ("GET", "HEAD"):
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(urls.sign_in(here), status_code=303)
    came_from = urlsplit(request.headers.get("referer", ""))
    back = came_from.path if came_from.netloc in ("", request.url.netloc) and came_from.path else "/desk"
    return RedirectResponse(urls.sign_in(back), status_code=303)


def _answer_in_place(request: Request, answer: RefusalAnswer, refusal: Refusal) -> Response | None:
    """Run `answer` on the request's session (reading the data as it now stands), then close that again."""
    session = getattr(request.state, "db_session", None)
    try:
        return answer(refusal)
    except CatalogError:  # the form's page is itself out of reach now: say why, plainly
        return None
    finally:
        if session is not None:
            session.close()


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    message = HTTP_MESSAGES.get(exc.status_code, str(exc.detail))
    response = _answer(request, exc.status_code, f"http_{exc.status_code}", message)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    details = [
        {"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")}
        for e in exc.errors()
    ]
    where = "、".join(d["where"] for d in details)
    return _answer(request, 422, "invalid", f"请求参数不正确：{where}", details)


async def on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    return _answer(request, 500, "internal", HTTP_MESSAGES[500])


def install(app: FastAPI) -> None:
    """Register the handlers on `app`."""
    app.add_exception_handler(CatalogError, on_catalog_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(Exception, on_unexpected)
