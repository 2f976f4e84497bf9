"""The audit trail for the finance administrator: filter, page, export as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from app.api.schemas import ErrorOut
from app.db.models import AuditEvent
from app.errors import Forbidden
from app.http import downloads
from app.http.auth import SignedIn
from app.http.deps import SessionDep
from app.http.downloads import streamed_download
from app.services import audit
from app.workflow.states import Role

router = APIRouter(
    prefix="/api/v1", tags=["审计"], responses={403: {"model": ErrorOut}, 404: {"model": ErrorOut}}
)
CSV_COLUMNS = ["编号", "时间", "操作人", "操作", "对象类型", "对象", "摘要", "请求编号"]


def _row(e: AuditEvent) -> dict[str, Any]:
    return {
        "id": e.id,
        "at": e.at.isoformat(),
        "user": e.actor_name,
        "action": e.action,
        "object_type": e.object_type,
        "object_id": e.object_id,
        "summary": e.summary,
        "request_id": e.request_id,
    }


@router.get("/audit", summary="审计记录（财政管理员）：按用户、对象、操作、日期筛选，可导出 CSV")
def list_events(
    session: SessionDep,
    user: SignedIn,
    username: Annotated[str | None, Query(alias="user")] = None,
    object_type: str | None = None,
    object_id: str | None = None,
    action: str | None = None,
    since: date | None = None,
    until: date | None = None,
    after: int | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Response:
    if Role(user.role) is not Role.FINANCE_ADMIN:
        raise Forbidden("只有财政管理员可以查看审计记录")
    flt = audit.AuditFilter(username, object_type, object_id, action, since, until)
    if format == "csv":
        rows = audit.events(session, flt, jurisdiction_id=user.jurisdiction_id, limit=None)
        return streamed_download(_csv(rows), "audit.csv", media_type=downloads.csv_media_type())
    rows = audit.events(session, flt, jurisdiction_id=user.jurisdiction_id, after=after, limit=limit)
    next_after = rows[-1].id if len(rows) == limit else None
    return JSONResponse({"events": [_row(e) for e in rows], "next_after": next_after})


def _csv(rows: list[AuditEvent]) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    out.write("\ufeff")
    writer.writerow(CSV_COLUMNS)
    for e in rows:
        writer.writerow(
            [
                e.id,
                e.at.isoformat(),
                e.actor_name,
                e.action,
                e.object_type,
                e.object_id,
                audit_summary(e.summary),
                e.request_id or "",
            ]
        )
        if out.tell() > 64 * 1024:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def audit_summary(summary: dict[str, Any]) -> str:
    """Return the summary as one readable cell: key=value pairs."""
    return "；".join(f"{k}={v}" for k, v in summary.items())
