"""The admin's versions page, read: each catalog's versions and where each stands against its deadline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.calendar.days import CalendarYearMissing, add_working_days
from app.clock import beijing_date
from app.db.models import Catalog, User, Version
from app.services.access import require_admin
from app.services.calendar import workdays
from app.services.versions.board import Standing, standing
from app.workflow.states import VersionState


@dataclass(frozen=True, slots=True)
class VersionLine:
    """One version on the admin page, with where it stands against its publication deadline."""

    version: Version
    state: VersionState
    standing: Standing | None  # None: not issued yet
    deadline_if_issued_today: date | None  # for a version still assembling


@dataclass(frozen=True, slots=True)
class CatalogVersions:
    catalog: Catalog
    lines: list[VersionLine]  # newest first

    @property
    def can_open(self) -> bool:
        """Return whether a new version may be opened (none is being assembled)."""
        return all(line.state is not VersionState.ASSEMBLING for line in self.lines)


def catalog_versions(
    session: Session, actor: User, *, today: date, slug: str | None = None
) -> list[CatalogVersions]:
    """Return every catalog of the actor's jurisdiction (or just `slug`) with its versions, newest first."""
    require_admin(actor)
    cal = workdays.work_calendar(session)
    stmt = select(Catalog).where(Catalog.jurisdiction_id == actor.jurisdiction_id).order_by(Catalog.slug)
    if slug is not None:
        stmt = stmt.where(Catalog.slug == slug)
    found = list(session.scalars(stmt))
    by_catalog: dict[int, list[Version]] = {c.id: [] for c in found}
    for v in session.scalars(
        select(Version).where(Version.catalog_id.in_(by_catalog)).order_by(Version.seq.desc())
    ):
        by_catalog[v.catalog_id].append(v)
    out = []
    for c in found:
        lines = []
        for v in by_catalog[c.id]:
            state = VersionState(v.status)
            published_on = None if v.published_at is None else beijing_date(v.published_at)
            stand = (
                None if v.issued_on is None else standing(v.publication_deadline, published_on, today, cal)
            )
            preview = None
            if state is VersionState.ASSEMBLING:
                try:
                    preview = add_working_days(today, c.publication_period_days, cal)
                except CalendarYearMissing:
                    preview = None
            lines.append(VersionLine(v, state, stand, preview))
        out.append(CatalogVersions(c, lines))
    return out
