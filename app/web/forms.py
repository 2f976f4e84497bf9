"""How every page's forms answer: refused in place (one mechanism), done with a toast or a redirect.

A refusal is answered by the one error handler (app.http.errors): a route says, before it
calls its service, how its form comes back (`refuse_in_place`); the service raises; the form
comes back in place with the message (422), or the page comes back as the data now stands
with a reload link (409). Without JavaScript the same forms post normally: success redirects
back (303) to the page, a refusal renders the whole page with the message in place.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response

from app.errors import InvalidInput
from app.http import urls
from app.http.errors import NO_REFUSAL, Refusal, refuse_in_place
from app.http.rendering import is_fragment_request, render

Text = Annotated[str, Form()]
View = Callable[..., Response]


@dataclass(frozen=True, slots=True)
class Outcome:
    """A done action: the toast's text and the id of the element that changed."""

    message: str
    changed: str


@dataclass(frozen=True, slots=True)
class Confirming:
    """A form that cannot be undone, shown back with what it would do before anything is written."""

    key: str  # which form
    plan: Any  # what the service says it would do (lifecycle.IssuePlan, PublishPlan …)


def ask_first(
    request: Request, view: View, *, key: str, form: Mapping[str, str], plan: Callable[[], object]
) -> Response:
    """Answer an irreversible form with `view` showing what `plan()` says it would do, and a confirm
    button; a refusal of `plan` comes back in place like any other."""
    refuse_in_place(request, key, lambda refusal: view(refusal=refusal), **form)
    return view(confirming=Confirming(key, plan()))


def show(request: Request, page: str, partial: str, *, status_code: int = 200, **context: Any) -> Response:
    """Return the whole `page`, or only its `partial` when htmx asked for a fragment."""
    fragment = is_fragment_request(request)
    extras = {"refusal": NO_REFUSAL, "changed": None, "toast": None, "fragment": fragment, "confirming": None}
    extras |= context
    return render(
        request, partial if fragment else page, status_code=status_of(extras, status_code), **extras
    )


def status_of(context: Mapping[str, Any], default: int) -> int:
    """Return the status a view answers with: its refusal's, if any."""
    refusal = context.get("refusal")
    return refusal.status if isinstance(refusal, Refusal) and refusal is not NO_REFUSAL else default


def answer(
    request: Request, do: Callable[[], Outcome], view: View, *, key: str, form: Mapping[str, str]
) -> Response:
    """Run the action `do` and answer with `view`: the changed row and a toast, or a redirect back.

    A refusal of `do` comes back through `view(refusal=…)`, in place.
    """
    refuse_in_place(request, key, lambda refusal: view(refusal=refusal), **form)
    outcome = do()
    if not is_fragment_request(request):
        changed = quote(outcome.changed)
        return RedirectResponse(f"{_page_of(request.url.path)}?changed={changed}#{changed}", status_code=303)
    return view(changed=outcome.changed, toast=outcome.message)


def toast(response: Response, message: str) -> Response:
    """Have htmx show `message` as a toast once `response` is swapped in."""
    response.headers["HX-Trigger"] = json.dumps({"guidecat:toast": message})  # ASCII-escaped
    return response


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
    return RedirectResponse(urls.sign_in(path), status_code=303)


def login(request: Request) -> Response:
    """Send a signed-out visitor to the login page, to come back here after."""
    return to_login(request.url.path)
