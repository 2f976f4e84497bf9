"""Which recorded publication deadlines a change of the calendar would move.

A version's deadline is counted once, when it is issued, and recorded (versions.lifecycle.issue).
Loading or replacing a year's notice must not leave a recorded deadline that the calendar would
now count differently without saying so: the year-file loader refuses while such a version is
still waiting to be published, and names the published ones in its preview and audit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.calendar.days import CalendarYearMissing, WorkCalendar, add_working_days, working_days_between
from app.db.models import Catalog, User, Version
from app.services.access import Actor
from app.workflow.states import PUBLIC_VERSION_STATES, VersionState


@dataclass(frozen=True, slots=True)
class MovedDeadline:
    """A version whose recorded deadline the new calendar would count to another day."""

    catalog: str  # the catalog's name; empty for a catalog of another jurisdiction than the actor's
    seq: int
    label: str
    published: bool
    deadline: date  # as recorded when it was issued
    recounted: date  # the same number of working days after its issue, counted on the new calendar

    def describe(self) -> str:
        """Return the version and its two deadlines in words."""
        who = (
            f"{self.catalog}第{self.seq}版（{self.label}）"
            if self.catalog
            else f"其他辖区目录的第{self.seq}版"
        )
        return f"{who}：公开期限 {self.deadline.isoformat()} 按新数据应为 {self.recounted.isoformat()}"


def moved_deadlines(
    session: Session, year: int, before: WorkCalendar, after: WorkCalendar, *, actor: Actor
) -> list[MovedDeadline]:
    """Return the issued versions whose deadline, counted through `year`'s notice, `after` would move.

    A deadline is the n-th working day after the issue date; it moves when `after` puts that
    n-th day elsewhere than `before` does. Versions whose count `before` cannot make are skipped.
    """
    stmt = (
        select(Version, Catalog)
        .join(Catalog, Catalog.id == Version.catalog_id)
        .where(
            Version.issued_on.is_not(None),
            Version.publication_deadline.is_not(None),
            Version.issued_on <= date(year, 12, 31),
            Version.publication_deadline >= date(year - 1, 12, 1),  # a notice may arrange that December
        )
        .order_by(Catalog.slug, Version.seq)
    )
    found = []
    for version, catalog in session.execute(stmt):
        issued, deadline = version.issued_on, version.publication_deadline
        assert issued is not None  # the query asks for both
        assert deadline is not None
        try:
            n = working_days_between(issued, deadline, before)
            old, new = add_working_days(issued, n, before), add_working_days(issued, n, after)
        except CalendarYearMissing:
            continue
        if old != new:
            shown = not isinstance(actor, User) or catalog.jurisdiction_id == actor.jurisdiction_id
            published = VersionState(version.status) in PUBLIC_VERSION_STATES
            found.append(
                MovedDeadline(
                    catalog.name if shown else "", version.seq, version.label, published, deadline, new
                )
            )
    return found
