"""How every admin action answers, for the admin route modules (versions, users, departments, rules).

An action posted by htmx answers with the page's partial: the changed row highlighted and a
toast (200), the form re-rendered with its error (422), or the current state with what
changed and a reload link (409). Without JavaScript the same forms post normally: success
redirects back (303) to the page with the row highlighted; errors render the whole page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from app.errors import Conflict, InvalidInput, InvalidTransition
from app.web.templating import is_fragment_request, render


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
