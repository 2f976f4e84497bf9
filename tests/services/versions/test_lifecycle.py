"""Deadlines on issue, scheduled publication, publish_due and the scheduler, driven by a fixed clock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.clock import BEIJING
from app.config import Settings
from app.db.engine import make_sessionmaker
from app.db.models import AuditEvent, Jurisdiction, User, Version
from app.errors import Forbidden, InvalidInput, InvalidTransition, NotFound
from app.http import deps as api_publication
from app.main import create_app
from app.services.calendar import workdays
from app.services.catalogs import authoring as catalogs
from app.services.people import accounts as people
from app.services.versions import lifecycle as publication
from app.services.versions import lifecycle as versions
from app.services.versions import scheduler as schedulers
from tests.databases import checksum
from tests.factories import ELDERLY, SYSTEM, Built, Item, issuer, published_catalog

LATER = [Item("i6", "A06", "老年人能力评估服务", "101", "为申请养老服务补贴的老年人开展能力评估。")]
PASSWORD = "correct-horse-1"
DOC = "测财购〔2026〕3号"


@dataclass
class Setup:
    built: Built
    admin: User
    reviewer: User
    stranger: User  # a finance administrator of another jurisdiction
    tokens: dict[str, dict[str, str]]


@pytest.fixture
def s(session: Session) -> Setup:
    """A catalog whose version 1 is published and version 2 assembling, and three people."""
    built = published_catalog(session, ELDERLY, later=LATER, status="assembling")
    other = Jurisdiction(code="990200", name="邻市", level="city")
    session.add(other)
    session.flush()
    home = built.catalog.jurisdiction_id
    users = {
        name: people.add_user(session, username=name, password=PASSWORD, role=role, jurisdiction_id=j)
        for name, role, j in [
            ("admin", "finance_admin", home),
            ("reviewer", "finance_reviewer", home),
            ("stranger", "finance_admin", other.id),
        ]
    }
    session.commit()
    tokens = {
        name: {"Authorization": f"Bearer {people.create_token(session, name, actor=SYSTEM)}"}
        for name in users
    }
    return Setup(built, users["admin"], users["reviewer"], users["stranger"], tokens)


def issue(session: Session, seq: int = 2, on: date = date(2026, 1, 30)) -> Version:
    return versions.issue(session, "ceshi", seq, doc_number=DOC, on=on, today=on, actor=issuer(session))


def beijing(text: str) -> datetime:
    """Return the moment written as Beijing local time."""
    return datetime.fromisoformat(text).replace(tzinfo=BEIJING)


def actions(session: Session) -> list[tuple[str, str]]:
    rows = session.scalars(select(AuditEvent).order_by(AuditEvent.id))
    return [(e.action, e.actor_name) for e in rows if e.action.startswith("version.")]


# --- deadlines on issue ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "on", "deadline"),
    [
        pytest.param(10, date(2026, 1, 30), date(2026, 2, 13), id="regulations-example"),
        pytest.param(11, date(2026, 1, 30), date(2026, 2, 14), id="make-up-saturday"),
        pytest.param(12, date(2026, 1, 30), date(2026, 2, 24), id="across-spring-festival"),
        pytest.param(10, date(2025, 9, 28), date(2025, 10, 17), id="from-a-make-up-sunday"),
        # 12-31 (1), 2026-01-01…03 off, make-up Sunday 01-04 (2), 01-05 (3)
        pytest.param(3, date(2025, 12, 30), date(2026, 1, 5), id="across-new-year"),
    ],
)
def test_issue_records_the_deadline_in_working_days(
    session: Session, s: Setup, period: int, on: date, deadline: date
) -> None:
    s.built.catalog.publication_period_days = period
    session.commit()
    version = issue(session, on=on)
    assert (version.status, version.doc_number, version.issued_on) == ("issued", DOC, on)
    assert version.publication_deadline == deadline
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "version.issue")).one()
    assert event.summary["publication_deadline"] == deadline.isoformat()


def test_issue_is_refused_where_the_calendar_ends_and_writes_nothing(
    session: Session, engine: Engine, s: Setup
) -> None:
    last = max(workdays.package_years())
    workdays.work_calendar(session)  # seeded beforehand, so the checksum compares the issue alone
    before = checksum(engine)
    with pytest.raises(InvalidInput, match=rf"未印发：.*工作日历缺少{last + 1}年的数据"):
        issue(session, on=date(last, 12, 24))  # ten working days reach into January of next year
    session.rollback()
    assert checksum(engine) == before
    assert session.get_one(Version, s.built.versions[1].id).status == "assembling"


def test_publish_records_the_moment_and_supersedes_the_older_version(session: Session, s: Setup) -> None:
    issue(session)
    at = beijing("2026-02-05T09:30:00")
    published = versions.publish(session, "ceshi", 2, at=at, actor=s.admin)
    assert (published.status, published.published_at) == ("published", at)
    assert session.get_one(Version, s.built.versions[0].id).status == "superseded"
    with pytest.raises(InvalidTransition, match="只有已印发的版本可以公开"):
        versions.publish(session, "ceshi", 2, at=at, actor=s.admin)


# --- scheduling ------------------------------------------------------------------------------


def test_schedule_within_the_deadline_and_cancel(session: Session, s: Setup) -> None:
    issue(session)  # deadline 2026-02-13
    on_deadline = publication.schedule(
        session, "ceshi", 2, on=date(2026, 2, 13), actor=s.admin, today=date(2026, 2, 2)
    )
    assert on_deadline.publish_on == date(2026, 2, 13)
    today = publication.schedule(
        session, "ceshi", 2, on=date(2026, 2, 2), actor=s.admin, today=date(2026, 2, 2)
    )
    assert today.publish_on == date(2026, 2, 2)
    assert publication.unschedule(session, "ceshi", 2, actor=s.admin).publish_on is None
    with pytest.raises(InvalidTransition, match="没有安排公开日期"):
        publication.unschedule(session, "ceshi", 2, actor=s.admin)
    assert actions(session)[1:] == [
        ("version.schedule", "admin"),
        ("version.schedule", "admin"),
        ("version.unschedule", "admin"),
    ]


@pytest.mark.parametrize(
    ("on", "today", "message"),
    [
        pytest.param(
            date(2026, 2, 14), date(2026, 2, 2), "晚于公开期限 2026-02-13：请选择期限内的日期", id="after"
        ),
        pytest.param(date(2026, 2, 1), date(2026, 2, 2), "已过，请选择今天（2026-02-02）或以后", id="past"),
        pytest.param(date(2026, 2, 16), date(2026, 2, 16), "已过公开期限，请立即公开", id="overdue"),
    ],
)
def test_a_schedule_outside_today_to_deadline_is_refused(
    session: Session, s: Setup, on: date, today: date, message: str
) -> None:
    issue(session)
    with pytest.raises(InvalidInput, match=message):
        publication.schedule(session, "ceshi", 2, on=on, actor=s.admin, today=today)
    session.rollback()
    assert session.get_one(Version, s.built.versions[1].id).publish_on is None


def test_only_an_issued_version_is_scheduled_and_only_by_its_finance_admin(
    session: Session, s: Setup
) -> None:
    def schedule(seq: int, actor: User) -> Version:
        return publication.schedule(
            session, "ceshi", seq, on=date(2026, 2, 10), actor=actor, today=date(2026, 2, 2)
        )

    with pytest.raises(InvalidTransition, match="只有已印发、尚未公开的版本"):
        schedule(2, s.admin)  # still assembling
    with pytest.raises(InvalidTransition, match="只有已印发、尚未公开的版本"):
        schedule(1, s.admin)  # already public
    issue(session)
    with pytest.raises(Forbidden, match="财政审核人不能安排公开日期"):
        schedule(2, s.reviewer)
    with pytest.raises(NotFound):
        schedule(2, s.stranger)


# --- publishing what is due ------------------------------------------------------------------


@pytest.fixture
def two_scheduled(session: Session, s: Setup) -> tuple[Version, Version]:
    """Version 2 scheduled for 2026-02-10, version 3 for 2026-02-12, as of 2026-02-02."""
    v2 = issue(session)
    v3 = catalogs.open_next_version(session, s.built.catalog, "2026年调整")
    session.commit()
    v3 = versions.issue(
        session,
        "ceshi",
        3,
        doc_number="测财购〔2026〕5号",
        on=date(2026, 2, 2),
        today=date(2026, 2, 2),
        actor=s.admin,
    )
    for version, on in ((v2, date(2026, 2, 10)), (v3, date(2026, 2, 12))):
        publication.schedule(session, "ceshi", version.seq, on=on, actor=s.admin, today=date(2026, 2, 2))
    return v2, v3


@pytest.mark.usefixtures("two_scheduled")
def test_publish_due_publishes_exactly_what_is_due_by_beijing_day(session: Session, s: Setup) -> None:
    assert publication.publish_due(session, now=beijing("2026-02-09T23:59:59")) == []
    first = beijing("2026-02-10T00:00:30")
    assert first.astimezone(UTC).date() == date(2026, 2, 9)  # still the 9th in UTC: the Beijing day counts
    assert [v.seq for v in publication.publish_due(session, now=first)] == [2]
    assert publication.publish_due(session, now=beijing("2026-02-11T12:00:00")) == []
    later = beijing("2026-02-12T00:01:00")
    assert [v.seq for v in publication.publish_due(session, now=later)] == [3]
    rows = {
        v.seq: v for v in session.scalars(select(Version).where(Version.catalog_id == s.built.catalog.id))
    }
    assert (rows[2].status, rows[2].published_at) == ("superseded", first)
    assert (rows[3].status, rows[3].published_at) == ("published", later)
    assert actions(session)[-2:] == [("version.publish", "scheduler"), ("version.publish", "scheduler")]


@pytest.mark.usefixtures("s", "two_scheduled")
def test_the_schedule_survives_in_the_database_and_a_tick_publishes_it(engine: Engine) -> None:
    # a new Scheduler (as after a restart) finds the schedule in the database
    scheduler = schedulers.Scheduler(make_sessionmaker(engine), clock=lambda: beijing("2026-02-10T00:00:05"))
    assert [v.seq for v in scheduler.tick()] == [2]
    assert scheduler.tick() == []


@pytest.mark.usefixtures("s", "two_scheduled")
def test_publishing_indexes_after_its_commit_and_a_tick_catches_up(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.db.models import SearchVersion
    from app.services.search import index as search_index
    from app.services.search import worker

    sessions = make_sessionmaker(engine)
    seen: list[tuple[set[int], set[int]]] = []  # (indexed, published) as another session saw them
    real_catch_up = worker.catch_up

    def catch_up(bound: Engine, *, background: bool) -> None:
        with sessions() as check:
            indexed = set(check.scalars(select(SearchVersion.version_id)))
            public = set(check.scalars(select(Version.id).where(Version.status == "published")))
        seen.append((indexed, public))
        real_catch_up(bound, background=background)

    monkeypatch.setattr(worker, "catch_up", catch_up)
    scheduler = schedulers.Scheduler(sessions, clock=lambda: beijing("2026-02-10T00:00:05"))
    [published] = scheduler.tick()
    assert seen == [(set(), {published.id})]  # asked for once the publication was committed, not before
    with sessions() as check:
        assert published.id in set(check.scalars(select(SearchVersion.version_id)))
    assert scheduler.tick() == []
    assert len(seen) == 1  # nothing published, nothing missing: nothing to index

    monkeypatch.setattr(worker, "catch_up", lambda *_a, **_k: None)  # an app stopped before indexing
    with sessions() as other:
        versions.publish(other, "ceshi", 3, at=beijing("2026-02-10T09:00:00"), actor=SYSTEM)
    monkeypatch.setattr(worker, "catch_up", catch_up)
    assert scheduler.tick() == []
    assert len(seen) == 2  # the next tick catches up all the same
    with sessions() as check:
        assert search_index.unindexed(check) == []


def test_work_after_a_commit_is_dropped_when_the_transaction_rolls_back(engine: Engine) -> None:
    from app.db.on_commit import on_commit

    ran: list[str] = []
    with make_sessionmaker(engine)() as session:
        session.connection()
        on_commit(session, lambda: ran.append("rolled back"))
        session.rollback()
        session.connection()
        on_commit(session, lambda: ran.append("once"), key="k")
        on_commit(session, lambda: ran.append("twice"), key="k")
        session.commit()
    assert ran == ["twice"]  # the rolled-back one never runs; one per key, the last registered


@pytest.mark.usefixtures("s", "two_scheduled")
def test_the_background_scheduler_ticks_at_start(engine: Engine) -> None:
    ticked = threading.Event()

    def clock() -> datetime:
        ticked.set()
        return beijing("2026-02-12T08:00:00")

    with schedulers.background_scheduler(make_sessionmaker(engine), enabled=True, clock=clock) as scheduler:
        assert scheduler is not None
        assert ticked.wait(timeout=30)
    # leaving the block stops the thread after the tick it is in
    with make_sessionmaker(engine)() as check:
        statuses = check.scalars(select(Version.status).order_by(Version.seq)).all()
    assert statuses == ["superseded", "superseded", "published"]


def test_the_app_runs_the_scheduler_only_when_configured(settings: Settings) -> None:
    def running() -> bool:
        return any(t.name == "guidecat-scheduler" for t in threading.enumerate())

    with TestClient(create_app(settings)):
        assert not running()
    with TestClient(create_app(replace(settings, run_scheduler=True))):
        assert running()
    assert not running()
    assert Settings.from_env({"GUIDECAT_SCHEDULER": "0"}).run_scheduler is False
    assert Settings.from_env({}).run_scheduler is True


# --- over HTTP, and the public record --------------------------------------------------------


@pytest.fixture
def on_feb_2(client: TestClient) -> Iterator[TestClient]:
    client.app.dependency_overrides[api_publication.today] = lambda: date(2026, 2, 2)  # type: ignore[attr-defined]
    yield client
    client.app.dependency_overrides.clear()  # type: ignore[attr-defined]


def test_api_schedules_and_cancels(session: Session, s: Setup, on_feb_2: TestClient) -> None:
    issue(session)
    url = "/api/v1/catalogs/ceshi/versions/2/schedule"
    body = {"publish_on": "2026-02-11"}
    anonymous = on_feb_2.put(url, json=body)
    assert anonymous.status_code == 401  # sign in first: an ended session must not look like a wrong URL
    assert anonymous.headers["WWW-Authenticate"] == "Bearer"
    assert on_feb_2.put(url, json=body, headers=s.tokens["reviewer"]).status_code == 403
    done = on_feb_2.put(url, json=body, headers=s.tokens["admin"])
    assert done.status_code == 200, done.text
    assert (done.json()["publish_on"], done.json()["publication_deadline"]) == ("2026-02-11", "2026-02-13")
    late = on_feb_2.put(url, json={"publish_on": "2026-02-16"}, headers=s.tokens["admin"])
    assert late.status_code == 422
    assert "晚于公开期限 2026-02-13" in late.json()["error"]["message"]
    cancelled = on_feb_2.delete(url, headers=s.tokens["admin"])
    assert (cancelled.status_code, cancelled.json()["publish_on"]) == (200, None)


def test_the_public_versions_show_doc_number_dates_and_publication_time(
    session: Session, s: Setup, client: TestClient
) -> None:
    issue(session)
    versions.publish(session, "ceshi", 2, at=beijing("2026-02-05T09:30:00"), actor=s.admin)
    listed = {v["seq"]: v for v in client.get("/api/v1/catalogs/ceshi/versions").json()}
    assert listed[2]["doc_number"] == DOC
    assert listed[2]["issued_on"] == "2026-01-30"
    assert listed[2]["publication_deadline"] == "2026-02-13"
    assert datetime.fromisoformat(listed[2]["published_at"]) == beijing("2026-02-05T09:30:00")
