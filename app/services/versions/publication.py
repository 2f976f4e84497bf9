"""Versions: issuing the assembled version (印发) and publishing it (公开)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.calendar.days import CalendarYearMissing, WorkCalendar, add_working_days
from app.db.models import Catalog, User, Version
from app.errors import InvalidInput, InvalidTransition, NotFound
from app.services import audit
from app.services.calendar import workdays
from app.services.catalogs import authoring as catalogs
from app.services.catalogs import browse
from app.services.search import index as search_index

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
    """Fix the assembling version `seq` as issued (its content never changes again), commit, return it.

    Its publication deadline is `on` plus the catalog's period in working days; where the
    calendar cannot count that far nothing is written and InvalidInput names the missing year.
    """
    calendar = workdays.work_calendar(session)  # may seed the calendar, a commit: before any change
    catalog = browse.catalog(session, slug)
    version = get_version(session, slug, seq)
    if version.status != "assembling":
        raise InvalidTransition(f"第{seq}版当前状态为“{version.status}”，只有编制中的版本可以印发")
    number = normalise_doc_number(doc_number)
    deadline = _deadline(on, catalog.publication_period_days, calendar)
    version.doc_number, version.issued_on, version.status = number, on, "issued"
    version.publication_deadline = deadline
    audit.record(
        session,
        actor=actor,
        action="version.issue",
        object_type="version",
        object_id=version.id,
        summary={
            "catalog": slug,
            "seq": seq,
            "doc_number": number,
            "on": on.isoformat(),
            "publication_deadline": deadline.isoformat(),
        },
    )
    session.commit()
    return version


def _deadline(issued_on: date, period: int, calendar: WorkCalendar) -> date:
    try:
        return add_working_days(issued_on, period, calendar)
    except CalendarYearMissing as exc:
        raise InvalidInput(
            f"未印发：无法计算公开期限（{issued_on.isoformat()}印发后{period}个工作日）。{exc.message}",
            details={"missing_year": exc.year},
        ) from exc


def publish(
    session: Session,
    slug: str,
    seq: int,
    *,
    at: datetime | None = None,
    actor: User | None,
    index: bool = True,
) -> Version:
    """Make the issued version `seq` public at `at` (default: now), commit and return it.

    With `index` False the caller indexes it for search after the commit (search_index.index_unindexed).
    """
    version = get_version(session, slug, seq)
    return publish_version(session, version, at=at or datetime.now(UTC), actor=actor, index=index)


def publish_version(
    session: Session,
    version: Version,
    *,
    at: datetime,
    actor: User | None,
    actor_name: str = "",
    index: bool = True,
) -> Version:
    """Make the issued `version` public at `at`, supersede older published versions, audit, commit, return it.

    `actor` None with `actor_name` is the system (the scheduler).
    """
    # a person and a scheduler, or two scheduler processes, may race: the row lock lets one win
    session.refresh(version, with_for_update=True)
    if version.status != "issued":
        raise InvalidTransition(f"第{version.seq}版当前状态为“{version.status}”，只有已印发的版本可以公开")
    version.status, version.published_at = "published", at
    catalogs.supersede_older(session, version.catalog_id, version.seq)
    if index:  # public from now on, so searchable from now on
        search_index.index_version(session, version)
    slug = session.get_one(Catalog, version.catalog_id).slug
    audit.record(
        session,
        actor=actor,
        actor_name=actor_name,
        action="version.publish",
        object_type="version",
        object_id=version.id,
        summary={"catalog": slug, "seq": version.seq, "published_at": at.isoformat()},
    )
    session.commit()
    return version
