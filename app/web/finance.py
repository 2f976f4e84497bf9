"""Finance pages: the publication board and a version's screening findings. Signed-in users only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.api.publication import Today
from app.auth import MaybeUser
from app.deps import SessionDep
from app.errors import NotFound
from app.services import access, publication_board, versions
from app.services.publication_board import BoardSort
from app.services.screening_versions import FindingFilter, version_findings
from app.web.templating import render

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
    jurisdiction_id, department_id = publication_board.scope_of(user)
    rows = publication_board.board(
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
    version = versions.get_version(session, slug, seq)
    return render(
        request, "admin/findings.html", user=user, rows=rows, slug=slug, version=version, severity=severity
    )
