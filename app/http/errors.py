"""The one error handler: it alone knows status codes, and answers JSON, a fragment or a page."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
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
from app.web.templating import is_fragment_request, render

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
class ErrorForm:
    """The form a request came from: re-rendered with the message when the request answers 422."""

    template: str
    target: str  # a CSS selector of the element the form replaces
    context: dict[str, Any]


def form_on_error(request: Request, template: str, *, target: str, **context: Any) -> None:
    """Have a 422 answer to this htmx request be `template` (with `error` set) swapped into `target`."""
    request.state.error_form = ErrorForm(template, target, context)


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
    """Return the error as a fragment for the page: the form re-rendered (422), or a message into #flash."""
    form: ErrorForm | None = getattr(request.state, "error_form", None)
    if status == 422 and form is not None and code == "invalid":
        response = render(request, form.template, status_code=status, **(form.context | {"error": message}))
        response.headers["HX-Retarget"] = form.target
        response.headers["HX-Reswap"] = "outerHTML"
        return response
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
    response = _answer(request, status_of(exc), exc.code, exc.message, exc.details)
    if isinstance(exc, Unauthenticated):
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


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
