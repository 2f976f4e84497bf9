"""Publication on time: a thread that publishes what is due, at start and then every minute.

A schedule is a date on the version row (publish_on, a Beijing calendar day), so it survives
restarts: this Scheduler and `guidecat publish-due` (for cron) both just publish every issued
version whose day has come (`lifecycle.publish_due`). Each tick also asks the search worker
to catch up on any public version the index lacks, e.g. after the app stopped while indexing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker

from app.clock import Clock, real_clock
from app.db.models import Version
from app.db.on_commit import runs_in_background
from app.services.search import index as search_index
from app.services.search import worker as search_worker
from app.services.versions import lifecycle

log = logging.getLogger(__name__)

TICK_SECONDS = 60.0


class Scheduler:
    """Publishes due versions in a background thread: at start, then every `interval` seconds."""

    def __init__(
        self, sessions: sessionmaker[Session], *, clock: Clock = real_clock, interval: float = TICK_SECONDS
    ) -> None:
        self.sessions, self.clock, self.interval = sessions, clock, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> list[Version]:
        """Publish what is due at the clock's current time; return the versions published."""
        with self.sessions() as session:
            published = lifecycle.publish_due(session, now=self.clock())
            if search_index.unindexed(session):  # one left behind by an earlier stop
                engine = session.get_bind()
                search_worker.catch_up(engine.engine, background=runs_in_background(session))
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
    sessions: sessionmaker[Session], *, enabled: bool, clock: Clock = real_clock
) -> Iterator[Scheduler | None]:
    """Run a Scheduler on `sessions` while the block runs (nothing when not `enabled`); yield it or None."""
    if not enabled:
        yield None
        return
    scheduler = Scheduler(sessions, clock=clock)
    scheduler.start()
    try:
        yield scheduler
    finally:
        scheduler.stop()
