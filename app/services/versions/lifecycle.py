"""A version's life, every change in one place: open (编制), issue (印发), schedule, publish (公开).

Each mutation checks its actor against the workflow tables, moves the version by the table
(the version's row locked first, so two people or a person and the scheduler cannot both
act), writes one audit event, commits once, and registers the work that must follow the
commit: publishing asks for the version to be indexed for search. The pages, the API, the
command line and the scheduler all call these, so they behave the same.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.calendar.days import CalendarYearMissing, WorkCalendar, add_working_days
from app.clock import beijing_date, real_clock
from app.db.models import Catalog, Version
from app.db.on_commit import on_commit
from app.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from app.services import access, audit
from app.services.access import SCHEDULER, Actor
from app.services.calendar import workdays
from app.services.catalogs import authoring, browse
from app.services.search import worker as search_worker
from app.workflow.states import VersionAction, VersionState, advance_version

log = logging.getLogger(__name__)

_published_here = 0  # publications this process committed: what it shows of public lists may be stale


def publications_here() -> int:
    """Return how many publications this process has committed (a stamp for in-memory copies)."""
    return _published_here


def _count_publication() -> None:
    global _published_here
    _published_here += 1


# 示财购〔2025〕12号; brackets typed as [] or 【】 or () are accepted and written as 〔〕.
DOC_NUMBER = re.compile(r"^(?P<org>[^\s〔〕]{1,30})〔(?P<year>\d{4})〕(?P<n>\d{1,5})号$")
_BRACKETS = str.maketrans(
    {"[": "〔", "]": "〕", "【": "〔", "】": "〕", "(": "〔", ")": "〕", "（": "〔", "）": "〕"}
)
LABEL_MAX = 100
UNUSUAL_ISSUE_DAYS = 30  # an issue date further back than this is confirmed a second time
NEEDED = {  # what a version must be for each action, in words, for a refusal's message
    VersionAction.ISSUE: "只有编制中的版本可以印发",
    VersionAction.PUBLISH: "只有已印发的版本可以公开",
    VersionAction.SCHEDULE: "只有已印发、尚未公开的版本可以安排公开日期",
}


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


def describe(version: Version) -> str:
    """Return what a version is now, in words (for a 409 that says what changed)."""
    text = f"第{version.seq}版（{version.label}）现为“{VersionState(version.status).label}”"
    if version.doc_number:
        text += f"，文号 {version.doc_number}"
    if version.issued_on:
        text += f"，{version.issued_on.isoformat()} 印发"
    if version.published_at:
        text += f"，{beijing_date(version.published_at).isoformat()} 已公开"
    return text


def open_version(session: Session, slug: str, *, label: str, actor: Actor) -> Version:
    """Open the catalog's next version (assembling), audit, commit and return it."""
    catalog = browse.catalog(session, slug)
    access.check_version_action(actor, catalog, VersionAction.OPEN)
    label = label.strip()
    if not label or len(label) > LABEL_MAX:
        raise InvalidInput(f"请填写版本名称（{LABEL_MAX} 字以内），如“2026年版”")
    try:
        version = authoring.open_next_version(session, catalog, label)
    except InvalidInput as exc:
        raise Conflict(exc.message) from None
    _audit(session, actor, "version.open", version, catalog, label=label)
    session.commit()
    return version


@dataclass(frozen=True, slots=True)
class IssuePlan:
    """What issuing would fix for ever: shown to the admin to confirm before anything is written."""

    catalog: Catalog
    version: Version
    state: VersionState  # the version's state once issued
    doc_number: str  # in its official form
    on: date
    deadline: date  # the publication deadline it creates
    days_ago: int  # how many days before today `on` lies

    @property
    def unusual(self) -> bool:
        """Return whether the date lies so far back that a second confirmation is asked for."""
        return self.days_ago > UNUSUAL_ISSUE_DAYS


