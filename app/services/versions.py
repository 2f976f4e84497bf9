"""Versions: issuing the assembled version (印发) and publishing it (公开)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import User, Version
from app.errors import InvalidInput, InvalidTransition, NotFound
from app.services import audit, browse, catalogs

# 示财购〔2025〕12号; brackets typed as [] or 【】 or () are accepted and written as 〔〕.
DOC_NUMBER = re.compile(r"^(?P<org>[^\s〔〕]{1,30})〔(?P<year>\d{4})〕(?P<n>\d{1,5})号$")
_BRACKETS = str.maketrans(
    {"[": "〔", "]": "〕", "【": "〔", "】": "〕", "(": "〔", ")": "〕", "（": "〔", "）": "〕"}
)


def normalise_doc_number(text: str) -> str:
    """Return the document number in its official form; raise InvalidInput showing the expected form."""
    value = text.strip().replace(" ", "").translate(_BRACKETS)
    if not DOC_NUMBER.match(value):
        raise InvalidInput(f"文号“{text}”格式不正确，应形如“示财购〔2025〕12号”")
    return value


def get_version(session: Session, slug: str, seq: int) -> Version:
    """Return version `seq` of catalog `slug` whatever its status, or raise NotFound."""
    catalog = browse.catalog(session, slug)
    found = session.scalars(
        select(Version).where(Version.catalog_id == catalog.id, Version.seq == seq)
    ).first()
    if found is None:
        raise NotFound(f"目录“{catalog.name}”没有第{seq}版")
    return found


def issue(session: Session, slug: str, seq: int, *, doc_number: str, on: date, actor: User | None) -> Version:
    """Fix the assembling version `seq` as issued (its content never changes again) and commit."""
    version = get_version(session, slug, seq)
    if version.status != "assembling":
        raise InvalidTransition(f"第{seq}版当前状态为“{version.status}”，只有编制中的版本可以印发")
    version.doc_number, version.issued_on, version.status = normalise_doc_number(doc_number), on, "issued"
    audit.record(
        session,
        actor=actor,
        action="version.issue",
        object_type="version",
        object_id=version.id,
        summary={"catalog": slug, "seq": seq, "doc_number": version.doc_number, "on": on.isoformat()},
    )
    session.commit()
    return version


def publish(
    session: Session, slug: str, seq: int, *, at: datetime | None = None, actor: User | None
) -> Version:
    """Make the issued version `seq` public; older published versions become superseded."""
    version = get_version(session, slug, seq)
    if version.status != "issued":
        raise InvalidTransition(f"第{seq}版当前状态为“{version.status}”，只有已印发的版本可以公开")
    version.status, version.published_at = "published", at or datetime.now(UTC)
    catalogs.supersede_older(session, version.catalog_id, seq)
    audit.record(
        session,
        actor=actor,
        action="version.publish",
        object_type="version",
        object_id=version.id,
        summary={"catalog": slug, "seq": seq},
    )
    session.commit()
    return version
