"""The admin's versions page, read: each catalog's versions and where each stands against its deadline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.calendar.days import CalendarYearMissing, add_working_days
from app.clock import beijing_date
from app.db.models import Catalog, Department, Draft, DraftChange, User, Version
from app.services import access
from app.services.access import require_admin
from app.services.calendar import workdays
from app.services.versions import lifecycle
from app.services.versions.board import Standing, standing
from app.workflow.states import CLOSED_DRAFT_STATES, DraftState, VersionState


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


@dataclass(frozen=True, slots=True)
class MergedDraft:
    """A draft merged into a version, and whether a revert of it is under way."""

    draft: Draft
    department: str  # its name, or 财政部门
    changes: int
    revert: Draft | None  # the newest draft that reverts it, if any

    @property
    def revert_open(self) -> bool:
        """Return whether a revert of this merge is under way (neither withdrawn nor merged)."""
        return self.revert is not None and self.revert.status not in CLOSED_DRAFT_STATES

    @property
    def revert_label(self) -> str:
        """Return the state of the newest revert in Chinese, or "" when there is none."""
        return DraftState(self.revert.status).label if self.revert is not None else ""


def merged_into(session: Session, slug: str, seq: int, *, actor: User) -> tuple[Version, list[MergedDraft]]:
    """Return version `seq` of `slug` and the drafts merged into it, oldest first (finance only)."""
    access.require_finance(actor)
    version = lifecycle.get_version(session, slug, seq)
    access.require_same_jurisdiction(actor, session.get_one(Catalog, version.catalog_id))
    merged = list(
        session.scalars(
            select(Draft).where(Draft.merged_version_id == version.id).order_by(Draft.updated_at, Draft.id)
        )
    )
    ids = [d.id for d in merged]
    counts = dict(
        session.execute(
            select(DraftChange.draft_id, func.count())
            .where(DraftChange.draft_id.in_(ids))
            .group_by(DraftChange.draft_id)
        ).all()
    )
    reverts: dict[int, Draft] = {}
    for r in session.scalars(select(Draft).where(Draft.reverts_draft_id.in_(ids)).order_by(Draft.id)):
        assert r.reverts_draft_id is not None
        reverts[r.reverts_draft_id] = r
    wanted = {d.department_id for d in merged if d.department_id is not None}
    named = select(Department.id, Department.name).where(Department.id.in_(wanted))
    names = dict(session.execute(named).all())
    lines = [
        MergedDraft(d, names.get(d.department_id or 0, "财政部门"), counts.get(d.id, 0), reverts.get(d.id))
        for d in merged
    ]
    return version, lines
