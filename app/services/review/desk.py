"""What is waiting on whom (待办): the first page each role sees after signing in."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.models import Catalog, Department, Draft, DraftChange, Finding, User, Version
from app.workflow.states import FINANCE, OPEN_VERSION_STATES, DraftState, Role


@dataclass(frozen=True, slots=True)
class DraftRow:
    draft: Draft
    catalog: Catalog
    department: str | None
    changes: int
    findings: int

    @property
    def state(self) -> DraftState:
        """Return the draft's state."""
        return DraftState(self.draft.status)


@dataclass
class Desk:
    role: Role
    mine: list[DraftRow] = field(default_factory=list)  # a department's drafts, newest first
    queue: list[DraftRow] = field(default_factory=list)  # submitted drafts, oldest first
    approved: list[DraftRow] = field(default_factory=list)  # waiting to be merged
    versions: list[tuple[Catalog, Version]] = field(default_factory=list)  # waiting to be issued or published


def _rows(session: Session, *conditions: object) -> list[DraftRow]:
    changes = select(DraftChange.draft_id, func.count().label("n")).group_by(DraftChange.draft_id).subquery()
    findings = (
        select(Finding.draft_id, func.count().label("n"))
        .where(Finding.draft_id.is_not(None))
        .group_by(Finding.draft_id)
        .subquery()
    )
    stmt = (
        select(Draft, Catalog, Department.name, changes.c.n, findings.c.n)
        .join(Catalog, Catalog.id == Draft.catalog_id)
        .outerjoin(Department, Department.id == Draft.department_id)
        .outerjoin(changes, changes.c.draft_id == Draft.id)
        .outerjoin(findings, findings.c.draft_id == Draft.id)
        .where(*conditions)  # type: ignore[arg-type]
    )
    return [DraftRow(d, c, dept, n or 0, f or 0) for d, c, dept, n, f in session.execute(stmt)]


def desk(session: Session, user: User) -> Desk:
    """Return what is waiting on `user`: their drafts, the review queue, or versions to issue and publish."""
    role = Role(user.role)
    out = Desk(role)
    in_place = Catalog.jurisdiction_id == user.jurisdiction_id
    if role is Role.DEPT_EDITOR:
        out.mine = sorted(
            _rows(session, in_place, Draft.department_id == user.department_id),
            key=lambda r: r.draft.updated_at,
            reverse=True,
        )
    if role in FINANCE:
        out.queue = sorted(
            _rows(session, in_place, Draft.status == DraftState.SUBMITTED),
            key=lambda r: r.draft.submitted_at or r.draft.created_at,
        )
        out.approved = _rows(session, in_place, Draft.status == DraftState.APPROVED)
    if role is Role.FINANCE_ADMIN:
        stmt = (
            select(Catalog, Version)
            .join(Version, Version.catalog_id == Catalog.id)
            .where(in_place, Version.status.in_(OPEN_VERSION_STATES))
            .order_by(Catalog.slug, Version.seq)
        )
        out.versions = [(c, v) for c, v in session.execute(stmt)]
    return out
