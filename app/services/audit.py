"""Writing the audit trail: one append-only event per change, in the change's own transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.db.models import AuditEvent, User


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
        request_id=request_id,
    )
    session.add(event)
    return event
