"""The admin's versions page: each catalog's versions and their standing; open, issue and publish."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.calendar.days import CalendarYearMissing, add_working_days
from app.db.models import Catalog, User, Version
from app.errors import Conflict, Forbidden, InvalidInput, InvalidTransition
from app.services import access, audit
from app.services.access import require_admin
from app.services.calendar import workdays
from app.services.catalogs import authoring as catalogs
from app.services.catalogs import browse
from app.services.versions import publication as versions
from app.services.versions.board import Standing, standing
from app.services.versions.schedule import beijing_date
from app.workflow.states import VERSION_ROLES, Role, VersionAction, VersionState, advance_version


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


def _version_for(session: Session, slug: str, seq: int, actor: User, action: VersionAction) -> Version:
    """Return version `seq` of `slug` if `actor` may take `action` on it now; else raise."""
    access.require_same_jurisdiction(actor, browse.catalog(session, slug))
    role = access.role_of(actor)
    if role not in VERSION_ROLES[action]:
        raise Forbidden(f"{role.label}不能执行此操作，只有财政管理员可以")
    version = versions.get_version(session, slug, seq)
    try:
        advance_version(VersionState(version.status), action, role)
    except InvalidTransition:
        raise InvalidTransition(
            f"操作未执行：{describe(version)}", details={"status": version.status}
        ) from None
    return version


def describe(version: Version) -> str:
    """Return what a version is now, in words (for a 409 that says what changed)."""
    state = VersionState(version.status)
    text = f"第{version.seq}版（{version.label}）现为“{state.label}”"
    if version.doc_number:
        text += f"，文号 {version.doc_number}"
    if version.issued_on:
        text += f"，{version.issued_on.isoformat()} 印发"
    if version.published_at:
        text += f"，{beijing_date(version.published_at).isoformat()} 已公开"
    return text


def issue(session: Session, slug: str, seq: int, *, doc_number: str, on: date, actor: User) -> Version:
    """Issue (印发) the assembling version with its document number and date; commit and return it."""
    _version_for(session, slug, seq, actor, VersionAction.ISSUE)
    return versions.issue(session, slug, seq, doc_number=doc_number, on=on, actor=actor)


def publish(session: Session, slug: str, seq: int, *, actor: User, index: bool = True) -> Version:
    """Publish (公开) the issued version now; commit and return it (see versions.publish on `index`)."""
    _version_for(session, slug, seq, actor, VersionAction.PUBLISH)
    return versions.publish(session, slug, seq, actor=actor, index=index)


def open_version(session: Session, slug: str, *, label: str, actor: User) -> Version:
    """Open the catalog's next version (assembling), audit, commit and return it."""
    if access.role_of(actor) is not Role.FINANCE_ADMIN:
        raise Forbidden("只有财政管理员可以新建版本")
    catalog = browse.catalog(session, slug)
    access.require_same_jurisdiction(actor, catalog)
    label = label.strip()
    if not label or len(label) > 100:
        raise InvalidInput("请填写版本名称（100 字以内），如“2026年版”")
    try:
        version = catalogs.open_next_version(session, catalog, label)
    except InvalidInput as exc:
        raise Conflict(exc.message) from None
    audit.record(
        session, actor=actor, action="version.open", object_type="version", object_id=version.id,
        summary={"catalog": slug, "seq": version.seq, "label": label},
    )  # fmt: skip
    session.commit()
    return version
