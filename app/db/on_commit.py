"""Work that must follow a commit: registered by the mutation that needs it, run once it commits.

A mutation calls `on_commit(session, work)` inside its transaction; `work` runs right after
the transaction commits, and is forgotten if it rolls back, so nothing follows a change that
never happened. Work with the same `key` registered twice in one transaction runs once.

How long-running work runs is the deployment's choice, not the mutation's: a session made by
`make_sessionmaker(engine, background_work=True)` (the app's) asks for it to run out of the
request's way; any other session (the command line, tests) runs it before `commit()` returns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

PENDING = "guidecat.on_commit"
BACKGROUND_WORK = "guidecat.background_work"

Work = Callable[[], None]


def on_commit(session: Session, work: Work, *, key: str | None = None) -> None:
    """Have `work` run once the session's current transaction commits (once per `key`)."""
    pending: dict[object, Work] = session.info.setdefault(PENDING, {})
    pending[key if key is not None else object()] = work


def runs_in_background(session: Session) -> bool:
    """Return whether work after this session's commits should run out of the caller's way."""
    return bool(session.info.get(BACKGROUND_WORK))


@event.listens_for(Session, "after_commit")
def _run_pending(session: Session) -> None:
    pending: dict[object, Work] = session.info.pop(PENDING, {})
    for work in pending.values():
        try:
            work()
        except Exception:  # the change is committed: a failure here must not look like its failure
            log.exception("work after commit failed")


@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session, *_: Any) -> None:
    session.info.pop(PENDING, None)
