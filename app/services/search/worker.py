"""The search indexing worker: a job of its own, asked for by the mutations that publish.

Publishing registers `index_after_commit(session)`; once the publication commits, the versions
the index lacks are indexed. In the app (sessions with background work) that happens in a
worker process at low priority, started from a thread that only waits for it: indexing is
Python work on the CPU, and in a thread of the serving process it would hold the interpreter
lock against every request. Elsewhere (the command line, tests) it happens before `commit()`
returns. `python -m app.services.search.worker` is the worker process itself.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from functools import partial

from sqlalchemy import Engine
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from app.config import PROJECT_ROOT
from app.db.on_commit import on_commit, runs_in_background
from app.services.search import index

log = logging.getLogger(__name__)

_RUNNING = threading.Lock()  # one worker process at a time from this process
_QUEUE = threading.Lock()
_waiting = False  # a worker is queued behind the running one: later publications need no other
_started: set[threading.Thread] = set()  # the waiting threads of this process, for `drain`


def index_after_commit(session: Session) -> None:
    """Have every public version the index lacks indexed once the session's transaction commits."""
    on_commit(
        session, partial(catch_up, _engine(session), background=runs_in_background(session)), key=__name__
    )


def catch_up(engine: Engine, *, background: bool) -> None:
    """Index every public version the index lacks: in a worker process if `background`, else here."""
    if background and not _private_memory(engine.url):
        thread = threading.Thread(
            target=run_worker, args=(engine.url,), name="guidecat-search-worker", daemon=True
        )
        with _QUEUE:
            _started.add(thread)
        thread.start()
        return
    from app.db.engine import make_sessionmaker

    index.index_unindexed(make_sessionmaker(engine))


def drain() -> None:
    """Wait for every worker this process started to finish (the app does so as it stops)."""
    while True:
        with _QUEUE:
            pending = [t for t in _started if t.is_alive()]
            _started.clear()
            _started.update(pending)
        if not pending:
            return
        for thread in pending:
            thread.join()


def run_worker(url: URL) -> None:
    """Run the worker process on the database at `url` and wait for it; at most one more queues behind."""
    global _waiting
    with _QUEUE:
        if _waiting:  # it starts after the running one, so it will see this version too
            return
        _waiting = True
    env = {**os.environ, "DATABASE_URL": url.render_as_string(hide_password=False)}
    command = [sys.executable, "-m", __name__]
    with _RUNNING:
        with _QUEUE:
            _waiting = False
        done = subprocess.run(command, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        log.error("search indexing worker failed (%s): %s", done.returncode, done.stderr)


def _engine(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def _private_memory(url: URL) -> bool:
    """Return whether `url` is an in-memory SQLite database, which another process cannot open."""
    return url.get_backend_name() == "sqlite" and (url.database or ":memory:") == ":memory:"


def main() -> int:
    """Index what the index lacks on the database of DATABASE_URL, at low priority; return 0."""
    from app.config import DEFAULT_DATABASE_URL
    from app.db.engine import make_engine, make_sessionmaker

    if hasattr(os, "nice"):
        os.nice(10)  # requests being served come first
    engine = make_engine(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
    try:
        index.index_unindexed(make_sessionmaker(engine))
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
