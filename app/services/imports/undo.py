"""Undoing an upload in one step: the draft's changes and findings on the nodes it rewrote, as they were.

Applying an upload keeps, in its `draft_imports` row, the change rows and findings it is about
to replace. Undoing puts exactly those back, provided the draft was not edited since (its
lock_version is still the one the upload left).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.db import draft_store, finding_store
from app.db.models import Draft, DraftChange, DraftImport, Finding
from app.errors import Conflict, NotFound
from app.services import access, audit
from app.services.access import Actor
from app.services.drafts import lifecycle as drafts

CHUNK = 5000
_CHANGE_COLUMNS = ("node_id", "kind", "base_revision_id", "fields", "merged_from", "merged_code")
_FINDING_COLUMNS = tuple(
    c.name for c in Finding.__table__.columns if c.name not in ("id", "draft_id", "created_at")
)


def snapshot(session: Session, draft_id: int, node_ids: Sequence[int] | None) -> dict[str, Any]:
    """Return the draft's changes and findings on `node_ids` (all of them when None) as JSON."""
    changes = [
        {c: getattr(row, c) for c in _CHANGE_COLUMNS} | {"updated_at": row.updated_at.isoformat()}
        for row in _rows(session, DraftChange, draft_id, node_ids)
    ]
    findings = [
        {c: getattr(row, c) for c in _FINDING_COLUMNS} | {"created_at": row.created_at.isoformat()}
        for row in _rows(session, Finding, draft_id, node_ids)
    ]
    return {"nodes": None if node_ids is None else list(node_ids), "changes": changes, "findings": findings}


def _rows(
    session: Session, model: type[DraftChange] | type[Finding], draft_id: int, node_ids: Sequence[int] | None
) -> Iterator[Any]:
    stmt = select(model).where(model.draft_id == draft_id).order_by(model.id)
    if node_ids is None:
        yield from session.scalars(stmt)
        return
    for start in range(0, len(node_ids), CHUNK):
        yield from session.scalars(stmt.where(model.node_id.in_(node_ids[start : start + CHUNK])))


def clear(session: Session, draft_id: int, node_ids: Sequence[int] | None) -> None:
    """Delete the draft's changes and findings on `node_ids` (all of them when None)."""
    if node_ids is None:
        draft_store.delete_changes(session, draft_id)
    else:
        for start in range(0, len(node_ids), CHUNK):
            draft_store.delete_changes(session, draft_id, node_ids[start : start + CHUNK])
    finding_store.delete_draft_findings(session, draft_id, node_ids)
    session.flush()


def undoable(session: Session, draft: Draft) -> DraftImport | None:
    """Return the upload that can still be undone in one step (the draft's last edit), or None."""
    stmt = (
        select(DraftImport)
        .where(
            DraftImport.draft_id == draft.id,
            DraftImport.applied_lock == draft.lock_version,
            DraftImport.undone_at.is_(None),
        )
        .order_by(DraftImport.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def undo_import(
    session: Session, draft_id: int, import_id: int, *, lock: int | None, actor: Actor
) -> DraftImport:
    """Put the draft's changes and findings back as they were before upload `import_id`; one commit.

    Refused (Conflict) once the draft has been edited after the upload, or if it was undone already.
    """
    row = _applied(session, draft_id, import_id, actor)
    current = session.get_one(Draft, draft_id).lock_version
    if current != row.applied_lock:
        assert row.applied_lock is not None
        raise Conflict(
            f"导入“{row.filename}”之后草稿又有修改，不能再一步撤销这次导入：请逐条恢复或修改",
            details=drafts.changes_since(session, draft_id, row.applied_lock),
        )
    edit = drafts.begin_edit(session, draft_id, lock=row.applied_lock if lock is None else lock, actor=actor)
    _restore(session, edit.draft, row.restore or {})
    row.undone_at = datetime.now(UTC)
    edit.draft.updated_at = row.undone_at
    audit.record(
        session,
        actor=actor,
        action="draft.import_undo",
        object_type="draft",
        object_id=draft_id,
        summary={"import": row.id, "file": row.filename, "scope": row.scope} | dict(row.summary),
    )
    session.commit()
    return row


def _applied(session: Session, draft_id: int, import_id: int, actor: Actor) -> DraftImport:
    draft = access.visible_draft(session, draft_id, actor)
    row = session.get(DraftImport, import_id)
    if row is None or row.draft_id != draft.id or row.applied_at is None:
        raise NotFound(f"草稿 #{draft_id} 没有这次导入")
    if row.undone_at is not None:
        raise Conflict(f"导入“{row.filename}”已经撤销过了")
    return row


def _restore(session: Session, draft: Draft, kept: dict[str, Any]) -> None:
    """Replace the draft's changes and findings on the kept nodes (or all) by the kept rows (flush only)."""
    nodes: list[int] | None = kept.get("nodes")
    clear(session, draft.id, nodes)
    changes = [
        r | {"draft_id": draft.id, "updated_at": datetime.fromisoformat(r["updated_at"])}
        for r in kept.get("changes", [])
    ]
    if changes:
        session.execute(insert(DraftChange), changes)
    findings = [
        r | {"draft_id": draft.id, "created_at": datetime.fromisoformat(r["created_at"])}
        for r in kept.get("findings", [])
    ]
    finding_store.insert_findings(session, findings)
