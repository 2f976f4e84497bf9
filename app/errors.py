"""The CatalogError family: domain errors that carry meaning; only the web layer maps them to HTTP."""

from __future__ import annotations


class CatalogError(Exception):
    """Base of every error a user can cause; `message` is shown to them (zh-CN)."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(CatalogError):
    code = "not_found"


class Unauthenticated(CatalogError):
    code = "unauthenticated"


class Forbidden(CatalogError):
    code = "forbidden"


class InvalidInput(CatalogError):
    code = "invalid"


class InvalidTransition(CatalogError):
    code = "invalid_transition"


class Conflict(CatalogError):
    code = "conflict"