def plan_issue(
    session: Session, slug: str, seq: int, *, doc_number: str, on: date, today: date, actor: Actor
) -> IssuePlan:
    """Return what issuing version `seq` with `doc_number` on `on` would do, writing nothing; raise
    what issue would: InvalidInput for a bad number or date, InvalidTransition, Forbidden, NotFound.

    The date may not lie after `today`, nor before the issue date of an earlier version (a version
    cannot be issued before the one it follows); where the calendar cannot count the deadline
    InvalidInput names the missing year.
    """
    calendar = workdays.work_calendar(session)  # may seed the calendar, a commit: before any change
    catalog, version, state = _claim(session, slug, seq, VersionAction.ISSUE, actor)
    number = normalise_doc_number(doc_number)
    if on > today:
        raise InvalidInput(
            f"印发日期 {on.isoformat()} 晚于今天（{today.isoformat()}）：请填写文件实际印发的日期"
        )
    earlier = session.scalars(
        select(Version)
        .where(Version.catalog_id == catalog.id, Version.seq < seq, Version.issued_on.is_not(None))
        .order_by(Version.issued_on.desc())
        .limit(1)
    ).first()
    if earlier is not None and earlier.issued_on is not None and on < earlier.issued_on:
        raise InvalidInput(
            f"印发日期 {on.isoformat()} 早于第{earlier.seq}版（{earlier.label}）的印发日期 "
            f"{earlier.issued_on.isoformat()}：新版本不能早于它之前的版本印发"
        )
    deadline = _deadline(on, catalog.publication_period_days, calendar)
    return IssuePlan(catalog, version, state, number, on, deadline, (today - on).days)


def issue(
    session: Session,
    slug: str,
    seq: int,
    *,
    doc_number: str,
    on: date,
    today: date,
    actor: Actor,
    unusual_date_confirmed: bool = False,
) -> Version:
    """Fix the assembling version `seq` as issued (its content never changes again), commit, return it.

    Refused as plan_issue refuses. Its publication deadline is `on` plus the catalog's period in
    working days. A date more than UNUSUAL_ISSUE_DAYS back is written only when
    `unusual_date_confirmed`: a slip of the year would otherwise stay on the record for ever.
    """
    plan = plan_issue(session, slug, seq, doc_number=doc_number, on=on, today=today, actor=actor)
    if plan.unusual and not unusual_date_confirmed:
        raise InvalidInput(
            f"印发日期 {on.isoformat()} 早于今天 {plan.days_ago} 天：请核对；"
            "确属如此，请确认这一日期后再印发",
            details={"confirm": "unusual_date", "days_ago": plan.days_ago},
        )
    catalog, version, number, deadline = plan.catalog, plan.version, plan.doc_number, plan.deadline
    version.doc_number, version.issued_on, version.status = number, on, plan.state
    version.publication_deadline = deadline
    _audit(
        session, actor, "version.issue", version, catalog,
        doc_number=number, on=on.isoformat(), publication_deadline=deadline.isoformat(),
    )  # fmt: skip
    session.commit()
    return version


@dataclass(frozen=True, slots=True)
class PublishPlan:
    """What publishing would do: the version goes public, the one public before it is superseded."""

    catalog: Catalog
    version: Version
    superseded: Version | None


def plan_publish(session: Session, slug: str, seq: int, *, actor: Actor) -> PublishPlan:
    """Return what publishing version `seq` would do, writing nothing; raise what publish would."""
    catalog, version, _ = _claim(session, slug, seq, VersionAction.PUBLISH, actor)
    before = session.scalars(
        select(Version).where(
            Version.catalog_id == catalog.id, Version.seq < seq, Version.status == VersionState.PUBLISHED
        )
    ).first()
    return PublishPlan(catalog, version, before)


def publish(session: Session, slug: str, seq: int, *, actor: Actor, at: datetime | None = None) -> Version:
    """Make the issued version `seq` public at `at` (default: now), supersede the older ones, commit.

    Once committed, the version is indexed for search (see search.worker).
    """
    catalog, version, state = _claim(session, slug, seq, VersionAction.PUBLISH, actor)
    return _publish(session, catalog, version, state, at=at or real_clock(), actor=actor)


