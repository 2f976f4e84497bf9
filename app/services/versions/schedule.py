"""Publication on time: scheduling an issued version's publication, and publishing what is due.

A schedule is a date on the version row (publish_on, a Beijing calendar day), so it survives
restarts: the in-process Scheduler and `guidecat publish-due` (for cron) both just publish
every issued version whose day has come.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app.db.models import Catalog, User, Version
from app.errors import Forbidden, InvalidInput, InvalidTransition
from app.services import access, audit
from app.services.catalogs import browse
from app.services.search import index as search_index
from app.services.versions import publication as versions
from app.workflow.states import VERSION_ROLES, VersionAction

log = logging.getLogger(__name__)

CHINA = ZoneInfo("Asia/Shanghai")
SCHEDULER = "scheduler"  # the audit trail's name for the system when it publishes by itself
TICK_SECONDS = 60.0

Clock = Callable[[], datetime]


def real_clock() -> datetime:
    """Return the current moment (timezone-aware)."""
    return datetime.now(UTC)


def beijing_date(moment: datetime) -> date:
    """Return the calendar day in Beijing at `moment` (an aware datetime)."""
    return moment.astimezone(CHINA).date()


def schedule_publication(
    session: Session, slug: str, seq: int, *, on: date, actor: User | None, today: date
) -> Version:
    """Schedule the issued version `seq` to go public on `on`, commit and return it.

    `on` must lie between `today` and the publication deadline, both included; InvalidInput says
    which bound it breaks.
    """
    version = _schedulable(session, slug, seq, actor)
    if on < today:
        raise InvalidInput(f"公开日期 {on.isoformat()} 已过，请选择今天（{today.isoformat()}）或以后的日期")
    deadline = version.publication_deadline
    if deadline is not None and on > deadline:
        late = "已过公开期限，请立即公开" if today > deadline else "请选择期限内的日期"
        raise InvalidInput(f"公开日期 {on.isoformat()} 晚于公开期限 {deadline.isoformat()}：{late}")
    before, version.publish_on = version.publish_on, on
    _audit(session, version, slug, "version.schedule", actor, before)
    session.commit()
    return version


def cancel_schedule(session: Session, slug: str, seq: int, *, actor: User | None) -> Version:
    """Remove the scheduled publication day of the issued version `seq`, commit and return it."""
    version = _schedulable(session, slug, seq, actor)
    if version.publish_on is None:
        raise InvalidTransition(f"第{seq}版没有安排公开日期")
    before, version.publish_on = version.publish_on, None
    _audit(session, version, slug, "version.unschedule", actor, before)
    session.commit()
    return version


def _schedulable(session: Session, slug: str, seq: int, actor: User | None) -> Version:
    """Return version `seq` if `actor` (None: the system) may change its schedule now, else raise."""
    access.require_same_jurisdiction(actor, browse.catalog(session, slug))
    if actor is not None and access.role_of(actor) not in VERSION_ROLES[VersionAction.SCHEDULE]:
        raise Forbidden(f"{access.role_of(actor).label}不能安排公开日期，只有财政管理员可以")
    version = versions.get_version(session, slug, seq)
    if version.status != "issued":
        raise InvalidTransition(
            f"第{seq}版当前状态为“{version.status}”，只有已印发、尚未公开的版本可以安排公开日期"
        )
    return version


def _audit(
    session: Session, version: Version, slug: str, action: str, actor: User | None, before: date | None
) -> None:
    after = version.publish_on
    audit.record(
        session,
        actor=actor,
        action=action,
        object_type="version",
        object_id=version.id,
        summary={
            "catalog": slug,
            "seq": version.seq,
            "before": None if before is None else before.isoformat(),
            "after": None if after is None else after.isoformat(),
        },
    )


def publish_due(
    session: Session, *, now: datetime, actor: User | None = None, index: bool = True
) -> list[Version]:
    """Publish every issued version scheduled for the Beijing day of `now` or earlier; return them.

    Each is published in its own transaction, at `now`; one that another process published
    first is skipped. With `actor` None the audit trail names the scheduler. With `index`
    False the caller indexes them for search afterwards.
    """
    due = session.scalars(
        select(Version)
        .join(Catalog, Catalog.id == Version.catalog_id)
        .where(Version.status == "issued", Version.publish_on <= beijing_date(now))
        .order_by(Version.publish_on, Catalog.slug, Version.seq)
    ).all()
    published = []
    for version in due:
        try:
            published.append(
                versions.publish_version(
                    session, version, at=now, actor=actor, actor_name=SCHEDULER, index=index
                )
            )
        except (InvalidTransition, OperationalError) as exc:  # published meanwhile, or the row was busy
            session.rollback()
            log.info("scheduled publication of version %s skipped: %s", version.id, exc)
    return published


class Scheduler:
    """Publishes due versions in a background thread: at start, then every `interval` seconds.

    With `index_later`, what it published is indexed for search by calling that after each
    transaction (the app runs the indexing worker process); without, inside the transaction.
    It is also called on any tick that finds a public version missing from the index, e.g.
    after the app stopped while indexing one.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        clock: Clock = real_clock,
        interval: float = TICK_SECONDS,
        index_later: Callable[[], None] | None = None,
    ) -> None:
        self.sessions, self.clock, self.interval = sessions, clock, interval
        self.index_later = index_later
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> list[Version]:
        """Publish what is due at the clock's current time; return the versions published."""
        with self.sessions() as session:
            published = publish_due(session, now=self.clock(), index=self.index_later is None)
            behind = self.index_later is not None and bool(published or search_index.unindexed(session))
        if behind and self.index_later is not None:
            self.index_later()
        for version in published:
            log.info("published version %s (seq %s) as scheduled", version.id, version.seq)
        return published

    def start(self) -> None:
        """Start the background thread (it ticks at once)."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="guidecat-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the background thread and wait for a tick in progress to end."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # e.g. the database restarting: the loop must outlive it, or schedules stop
                log.exception("scheduled publication failed; retrying in %s s", self.interval)
            self._stop.wait(self.interval)


@contextmanager
def background_scheduler(
    sessions: sessionmaker[Session],
    *,
    enabled: bool,
    clock: Clock = real_clock,
    index_later: Callable[[], None] | None = None,
) -> Iterator[Scheduler | None]:
    """Run a Scheduler on `sessions` while the block runs (nothing when not `enabled`); yield it or None."""
    if not enabled:
        yield None
        return
    scheduler = Scheduler(sessions, clock=clock, index_later=index_later)
    scheduler.start()
    try:
        yield scheduler
    finally:
        scheduler.stop()
