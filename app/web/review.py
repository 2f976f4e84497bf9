"""The review desk: the reviewer's queue and a draft's review page with its decision, comments and findings.

Every form works without JavaScript (a POST, then a redirect); with htmx the same routes answer
the partial the page includes. A refused form comes back in place (web.forms): 422 for bad
input, 409 for a stale view (with a reload link), 403 for a refused decision.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from app.db.models import User
from app.http.auth import MaybeUser, SignedIn
from app.http.deps import SessionDep
from app.http.errors import Refusal, refuse_in_place
from app.http.rendering import is_fragment_request, render
from app.services.review import page as review_page
from app.services.review import queue as review_queue
from app.services.review import workflow
from app.services.review.page import Show
from app.services.screening import drafts as screening
from app.web.forms import Text, login, toast

router = APIRouter(include_in_schema=False)

NOTICES = {
    "approve": "已审核通过，可以合并。",
    "return": "已退回部门修改，理由已随草稿送回。",
    "comment": "评论已发表。",
    "override": "已记录例外及理由。",
}
Partial = Callable[[], dict[str, Any]]  # the context of a partial as it now stands


@router.get("/review", response_class=HTMLResponse)
def queue_page(request: Request, session: SessionDep, user: MaybeUser) -> Response:
    if user is None:
        return login(request)
    return render(request, "review/queue.html", user=user, desk=review_queue.queue(session, actor=user))


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
    page = review_page.review_page(session, draft_id, actor=user, show=show, type_uid=type or None)
    partial = is_fragment_request(request) and request.headers.get("HX-Target") == "diff"
    template = "review/_diff.html" if partial else "review/draft.html"
    return render(request, template, user=user, page=page, notice=NOTICES.get(notice))


def _in_place(
    request: Request, session: Session, user: User, draft_id: int, template: str, context: Partial
) -> Callable[[Refusal], Response]:
    """Return how a refused form of the review page comes back: its partial, or the whole page."""

    def answer(refusal: Refusal) -> Response:
        if is_fragment_request(request):
            return render(
                request, template, status_code=refusal.status, user=user, refusal=refusal, **context()
            )
        page = review_page.review_page(session, draft_id, actor=user)
        return render(request, "review/draft.html", status_code=refusal.status, user=user, page=page,
                      notice=None, refusal=refusal)  # fmt: skip

    return answer


def _done(
    request: Request, user: User, draft_id: int, notice: str, anchor: str, template: str, context: Partial
) -> Response:
    """Answer a form that did its work: its partial with a toast (htmx), else back to the page."""
    if not is_fragment_request(request):
        return RedirectResponse(f"/review/drafts/{draft_id}?notice={notice}{anchor}", status_code=303)
    return toast(render(request, template, user=user, **context()), NOTICES[notice])


def _decision(session: Session, user: User, draft_id: int, notice: str | None = None) -> Partial:
    return lambda: {
        "decision": review_queue.decision(session, draft_id, actor=user),
        "notice": notice,
    }


@router.post("/review/drafts/{draft_id}/approve", response_class=HTMLResponse)
def approve(
    request: Request, draft_id: int, session: SessionDep, user: SignedIn, lock_version: Annotated[int, Form()]
) -> Response:
    answer = _in_place(
        request, session, user, draft_id, "review/_decision.html", _decision(session, user, draft_id)
    )
    refuse_in_place(request, "decision", answer)
    workflow.approve(session, draft_id, actor=user, lock=lock_version)
    return _done(request, user, draft_id, "approve", "#decision", "review/_decision.html",
                 _decision(session, user, draft_id, NOTICES["approve"]))  # fmt: skip


@router.post("/review/drafts/{draft_id}/return", response_class=HTMLResponse)
def return_draft(
    request: Request,
    draft_id: int,
    session: SessionDep,
    user: SignedIn,
    lock_version: Annotated[int, Form()],
    reason: Text = "",
) -> Response:
    answer = _in_place(
        request, session, user, draft_id, "review/_decision.html", _decision(session, user, draft_id)
    )
    refuse_in_place(request, "decision", answer, reason=reason)
    workflow.return_draft(session, draft_id, reason=reason, actor=user, lock=lock_version)
    return _done(request, user, draft_id, "return", "#decision", "review/_decision.html",
                 _decision(session, user, draft_id, NOTICES["return"]))  # fmt: skip


def _comments(session: Session, user: User, draft_id: int, item: str, fresh: int | None = None) -> Partial:
    def context() -> dict[str, Any]:
        said = [c for c in review_queue.comments_of(session, draft_id, actor=user) if c.uid == (item or None)]
        return {
            "draft_id": draft_id,
            "uid": item,
            "comments": said,
            "fresh": fresh,
            "oob": True,
        }

    return context


@router.post("/review/drafts/{draft_id}/comments", response_class=HTMLResponse)
def comment(
    request: Request, draft_id: int, session: SessionDep, user: SignedIn, body: Text = "", item: Text = ""
) -> Response:
    review_queue.reviewer_draft(session, draft_id, actor=user)  # comments here are the reviewer's
    answer = _in_place(
        request, session, user, draft_id, "review/_comments.html", _comments(session, user, draft_id, item)
    )
    refuse_in_place(request, f"comment:{item}", answer, body=body)
    fresh = workflow.add_comment(session, draft_id, body=body, uid=item or None, actor=user).id
    return _done(request, user, draft_id, "comment", f"#comments-{item or 'draft'}", "review/_comments.html",
                 _comments(session, user, draft_id, item, fresh))  # fmt: skip


def _findings(session: Session, user: User, draft_id: int, uid: str, fresh: str | None = None) -> Partial:
    def context() -> dict[str, Any]:
        found = review_queue.findings_of(session, draft_id, uid, actor=user)
        return {"draft_id": draft_id, "uid": uid, "findings": found, "fresh": fresh}

    return context


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
    answer = _in_place(
        request, session, user, draft_id, "review/_findings.html", _findings(session, user, draft_id, uid)
    )
    refuse_in_place(request, f"override:{uid}:{rule}", answer, reason=reason)
    screening.record_override(session, draft_id, uid, rule, reason=reason, actor=user)
    return _done(request, user, draft_id, "override", f"#findings-{uid}", "review/_findings.html",
                 _findings(session, user, draft_id, uid, rule))  # fmt: skip
