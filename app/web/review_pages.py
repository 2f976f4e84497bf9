"""The review desk: the reviewer's queue, a draft's review page, and the merge page with its conflicts.

Every form works without JavaScript (a POST, then a redirect); with htmx the same routes answer
the partial the page includes. A refused form comes back as that partial with the message in
place: 422 for bad input, 409 for a stale view (with a reload link), 403 for a refused decision.
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.auth import MaybeUser, SignedIn
from app.db.models import User
from app.deps import SessionDep
from app.errors import CatalogError, Conflict, Forbidden, InvalidInput, InvalidTransition
from app.services import review, review_view, screening
from app.services.review_view import Show
from app.web.errors import status_of
from app.web.templating import is_fragment_request, render

router = APIRouter(include_in_schema=False)

# What a form may be refused with and still come back in place; anything else goes to web/errors.
REFUSALS = (InvalidInput, Conflict, Forbidden, InvalidTransition)
NOTICES = {
    "approve": "已审核通过，可以合并。",
    "return": "已退回部门修改，理由已随草稿送回。",
    "comment": "评论已发表。",
    "override": "已记录例外及理由。",
    "resolve": "冲突处理已记录。",
    "merge": "已合并。",
}
Text = Annotated[str, Form()]


def _login(request: Request) -> Response:
    return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)


def _page(draft_id: int, notice: str, anchor: str = "") -> Response:
    return RedirectResponse(f"/review/drafts/{draft_id}?notice={notice}{anchor}", status_code=303)


def _toast(response: Response, notice: str) -> Response:
    response.headers["HX-Trigger"] = json.dumps({"guidecat:toast": NOTICES[notice]})  # ASCII-escaped
    return response


@router.get("/review", response_class=HTMLResponse)
def queue_page(request: Request, session: SessionDep, user: MaybeUser) -> Response:
    if user is None:
        return _login(request)
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
        return _login(request)
    page = review_view.review_page(session, draft_id, actor=user, show=show, type_uid=type or None)
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
    page = review_view.review_page(session, target, actor=user)
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
    return _toast(page, act)


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
    return _toast(page, "comment")


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
    return _toast(page, "override")


# --- merging ------------------------------------------------------------------------------


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
    preview = review_view.merge_preview(session, draft_id, actor=user)
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
        return _login(request)
    return _merge_answer(request, session, user, draft_id, notice=NOTICES.get(notice))


@router.post("/review/drafts/{draft_id}/merge", response_class=HTMLResponse)
def merge(request: Request, draft_id: int, session: SessionDep, user: SignedIn, seen: Text = "") -> Response:
    review_view.reviewer_draft(session, draft_id, actor=user)
    try:
        seen_preview, outcome = review_view.merge_seen(session, draft_id, seen=seen, actor=user)
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
    return _toast(response, "merge")


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
        review_view.resolve_one(session, draft_id, conflict_id, take=take, value=value, actor=user)
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
    return _toast(response, "resolve")


@router.post("/review/drafts/{draft_id}/merge/conflicts", response_class=HTMLResponse)
def resolve_type(
    request: Request, draft_id: int, session: SessionDep, user: SignedIn, take: Text = "", type: Text = ""
) -> Response:
    try:
        done = review_view.resolve_type(session, draft_id, type, take=take, actor=user)
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
    return _toast(response, "resolve")
