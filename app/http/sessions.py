"""Signed session cookies and CSRF tokens.

The cookie holds the user's id, a fingerprint of their password hash (a new password ends
old sessions) and the session's CSRF token, signed and time-limited; it is HttpOnly,
SameSite=Lax, and Secure whenever the request came over HTTPS.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "guidecat_session"
LOGIN_COOKIE = "guidecat_login"  # a pre-login CSRF token, so the sign-in form cannot be forged either
MAX_AGE = 12 * 3600
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True, slots=True)
class SessionData:
    user_id: int
    fingerprint: str
    csrf: str


def _serializer(request: Request, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.settings.secret_key, salt=salt)


def read(request: Request) -> SessionData | None:
    """Return the request's valid session, or None."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        data = _serializer(request, "session").loads(raw, max_age=MAX_AGE)
        return SessionData(int(data["u"]), str(data["f"]), str(data["c"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        return None


def start(request: Request, response: Response, *, user_id: int, fingerprint: str) -> None:
    """Set a fresh session cookie (new CSRF token) on `response`."""
    value = _serializer(request, "session").dumps(
        {"u": user_id, "f": fingerprint, "c": secrets.token_urlsafe(24)}
    )
    _set(request, response, COOKIE, value, MAX_AGE)
    response.delete_cookie(LOGIN_COOKIE, path="/")


def end(response: Response) -> None:
    """Clear the session cookie."""
    response.delete_cookie(COOKIE, path="/")


def login_token(request: Request, response: Response) -> str:
    """Return the sign-in form's CSRF token, setting its signed cookie when missing."""
    current = _login_token(request)
    if current is not None:
        return current
    token = secrets.token_urlsafe(24)
    _set(request, response, LOGIN_COOKIE, _serializer(request, "login").dumps(token), 3600)
    return token


def _login_token(request: Request) -> str | None:
    raw = request.cookies.get(LOGIN_COOKIE)
    if not raw:
        return None
    try:
        return str(_serializer(request, "login").loads(raw, max_age=3600))
    except BadSignature:
        return None


def _set(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    secure = request.url.scheme == "https"
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax", secure=secure, path="/")


def csrf_ok(request: Request, sent: str | None) -> bool:
    """Return whether `sent` is the CSRF token of the request's session (or of its sign-in form)."""
    data = read(request)
    expected = data.csrf if data is not None else _login_token(request)
    return bool(sent and expected and hmac.compare_digest(sent, expected))
