"""What the review and merge routes share: the refusals a form answers in place, notices, redirects."""

from __future__ import annotations

import json
from typing import Annotated
from urllib.parse import quote

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response

from app.errors import Conflict, Forbidden, InvalidInput, InvalidTransition

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


def login(request: Request) -> Response:
    """Send a signed-out visitor to the login page, to come back here after."""
    return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)


def toast(response: Response, notice: str) -> Response:
    """Have htmx show the notice as a toast."""
    response.headers["HX-Trigger"] = json.dumps({"guidecat:toast": NOTICES[notice]})  # ASCII-escaped
    return response
