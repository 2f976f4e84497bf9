"""The merge page: a merge's conflicts, their resolution one by one or per type, and the guarded merge.

Like the review page, every form works without JavaScript (a POST, then a redirect) and answers
the merge body in place under htmx, with a refusal's message where the form was (web.forms).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from app.db.models import User
from app.http.auth import MaybeUser, SignedIn
from app.http.deps import SessionDep
from app.http.errors import Refusal, refuse_in_place
from app.http.rendering import is_fragment_request, render
from app.services.merging import resolution
from app.services.merging.preview import MergePreview, merge_preview
from app.web.forms import Text, login, toast

router = APIRouter(include_in_schema=False)

NOTICES = {"resolve": "冲突处理已记录。", "merge": "已合并。"}


def _answer(
    request: Request,
    session: Session,
    user: User,
    draft_id: int,
    *,
    preview: MergePreview | None = None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """Answer with the merge body (htmx) or the whole merge page, as the preview now stands."""
    shown = preview or merge_preview(session, draft_id, actor=user)
    template = "review/_merge.html" if is_fragment_request(request) else "review/merge.html"
    context = {"notice": None, "fresh": None, "written": None, **context}
    return render(request, template, status_code=status_code, user=user, preview=shown, **context)


def _in_place(
    request: Request, session: Session, user: User, draft_id: int, *, stale_key: str = "merge"
) -> Callable[[Refusal], Response]:
    """Return how a refused form of the merge page comes back: a stale page's message goes on top."""

    def answer(refusal: Refusal) -> Response:
        shown = dataclasses.replace(refusal, key=stale_key) if refusal.stale else refusal
        return _answer(request, session, user, draft_id, status_code=refusal.status, refusal=shown)

    return answer


@router.get("/review/drafts/{draft_id}/merge", response_class=HTMLResponse)
def merge_page(
    request: Request, draft_id: int, session: SessionDep, user: MaybeUser, notice: str = ""
) -> Response:
    if user is None:
        return login(request)
    return _answer(request, session, user, draft_id, notice=NOTICES.get(notice))


@router.post("/review/drafts/{draft_id}/merge", response_class=HTMLResponse)
def merge(request: Request, draft_id: int, session: SessionDep, user: SignedIn, seen: Text = "") -> Response:
    refuse_in_place(request, "merge", _in_place(request, session, user, draft_id))
    before, after, outcome = resolution.merge_seen(session, draft_id, seen=seen, actor=user)
    if not outcome.merged and before.unregistered:  # the reviewer asked to register them
        notice = f"已登记 {len(outcome.conflicts)} 个冲突，请逐项或按类处理；目录未作任何改动。"
        return _answer(request, session, user, draft_id, preview=after, notice=notice)
    if not outcome.merged:
        message = f"还有 {len(outcome.conflicts)} 个冲突需要处理，处理完后再合并；目录未作任何改动。"
        refusal = Refusal("merge", message, 409)
        return _answer(request, session, user, draft_id, preview=after, status_code=409, refusal=refusal)
    response = _answer(
        request, session, user, draft_id, preview=after, written=outcome.written, notice=NOTICES["merge"]
    )
    return toast(response, NOTICES["merge"])


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
    refuse_in_place(
        request, f"conflict:{conflict_id}", _in_place(request, session, user, draft_id), value=value
    )
    resolution.decide(session, draft_id, conflict_id, take=take, text=value, actor=user)
    if not is_fragment_request(request):
        return RedirectResponse(f"/review/drafts/{draft_id}/merge?notice=resolve", status_code=303)
    response = _answer(request, session, user, draft_id, fresh={conflict_id}, notice=NOTICES["resolve"])
    return toast(response, NOTICES["resolve"])


@router.post("/review/drafts/{draft_id}/merge/conflicts", response_class=HTMLResponse)
def resolve_type(
    request: Request, draft_id: int, session: SessionDep, user: SignedIn, take: Text = "", type: Text = ""
) -> Response:
    refuse_in_place(
        request, f"type:{type}", _in_place(request, session, user, draft_id, stale_key=f"type:{type}")
    )
    done = resolution.resolve_type(session, draft_id, type, take=take, actor=user)
    if not is_fragment_request(request):
        return RedirectResponse(f"/review/drafts/{draft_id}/merge?notice=resolve", status_code=303)
    response = _answer(
        request, session, user, draft_id, fresh=set(done), notice=f"已按整类处理 {len(done)} 个冲突。"
    )
    return toast(response, "冲突处理已记录。")
