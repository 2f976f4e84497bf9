"""The merge page: a merge's conflicts, their resolution one by one or per type, and the guarded merge.

Like the review page, every form works without JavaScript (a POST, then a redirect) and answers
the merge body in place under htmx, with a refusal's message where the form was.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.db.models import User
from app.errors import Conflict
from app.http.auth import MaybeUser, SignedIn
from app.http.deps import SessionDep
from app.http.errors import status_of
from app.services.merging import preview as merge_view
from app.services.merging import resolution as merge_resolution
from app.services.review import queue as review_view
from app.web.review_forms import NOTICES, REFUSALS, Text, login, toast
from app.web.templating import is_fragment_request, render

router = APIRouter(include_in_schema=False)


def _merge_answer(
    request: Request,
    session: SessionDep,
    user: User,
    draft_id: int,
    *,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """Answer with the merge body (htmx) or the whole merge page, as the preview now stands."""
    preview = merge_view.merge_preview(session, draft_id, actor=user)
    template = "review/_merge.html" if is_fragment_request(request) else "review/merge.html"
    context = {
        "errors": {},
        "values": {},
        "notice": None,
        "fresh": None,
        "written": None,
        "stale": False,
        **context,
    }
    return render(request, template, status_code=status_code, user=user, preview=preview, **context)


@router.get("/review/drafts/{draft_id}/merge", response_class=HTMLResponse)
def merge_page(
    request: Request, draft_id: int, session: SessionDep, user: MaybeUser, notice: str = ""
) -> Response:
    if user is None:
        return login(request)
    return _merge_answer(request, session, user, draft_id, notice=NOTICES.get(notice))


@router.post("/review/drafts/{draft_id}/merge", response_class=HTMLResponse)
def merge(request: Request, draft_id: int, session: SessionDep, user: SignedIn, seen: Text = "") -> Response:
    review_view.reviewer_draft(session, draft_id, actor=user)
    try:
        seen_preview, outcome = merge_resolution.merge_seen(session, draft_id, seen=seen, actor=user)
    except REFUSALS as exc:
        session.rollback()
        stale = isinstance(exc, Conflict)
        return _merge_answer(
            request,
            session,
            user,
            draft_id,
            status_code=status_of(exc),
            errors={"merge": exc.message},
            stale=stale,
        )
    if not outcome.merged and seen_preview.unregistered:  # the reviewer asked to register them
        notice = f"已登记 {len(outcome.conflicts)} 个冲突，请逐项或按类处理；目录未作任何改动。"
        return _merge_answer(request, session, user, draft_id, notice=notice)
    if not outcome.merged:
        message = f"还有 {len(outcome.conflicts)} 个冲突需要处理，处理完后再合并；目录未作任何改动。"
        return _merge_answer(request, session, user, draft_id, status_code=409, errors={"merge": message})
    response = _merge_answer(
        request, session, user, draft_id, written=outcome.written, notice=NOTICES["merge"]
    )
    return toast(response, "merge")


@router.post("/review/drafts/{draft_id}/merge/conflicts/{conflict_id}", response_class=HTMLResponse)
def resolve(
    request: Request,
    draft_id: int,
    conflict_id: int,
    session: SessionDep,
    user: SignedIn,
    take: Text = "",
    value: Text = "",
) -> Response:
    try:
        merge_resolution.resolve_one(session, draft_id, conflict_id, take=take, value=value, actor=user)
    except REFUSALS as exc:
        session.rollback()
        key = "merge" if isinstance(exc, Conflict) else f"conflict:{conflict_id}"
        return _merge_answer(
            request,
            session,
            user,
            draft_id,
            status_code=status_of(exc),
            errors={key: exc.message},
            values={key: value},
            stale=isinstance(exc, Conflict),
        )
    if not is_fragment_request(request):
        return RedirectResponse(f"/review/drafts/{draft_id}/merge?notice=resolve", status_code=303)
    response = _merge_answer(request, session, user, draft_id, fresh={conflict_id}, notice=NOTICES["resolve"])
    return toast(response, "resolve")


@router.post("/review/drafts/{draft_id}/merge/conflicts", response_class=HTMLResponse)
def resolve_type(
    request: Request, draft_id: int, session: SessionDep, user: SignedIn, take: Text = "", type: Text = ""
) -> Response:
    try:
        done = merge_resolution.resolve_type(session, draft_id, type, take=take, actor=user)
    except REFUSALS as exc:
        session.rollback()
        return _merge_answer(
            request, session, user, draft_id, status_code=status_of(exc), errors={f"type:{type}": exc.message}
        )
    if not is_fragment_request(request):
        return RedirectResponse(f"/review/drafts/{draft_id}/merge?notice=resolve", status_code=303)
    response = _merge_answer(
        request, session, user, draft_id, fresh=set(done), notice=f"已按整类处理 {len(done)} 个冲突。"
    )
    return toast(response, "resolve")
