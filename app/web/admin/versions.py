"""Finance pages: the versions page (open, issue, publish, schedule), the publication board, findings.

Signed-in users only; the actions answer as every admin action does (see admin_pages.answer).
"""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from app.db.models import User
from app.errors import Conflict, NotFound
from app.http.auth import MaybeUser, SignedIn
from app.http.deps import SessionDep, Today
from app.http.errors import refuse_in_place
from app.http.rendering import is_fragment_request, render
from app.services import access
from app.services.calendar import overview as calendar_overview
from app.services.merging import merge as merging
from app.services.screening.versions import FindingFilter, version_findings
from app.services.versions import board, lifecycle, overview
from app.services.versions.board import BoardSort
from app.web.forms import Outcome, View, answer, ask_first, parse_date, show, to_login
from app.workflow.states import Role

router = APIRouter(prefix="/admin", include_in_schema=False)


@router.get("/board", response_class=HTMLResponse)
def board_page(
    request: Request,
    session: SessionDep,
    user: MaybeUser,
    today: Today,
    sort: Annotated[BoardSort, Query()] = BoardSort.STATE,
) -> Response:
    if user is None:
        return RedirectResponse("/login?next=/admin/board", status_code=303)
    jurisdiction_id, department_id = board.scope_of(user)
    rows = board.board(
        session, jurisdiction_id=jurisdiction_id, department_id=department_id, today=today, sort=sort
    )
    return render(request, "admin/board.html", user=user, rows=rows, today=today, sort=sort)


@router.get("/catalogs/{slug}/versions/{seq}/findings", response_class=HTMLResponse)
def findings_page(
    request: Request,
    slug: str,
    seq: int,
    session: SessionDep,
    user: MaybeUser,
    severity: Annotated[str | None, Query()] = None,
) -> Response:
    if user is None:
        raise NotFound("页面不存在")
    access.require_finance(user)
    rows = version_findings(session, slug, seq, filters=FindingFilter(severity=severity or None), actor=user)
    version = lifecycle.get_version(session, slug, seq)
    return render(
        request, "admin/findings.html", user=user, rows=rows, slug=slug, version=version, severity=severity
    )


# --- versions: open, issue (印发), publish (公开), schedule ---------------------------------------


def _versions_view(
    request: Request, session: Session, user: User, today: date, slug: str | None = None
) -> View:
    """Return the view of the versions page; for a fragment, only the catalog `slug` acted on."""

    def view(**extras: Any) -> Response:
        only = slug if is_fragment_request(request) else None
        shown = overview.catalog_versions(session, user, today=today, slug=only)
        role = access.role_of(user)
        missing = calendar_overview.missing_years(session, today=today)  # a gap deadlines will soon reach
        return show(
            request, "admin/versions.html", "admin/_catalog.html", user=user, catalogs=shown, acted=slug,
            cv=shown[0] if shown else None, today=today, can_act=role is Role.FINANCE_ADMIN, missing=missing,
            **extras,
        )  # fmt: skip

    return view


@router.get("", response_class=HTMLResponse)
def versions_page(
    request: Request, session: SessionDep, user: MaybeUser, today: Today, changed: str | None = None
) -> Response:
    if user is None:
        return to_login("/admin")
    return _versions_view(request, session, user, today)(changed=changed)


@router.post("/catalogs/{slug}/versions", response_class=HTMLResponse)
def open_version(
    request: Request,
    slug: str,
    session: SessionDep,
    user: SignedIn,
    today: Today,
    label: Annotated[str, Form()] = "",
) -> Response:
    def do() -> Outcome:
        v = lifecycle.open_version(session, slug, label=label, actor=user)
        return Outcome(f"已新建第{v.seq}版（{v.label}），编制中", f"version-{slug}-{v.seq}")

    view = _versions_view(request, session, user, today, slug)
    return answer(request, do, view, key=f"open-{slug}", form={"label": label})


@router.post("/catalogs/{slug}/versions/{seq}/issue", response_class=HTMLResponse)
def issue_version(
    request: Request,
    slug: str,
    seq: int,
    session: SessionDep,
    user: SignedIn,
    today: Today,
    doc_number: Annotated[str, Form()] = "",
    issued_on: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
    confirm_date: Annotated[str, Form()] = "",
) -> Response:
    """Issue (印发) in two steps: what it would fix for ever is shown first, then confirmed."""
    key, form = f"issue-{slug}-{seq}", {"doc_number": doc_number, "issued_on": issued_on}
    view = _versions_view(request, session, user, today, slug)

    def plan() -> lifecycle.IssuePlan:
        on = parse_date(issued_on, "印发日期")
        return lifecycle.plan_issue(session, slug, seq, doc_number=doc_number, on=on, today=today, actor=user)

    if confirm != "1":
        return ask_first(request, view, key=key, form=form, plan=plan)

    def do() -> Outcome:
        v = lifecycle.issue(
            session, slug, seq, doc_number=doc_number, on=parse_date(issued_on, "印发日期"), today=today,
            actor=user, unusual_date_confirmed=confirm_date == "1",
        )  # fmt: skip
        deadline = v.publication_deadline.isoformat() if v.publication_deadline else "—"
        return Outcome(f"第{seq}版已印发（{v.doc_number}），须在 {deadline} 前公开", f"version-{slug}-{seq}")

    return answer(request, do, view, key=key, form=form)


