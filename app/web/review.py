"""The review desk: the reviewer's queue and a draft's review page with its decision, comments and findings.

Every form works without JavaScript (a POST, then a redirect); with htmx the same routes answer
the partial the page includes. A refused form comes back as that partial with the message in
place: 422 for bad input, 409 for a stale view (with a reload link), 403 for a refused decision.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.db.models import User
from app.errors import CatalogError, Conflict
from app.http.auth import MaybeUser, SignedIn
from app.http.deps import SessionDep
from app.http.errors import status_of
from app.services.review import page as review_diff
from app.services.review import queue as review_view
from app.services.review import workflow as review
from app.services.review.page import Show
from app.services.screening import drafts as screening
from app.web.review_forms import NOTICES, REFUSALS, Text, login, toast
from app.web.templating import is_fragment_request, render

router = APIRouter(include_in_schema=False)


def _page(draft_id: int, notice: str, anchor: str = "") -> Response:
    return RedirectResponse(f"/review/drafts/{draft_id}?notice={notice}{anchor}", status_code=303)


@router.get("/review", response_class=HTMLResponse)
def queue_page(request: Request, session: SessionDep, user: MaybeUser) -> Response:
    if user is None:
        return login(request)
    return render(request, "review/queue.html", user=user, desk=review_view.queue(session, actor=user))


@router.get("/review/drafts/{draft_id}", response_class=HTMLResponse)
def draft_page(
    request: Request,
    draft_id: int,
    session: SessionDep,
    user: MaybeUser,
    show: Annotated[Show, Query()] = Show.ALL,
    type: Annotated[str, Query()] = "",
    notice: Annotated[str, Query()] = "",
) -> Response:
    if user is None:
        return login(request)
    page = review_diff.review_page(session, draft_id, actor=user, show=show, type_uid=type or None)
    partial = is_fragment_request(request) and request.headers.get("HX-Target") == "diff"
    return render(
        request,
        "review/_diff.html" if partial else "review/draft.html",
        user=user,
        page=page,
        notice=NOTICES.get(notice),
        errors={},
        values={},
        stale=False,
    )


def _refused(
    request: Request, session: SessionDep, user: User, target: int, exc: CatalogError, **partial: Any
) -> Response:
    """Answer a refused form: its partial with the message (htmx), else the whole page with it in place."""
    key, template = partial.pop("key"), partial.pop("template")
    errors, values = {key: exc.message}, partial.pop("values", {})
    if is_fragment_request(request):
        context = {"errors": errors, "values": values, "notice": None, **partial}
        return render(request, template, status_code=status_of(exc), user=user, **context)
    page = review_diff.review_page(session, target, actor=user)
    return render(
        request,
        "review/draft.html",
        status_code=status_of(exc),
        user=user,
        page=page,
        notice=None,
        errors=errors,
        values=values,
        stale=partial.get("stale", False),
    )


def _decide(
    request: Request, session: SessionDep, user: User, draft_id: int, act: str, **kw: Any
) -> Response:
    review_view.reviewer_draft(session, draft_id, actor=user)
    try:
        if act == "approve":
            review.approve(session, draft_id, actor=user, lock=kw["lock"])
        else:
            review.return_draft(session, draft_id, reason=kw["reason"], actor=user, lock=kw["lock"])
    except REFUSALS as exc:
        session.rollback()
        return _refused(
            request,
            session,
            user,
            draft_id,
            exc,
            key="decision",
            template="review/_decision.html",
            values={"reason": kw.get("reason", "")},
            decision=review_view.decision(session, draft_id, actor=user),
            stale=isinstance(exc, Conflict),
        )
    if not is_fragment_request(request):
        return _page(draft_id, act, "#decision")
    decision = review_view.decision(session, draft_id, actor=user)
    page = render(
        request,
        "review/_decision.html",
        user=user,
        decision=decision,
        errors={},
        values={},
        notice=NOTICES[act],
        stale=False,
    )
    return toast(page, act)


@router.post("/review/drafts/{draft_id}/approve", response_class=HTMLResponse)
def approve(
    request: Request, draft_id: int, session: SessionDep, user: SignedIn, lock_version: Annotated[int, Form()]
) -> Response:
    return _decide(request, session, user, draft_id, "approve", lock=lock_version)


@router.post("/review/drafts/{draft_id}/return", response_class=HTMLResponse)
def return_draft(
    request: Request,
    draft_id: int,
    session: SessionDep,
    user: SignedIn,
    lock_version: Annotated[int, Form()],
    reason: Text = "",
) -> Response:
    return _decide(request, session, user, draft_id, "return", lock=lock_version, reason=reason)


@router.post("/review/drafts/{draft_id}/comments", response_class=HTMLResponse)
def comment(
    request: Request, draft_id: int, session: SessionDep, user: SignedIn, body: Text = "", item: Text = ""
) -> Response:
    review_view.reviewer_draft(session, draft_id, actor=user)
    fresh = None
    try:
        fresh = review.add_comment(session, draft_id, body=body, uid=item or None, actor=user).id
    except REFUSALS as exc:
        session.rollback()
        said = [c for c in review_view.comments_of(session, draft_id, actor=user) if c.uid == (item or None)]
        return _refused(
            request,
            session,
            user,
            draft_id,
            exc,
            key=f"comment:{item}",
            template="review/_comments.html",
            values={f"comment:{item}": body},
            draft_id=draft_id,
            uid=item,
            comments=said,
            fresh=None,
            oob=True,
        )
    if not is_fragment_request(request):
        return _page(draft_id, "comment", f"#comments-{item or 'draft'}")
    said = [c for c in review_view.comments_of(session, draft_id, actor=user) if c.uid == (item or None)]
    page = render(
        request,
        "review/_comments.html",
        user=user,
        draft_id=draft_id,
        uid=item,
        comments=said,
        fresh=fresh,
        oob=True,
        errors={},
        values={},
    )
    return toast(page, "comment")


@router.post("/review/drafts/{draft_id}/items/{uid}/overrides", response_class=HTMLResponse)
def override(
    request: Request,
    draft_id: int,
    uid: str,
    session: SessionDep,
    user: SignedIn,
    rule: Text = "",
    reason: Text = "",
) -> Response:
    review_view.reviewer_draft(session, draft_id, actor=user)
    key = f"override:{uid}:{rule}"
    try:
        screening.record_override(session, draft_id, uid, rule, reason=reason, actor=user)
    except REFUSALS as exc:
        session.rollback()
        return _refused(
            request,
            session,
            user,
            draft_id,
            exc,
            key=key,
            template="review/_findings.html",
            values={key: reason},
            draft_id=draft_id,
            uid=uid,
            findings=review_view.findings_of(session, draft_id, uid, actor=user),
            fresh=None,
        )
    if not is_fragment_request(request):
        return _page(draft_id, "override", f"#findings-{uid}")
    found = review_view.findings_of(session, draft_id, uid, actor=user)
    page = render(
        request,
        "review/_findings.html",
        user=user,
        draft_id=draft_id,
        uid=uid,
        findings=found,
        fresh=rule,
        errors={},
        values={},
    )
    return toast(page, "override")
