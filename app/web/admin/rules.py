"""Admin page for the negative-list rules: the rules in force, stored rule sets, loading new ones."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app.db.models import User
from app.errors import InvalidInput
from app.http.auth import MaybeUser, SignedIn
from app.http.deps import SessionDep
from app.services.screening import rule_sets as admin_rules
from app.web.forms import Outcome, View, answer, show, to_login

router = APIRouter(prefix="/admin", include_in_schema=False)


def _rules_view(request: Request, session: Session, user: User) -> View:
    def view(**extras: Any) -> Response:
        version, document, stored = admin_rules.active_rules(session, user)
        return show(
            request, "admin/rules.html", "admin/_rules.html", user=user, version=version, document=document,
            stored=stored, rule_sets=admin_rules.rule_sets(session, user), **extras,
        )  # fmt: skip

    return view


@router.get("/rules", response_class=HTMLResponse)
def rules_page(
    request: Request, session: SessionDep, user: MaybeUser, changed: str | None = None
) -> Response:
    if user is None:
        return to_login("/admin/rules")
    return _rules_view(request, session, user)(changed=changed)


@router.post("/rules", response_class=HTMLResponse)
def load_rules(
    request: Request, session: SessionDep, user: SignedIn, rules: UploadFile | None = None
) -> Response:
    raw = b"" if rules is None else rules.file.read()

    def do() -> Outcome:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput("规则文件须为 UTF-8 编码的 JSON") from None
        if not text.strip():
            raise InvalidInput("请选择规则文件（JSON）")
        row = admin_rules.load_rules(session, text, actor=user)
        return Outcome(f"已载入规则版本 {row.rules_version}，现行规则已更新", f"ruleset-{row.rules_version}")

    return answer(request, do, _rules_view(request, session, user), key="load-rules", form={})