@router.post("/catalogs/{slug}/versions/{seq}/publish", response_class=HTMLResponse)
def publish_version(
    request: Request,
    slug: str,
    seq: int,
    session: SessionDep,
    user: SignedIn,
    today: Today,
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """Publish (公开) in two steps: what it makes public, and what it supersedes, is shown first."""
    view = _versions_view(request, session, user, today, slug)
    if confirm != "1":
        plan = partial(lifecycle.plan_publish, session, slug, seq, actor=user)
        return ask_first(request, view, key=f"publish-{slug}-{seq}", form={}, plan=plan)

    def do() -> Outcome:
        v = lifecycle.publish(session, slug, seq, actor=user)
        return Outcome(f"第{seq}版（{v.label}）已公开，公众现在可以查看", f"version-{slug}-{seq}")

    return answer(request, do, view, key=f"publish-{slug}-{seq}", form={})


@router.post("/catalogs/{slug}/versions/{seq}/schedule", response_class=HTMLResponse)
def schedule_version(
    request: Request,
    slug: str,
    seq: int,
    session: SessionDep,
    user: SignedIn,
    today: Today,
    publish_on: Annotated[str, Form()] = "",
) -> Response:
    def do() -> Outcome:
        on = parse_date(publish_on, "公开日期")
        lifecycle.schedule(session, slug, seq, on=on, today=today, actor=user)
        return Outcome(f"第{seq}版将于 {on.isoformat()} 自动公开", f"version-{slug}-{seq}")

    view = _versions_view(request, session, user, today, slug)
    return answer(request, do, view, key=f"schedule-{slug}-{seq}", form={"publish_on": publish_on})


# --- the drafts merged into a version, and reverting one ---------------------------------------


def _merges_view(request: Request, session: Session, user: User, slug: str, seq: int) -> View:
    def view(**extras: Any) -> Response:
        version, merged = overview.merged_into(session, slug, seq, actor=user)
        return show(
            request, "admin/merges.html", "admin/_merges.html", user=user, slug=slug, version=version,
            merged=merged, **extras,
        )  # fmt: skip

    return view


@router.get("/catalogs/{slug}/versions/{seq}/merges", response_class=HTMLResponse)
def merges_page(request: Request, slug: str, seq: int, session: SessionDep, user: SignedIn) -> Response:
    return _merges_view(request, session, user, slug, seq)()


@router.post("/catalogs/{slug}/versions/{seq}/merges/{draft_id}/revert", response_class=HTMLResponse)
def revert_merge(
    request: Request,
    slug: str,
    seq: int,
    draft_id: int,
    session: SessionDep,
    user: SignedIn,
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """Revert a merged draft in two steps: what the new draft will undo is shown first."""
    view = _merges_view(request, session, user, slug, seq)
    key = f"revert-{draft_id}"
    if confirm != "1":
        plan = partial(_revert_plan, session, slug, seq, draft_id, actor=user)
        return ask_first(request, view, key=key, form={}, plan=plan)
    refuse_in_place(request, key, lambda refusal: view(refusal=refusal))
    reverting = merging.revert_draft(session, draft_id, actor=user)
    to = f"/drafts/{reverting.id}"
    if is_fragment_request(request):
        return Response(status_code=204, headers={"HX-Redirect": to})
    return RedirectResponse(to, status_code=303)


def _revert_plan(
    session: Session, slug: str, seq: int, draft_id: int, *, actor: User
) -> overview.MergedDraft:
    """Return the merged draft `draft_id` of version `seq` as the revert would see it."""
    _, merged = overview.merged_into(session, slug, seq, actor=actor)
    line = next((m for m in merged if m.draft.id == draft_id), None)
    if line is None:
        raise NotFound(f"第{seq}版中没有合并过草稿 #{draft_id}")
    if line.revert_open:
        assert line.revert is not None
        raise Conflict(f"已有撤回这次合并的草稿 #{line.revert.id}，请在那里继续")
    return line


@router.post("/catalogs/{slug}/versions/{seq}/unschedule", response_class=HTMLResponse)
def unschedule_version(
    request: Request, slug: str, seq: int, session: SessionDep, user: SignedIn, today: Today
) -> Response:
    def do() -> Outcome:
        lifecycle.unschedule(session, slug, seq, actor=user)
        return Outcome(f"已取消第{seq}版的公开安排", f"version-{slug}-{seq}")

    view = _versions_view(request, session, user, today, slug)
    return answer(request, do, view, key=f"schedule-{slug}-{seq}", form={})
