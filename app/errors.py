"""The CatalogError family: domain errors that carry meaning; only the web layer maps them to HTTP."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence


class CatalogError(Exception):
    """Base of every error a user can cause; `message` is shown to them (zh-CN)."""

    code = "error"

    def __init__(self, message: str, *, details: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details  # sent with the answer when set (e.g. what changed, for a 409)


class NotFound(CatalogError):
    code = "not_found"


class Unauthenticated(CatalogError):
    code = "unauthenticated"


class Throttled(CatalogError):
    code = "throttled"


class Forbidden(CatalogError):
    code = "forbidden"


class InvalidInput(CatalogError):
    code = "invalid"


class InvalidTransition(CatalogError):
    code = "invalid_transition"


class Conflict(CatalogError):
    code = "conflict"


class ScreeningBlocked(CatalogError):
    """Submit refused: items carry `block` screening findings that no finance reviewer overrode.

    `findings` keeps the objects (the screening service's ItemFinding); `details`, sent to API
    clients, holds them as plain dicts. Findings may come through either keyword.
    """

    code = "screening_blocked"

    def __init__(self, message: str, *, findings: Sequence[object] = (), details: object = None) -> None:
        if not findings and isinstance(details, list | tuple):
            findings = details
        if findings:
            details = [_plain(f) for f in findings]
        super().__init__(message, details=details)
        self.findings = tuple(findings)


def _plain(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value
