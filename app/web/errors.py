"""The one error handler: it alone knows status codes, and answers JSON, a fragment or a page."""

from __future__ import annotations

import logging
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


def _answer(request: Request, status: int, code: str, message: str, details: Any = None) -> Response:
    if request.url.path.startswith("/api/"):
        body: dict[str, Any] = {"code": code, "message": message}
        if details is not None:
            body["details"] = details
        return JSONResponse({"error": body}, status_code=status)
    if is_fragment_request(request):
        response = render(request, "errors/_flash.html", status_code=status, message=message)
        response.headers["HX-Retarget"] = "#flash"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    return render(request, "errors/error.html", status_code=status, status=status, message=message)


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
