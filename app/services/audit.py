"""Writing the audit trail: one append-only event per change, in the change's own transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.db.models import AuditEvent, User
from app.http.request_id import current_request_id

CHINA = ZoneInfo("Asia/Shanghai")


def record(
    session: Session,
    *,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: str | int,
    summary: dict[str, Any] | None = None,
    actor_name: str = "",
    request_id: str | None = None,
) -> AuditEvent:
    """Add an audit event to the session (the caller commits) and return it."""
    event = AuditEvent(
        actor_id=None if actor is None else actor.id,
        actor_name=actor.username if actor is not None else actor_name,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        summary=summary or {},
        request_id=request_id or current_request_id.get(),
    )
    session.add(event)
    return event


@dataclass(frozen=True, slots=True)
class AuditFilter:
    username: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    action: str | None = None
    since: date | None = None  # inclusive, Beijing time
    until: date | None = None  # inclusive, Beijing time


def events(
    session: Session,
    flt: AuditFilter,
    *,
    jurisdiction_id: int,
    after: int | None = None,
    limit: int | None = 100,
) -> list[AuditEvent]:
    """Return the audit events matching `flt`, newest first, after id `after` (keyset), at most `limit`.

    Events by users of other jurisdictions are left out; events by the system (no user) are kept.
    """
    stmt = (
        select(AuditEvent)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(or_(User.id.is_(None), User.jurisdiction_id == jurisdiction_id))
    )
    for column, value in (
        (AuditEvent.actor_name, flt.username),
        (AuditEvent.object_type, flt.object_type),
        (AuditEvent.object_id, flt.object_id),
        (AuditEvent.action, flt.action),
    ):
        if value:
            stmt = stmt.where(column == value)
    if flt.since:
        stmt = stmt.where(AuditEvent.at >= datetime.combine(flt.since, time(), tzinfo=CHINA))
    if flt.until:
        stmt = stmt.where(
            AuditEvent.at < datetime.combine(flt.until + timedelta(days=1), time(), tzinfo=CHINA)
        )
    if after is not None:
        stmt = stmt.where(AuditEvent.id < after)
    stmt = stmt.order_by(AuditEvent.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))
