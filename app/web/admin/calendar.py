"""The working-day calendar page: the years held, a year as month grids, loading a year's notice.

Finance admins load a year file in two steps: the upload is previewed (nothing is written), then
confirmed. The file travels back with the confirmation (base64, with its digest and the state of
its year as previewed), so nothing is kept on the server in between and a load made meanwhile is
answered 409. The sysadmin may look; the service refuses anyone else's load.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app.db.models import User
from app.errors import InvalidInput
from app.http.auth import MaybeUser, SignedIn
from app.http.deps import SessionDep, Today
from app.services import access
from app.services.calendar import overview, workdays
from app.web.forms import Outcome, View, answer, ask_first, show, to_login
from app.workflow.states import Role

router = APIRouter(prefix="/admin", include_in_schema=False)
KEY = "load-calendar"  # the upload form, refused in place


@dataclass(frozen=True, slots=True)
class Upload:
    """A previewed year file: what loading it would do, and the file as the confirmation posts it back."""

    plan: workdays.LoadPlan
    carried: str  # the file's text, base64


def _calendar_view(request: Request, session: Session, user: User, today: date, year: int | None) -> View:
    def view(**extras: Any) -> Response:
        shown = year or _year_of(extras.get("changed"))
        page = overview.calendar_page(session, user, today=today, year=shown)
        return show(
            request, "admin/calendar.html", "admin/_calendar.html", user=user, calendar=page, today=today,
            can_load=access.role_of(user) is Role.FINANCE_ADMIN, **extras,
        )  # fmt: skip

    return view


@router.get("/calendar", response_class=HTMLResponse)
def calendar_page(
    request: Request,
    session: SessionDep,
    user: MaybeUser,
    today: Today,
    year: Annotated[int | None, Query(ge=1000, le=9999)] = None,
    changed: str | None = None,
) -> Response:
    if user is None:
        return to_login("/admin/calendar")
    return _calendar_view(request, session, user, today, year)(changed=changed)


@router.post("/calendar/years", response_class=HTMLResponse)
def load_year(
    request: Request,
    session: SessionDep,
    user: SignedIn,
    today: Today,
    file: UploadFile | None = None,
    carried: Annotated[str, Form()] = "",
    digest: Annotated[str, Form()] = "",
    seen: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """Load a year file in two steps: the upload is previewed first, then its confirmation loads it."""
    view = _calendar_view(request, session, user, today, None)
    if confirm != "1":
        raw = b"" if file is None else file.file.read(workdays.MAX_FILE_BYTES + 1)
        return ask_first(request, view, key=KEY, form={}, plan=lambda: _preview(session, raw, user))

    def do() -> Outcome:
        previewed = workdays.Previewed(digest, seen)
        text = _unpack(carried)
        loaded = workdays.load_year_file(session, text, actor=user, replace=True, previewed=previewed)
        done = "已替换" if loaded.replaced else "已载入"
        days = f"放假 {loaded.rest_days} 天，调休上班 {loaded.make_up_days} 天"
        return Outcome(f"{done}{loaded.year}年工作日历：{days}", f"year-{loaded.year}")

    return answer(request, do, view, key=KEY, form={})


def _preview(session: Session, raw: bytes, user: User) -> Upload:
    text = workdays.decode_year_file(raw)
    plan = workdays.plan_load(session, text, actor=user)
    return Upload(plan, base64.b64encode(text.encode()).decode("ascii"))


def _unpack(carried: str) -> str:
    """Return the year file a confirmation carries back; InvalidInput if it was lost on the way."""
    try:
        text = base64.b64decode(carried, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        text = ""
    if not text.strip():
        raise InvalidInput("确认时没有收到完整的年度文件：请重新选择文件并预览")
    return text


def _year_of(changed: object) -> int | None:
    """Return the year a redirect after a load highlights (`changed` is "year-2027"), if any."""
    if isinstance(changed, str) and changed.removeprefix("year-").isdigit():
        return int(changed.removeprefix("year-"))
    return None
