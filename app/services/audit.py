"""Writing the audit trail: one append-only event per change, in the change's own transaction."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.clock import end_of_day, start_of_day
from app.db.models import AuditEvent, User
from app.services.access import Actor, actor_name

# The request being answered, set by the HTTP layer for the request's duration (None elsewhere).
current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str | int,
    summary: dict[str, Any] | None = None,
    request_id: str | None = None,
) -> AuditEvent:
    """Add an audit event to the session (the caller commits) and return it."""
    event = AuditEvent(
        actor_id=actor.id if isinstance(actor, User) else None,
        actor_name=actor_name(actor),
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
        stmt = stmt.where(AuditEvent.at >= start_of_day(flt.since))
    if flt.until:
        stmt = stmt.where(AuditEvent.at < end_of_day(flt.until))
    if after is not None:
        stmt = stmt.where(AuditEvent.id < after)
    stmt = stmt.order_by(AuditEvent.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))