def schedule(session: Session, slug: str, seq: int, *, on: date, today: date, actor: Actor) -> Version:
    """Schedule the issued version `seq` to go public on `on`, commit and return it.

    `on` must lie between `today` and the publication deadline, both included; InvalidInput says
    which bound it breaks.
    """
    catalog, version, _ = _claim(session, slug, seq, VersionAction.SCHEDULE, actor)
    if on < today:
        raise InvalidInput(f"公开日期 {on.isoformat()} 已过，请选择今天（{today.isoformat()}）或以后的日期")
    deadline = version.publication_deadline
    if deadline is not None and on > deadline:
        late = "已过公开期限，请立即公开" if today > deadline else "请选择期限内的日期"
        raise InvalidInput(f"公开日期 {on.isoformat()} 晚于公开期限 {deadline.isoformat()}：{late}")
    before, version.publish_on = version.publish_on, on
    _audit_schedule(session, actor, "version.schedule", version, catalog, before)
    session.commit()
    return version


def unschedule(session: Session, slug: str, seq: int, *, actor: Actor) -> Version:
    """Remove the scheduled publication day of the issued version `seq`, commit and return it."""
    catalog, version, _ = _claim(session, slug, seq, VersionAction.SCHEDULE, actor)
    if version.publish_on is None:
        raise InvalidTransition(f"第{seq}版没有安排公开日期")
    before, version.publish_on = version.publish_on, None
    _audit_schedule(session, actor, "version.unschedule", version, catalog, before)
    session.commit()
    return version


def publish_due(session: Session, *, now: datetime, actor: Actor = SCHEDULER) -> list[Version]:
    """Publish every issued version scheduled for the Beijing day of `now` or earlier; return them.

    Each is published in its own transaction, at `now`; one that another process published
    first is skipped.
    """
    due = session.scalars(
        select(Version)
        .join(Catalog, Catalog.id == Version.catalog_id)
        .where(Version.status == VersionState.ISSUED, Version.publish_on <= beijing_date(now))
        .order_by(Version.publish_on, Catalog.slug, Version.seq)
    ).all()
    published = []
    for version in due:
        catalog = session.get_one(Catalog, version.catalog_id)
        try:
            _, claimed, state = _claim(session, catalog.slug, version.seq, VersionAction.PUBLISH, actor)
            published.append(_publish(session, catalog, claimed, state, at=now, actor=actor))
        except (InvalidTransition, OperationalError) as exc:  # published meanwhile, or the row was busy
            session.rollback()
            log.info("scheduled publication of version %s skipped: %s", version.id, exc)
    return published


def _claim(
    session: Session, slug: str, seq: int, action: VersionAction, actor: Actor
) -> tuple[Catalog, Version, VersionState]:
    """Return the catalog, version `seq` locked for update, and its state after `action` by `actor`.

    NotFound outside the actor's jurisdiction, Forbidden for a role the table does not allow,
    InvalidTransition (saying what the version is now) when its state does not allow `action`.
    """
    catalog = browse.catalog(session, slug)
    access.check_version_action(actor, catalog, action)
    version = get_version(session, slug, seq)
    session.refresh(version, with_for_update=True)  # a person and the scheduler may race: one wins
    try:
        state = advance_version(VersionState(version.status), action, access.role_of(actor))
    except InvalidTransition:
        message = f"操作未执行：{describe(version)}；{NEEDED[action]}"
        raise InvalidTransition(message, details={"status": version.status}) from None
    return catalog, version, state


def _publish(
    session: Session, catalog: Catalog, version: Version, state: VersionState, *, at: datetime, actor: Actor
) -> Version:
    version.status, version.published_at = state, at
    session.execute(
        update(Version)
        .where(
            Version.catalog_id == catalog.id,
            Version.seq < version.seq,
            Version.status == VersionState.PUBLISHED,
        )
        .values(
            status=advance_version(VersionState.PUBLISHED, VersionAction.SUPERSEDE, access.role_of(SCHEDULER))
        )
    )
    _audit(session, actor, "version.publish", version, catalog, published_at=at.isoformat())
    search_worker.index_after_commit(session)  # public from now on, so searchable from now on
    on_commit(session, _count_publication)
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


def _audit(
    session: Session, actor: Actor, action: str, version: Version, catalog: Catalog, **summary: object
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        object_type="version",
        object_id=version.id,
        summary={"catalog": catalog.slug, "seq": version.seq, **summary},
    )


def _audit_schedule(
    session: Session, actor: Actor, action: str, version: Version, catalog: Catalog, before: date | None
) -> None:
    after = version.publish_on
    _audit(
        session, actor, action, version, catalog,
        before=None if before is None else before.isoformat(),
        after=None if after is None else after.isoformat(),
    )  # fmt: skip
