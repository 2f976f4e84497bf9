"""Files waiting between their preview and its confirmation: kept on the server, named by a token.

The browser holds only the token: what is applied is the very file that was previewed (its
hash is checked), for the person who uploaded it, on the draft as the preview saw it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session, undefer

from app.db.models import Draft, DraftImport
from app.errors import Conflict
from app.services import access
from app.services.access import Actor

KEPT_FOR = timedelta(hours=12)  # a preview left unconfirmed longer than this is forgotten
GONE = "这份导入预览已失效（已导入、已过期或已重新上传），请重新选择文件上传"


def digest(data: bytes) -> str:
    """Return the SHA-256 of `data` in hex: what ties a confirmation to the file that was previewed."""
    return hashlib.sha256(data).hexdigest()


def new_token() -> str:
    """Return a fresh, unguessable token that names one upload."""
    return secrets.token_urlsafe(32)


def keep(session: Session, draft: Draft, *, data: bytes, filename: str, actor: Actor) -> DraftImport:
    """Keep the file until its preview is confirmed, forgetting this person's earlier ones (flush only)."""
    now = datetime.now(UTC)
    forget = delete(DraftImport).where(
        DraftImport.applied_at.is_(None),
        or_(
            DraftImport.created_at < now - KEPT_FOR,
            (DraftImport.draft_id == draft.id) & (DraftImport.user_id == access.user_id(actor)),
        ),
    )
    session.execute(forget.execution_options(synchronize_session=False))
    row = DraftImport(
        draft_id=draft.id,
        user_id=access.user_id(actor),
        token=new_token(),
        filename=filename[:200],
        sha256=digest(data),
        data=data,
        previewed_lock=draft.lock_version,
        summary={},
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def kept(session: Session, draft: Draft, token: str, *, actor: Actor) -> DraftImport:
    """Return the file kept under `token` for this draft and person; Conflict when it is gone or altered."""
    stmt = (
        select(DraftImport)
        .where(DraftImport.token == token, DraftImport.draft_id == draft.id)
        .options(undefer(DraftImport.data))
    )
    row = session.scalars(stmt).first() if token else None
    if row is not None and row.applied_at is not None:
        raise Conflict(f"文件“{row.filename}”已经导入，无须再次确认；如需撤销，请用草稿页上的“撤销这次导入”")
    if (
        row is None
        or row.user_id != access.user_id(actor)
        or row.data is None
        or row.created_at < datetime.now(UTC) - KEPT_FOR
    ):
        raise Conflict(GONE)
    if digest(row.data) != row.sha256:
        raise Conflict("上传的文件在预览之后已改变，请重新上传")
    return row
