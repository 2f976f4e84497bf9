"""Loading a year file as the calendar page does: a plan first (writes nothing), then the load it confirms.

Years 2099 and 2100 are FICTIONAL (no package or notice will ever cover them), so these tests keep
meaning the same when chinesecalendar learns the next real year.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.db.models import AuditEvent, CalendarYear, User, Version
from app.errors import Conflict, Forbidden, InvalidInput
from app.services.calendar import workdays
from app.services.calendar.grid import DayKind
from app.services.calendar.rows import NEW_YEAR
from app.services.calendar.workdays import Previewed
from tests.databases import checksum
from tests.factories import ELDERLY, SYSTEM, published_catalog
from tests.workflow_world import world


def year_file(
    year: int, holidays: dict[str, list[str]], make_up: list[str], source: str = "虚构测试数据（FICTIONAL）"
) -> str:
    """Return the JSON text of a year file."""
    doc = {
        "year": year,
        "source": source,
        "holidays": [{"name": name, "days": days} for name, days in holidays.items()],
        "make_up_workdays": make_up,
    }
    return json.dumps(doc, ensure_ascii=False)


# Thu 2099-01-01 and Fri 01-02 off, Sun 01-04 worked.
Y2099 = year_file(2099, {"虚构元旦": ["2099-01-01", "2099-01-02"]}, ["2099-01-04"])
# The same year corrected: Mon 01-05 is off as well, Sun 01-04 is not worked.
Y2099_CORRECTED = year_file(
    2099, {"虚构元旦": ["2099-01-01", "2099-01-02", "2099-01-05"]}, [], source="虚构更正（FICTIONAL）"
)


def user(session: Session, name: str) -> User:
    return session.scalars(select(User).where(User.username == name)).one()


def loads(session: Session) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.action == "calendar.load").order_by(AuditEvent.id)
    return list(session.scalars(stmt))


def test_a_plan_shows_the_year_and_writes_nothing(session: Session, engine: Engine) -> None:
    world(session)
    admin = user(session, "admin")
    workdays.work_calendar(session)  # seeded beforehand, so the checksum compares the plan alone
    before = checksum(engine)
    plan = workdays.plan_load(session, Y2099, actor=admin)
    session.rollback()
    assert checksum(engine) == before
    assert (plan.data.year, len(plan.data.rest_days), len(plan.data.make_up_days)) == (2099, 2, 1)
    assert (plan.replaces, plan.loaded, plan.changes, plan.moved) == (False, None, (), ())
    assert plan.seen == NEW_YEAR
    assert plan.digest == workdays.file_digest(Y2099)
    january = plan.grid.months[0]
    # Thursday 2099-01-01: the first week starts on Monday 2098-12-29, outside the month
    assert [d.day.day if d else None for d in january.weeks[0]] == [None, None, None, 1, 2, 3, 4]
    assert [(d.kind, d.name) for d in january.weeks[0][3:] if d] == [
        (DayKind.REST, "虚构元旦"),
        (DayKind.REST, "虚构元旦"),
        (DayKind.WEEKEND, ""),
        (DayKind.MAKE_UP, ""),
    ]


def test_a_confirmed_load_writes_the_year_and_audits_the_person(session: Session) -> None:
    world(session)
    admin = user(session, "admin")
    plan = workdays.plan_load(session, Y2099, actor=admin)
    loaded = workdays.load_year_file(session, Y2099, actor=admin, replace=True, previewed=plan.previewed)
    assert (loaded.year, loaded.rest_days, loaded.make_up_days, loaded.replaced) == (2099, 2, 1, False)
    assert 2099 in workdays.work_calendar(session).years
    [event] = loads(session)
    assert (event.actor_id, event.actor_name, event.object_id) == (admin.id, "admin", "2099")
    assert event.summary["before"] is None


def test_a_replacement_says_what_it_replaces_and_which_days_change(session: Session) -> None:
    world(session)
    admin = user(session, "admin")
    workdays.load_year_file(session, Y2099, actor=SYSTEM)
    plan = workdays.plan_load(session, Y2099_CORRECTED, actor=admin)
    assert plan.replaces
    assert plan.loaded is not None
    assert (plan.loaded.source, plan.loaded.rest_days, plan.loaded.make_up_days) == (
        "虚构测试数据（FICTIONAL）",
        2,
        1,
    )
    assert [(c.before.day, c.before.label, c.after.label) for c in plan.changes] == [
        (date(2099, 1, 4), "班", "周末"),
        (date(2099, 1, 5), "工作日", "休（虚构元旦）"),
    ]
    replaced = workdays.load_year_file(
        session, Y2099_CORRECTED, actor=admin, replace=True, previewed=plan.previewed
    )
    assert replaced.replaced
    assert loads(session)[-1].summary["before"] == {
        "source": "虚构测试数据（FICTIONAL）",
        "rest_days": 2,
        "make_up_days": 1,
    }


def test_a_plan_made_stale_by_another_load_is_a_conflict(session: Session, engine: Engine) -> None:
    world(session)
    admin = user(session, "admin")
    plan = workdays.plan_load(session, Y2099, actor=admin)
    workdays.load_year_file(session, Y2099_CORRECTED, actor=SYSTEM)  # someone else, in between
    before = checksum(engine)
    with pytest.raises(Conflict, match="预览之后，2099年的工作日历已被他人载入或更改"):
        workdays.load_year_file(session, Y2099, actor=admin, replace=True, previewed=plan.previewed)
    session.rollback()
    assert checksum(engine) == before
    assert workdays.year_view(session, 2099).source == "虚构更正（FICTIONAL）"


def test_a_confirmation_of_another_file_than_previewed_is_refused(session: Session) -> None:
    world(session)
    admin = user(session, "admin")
    plan = workdays.plan_load(session, Y2099, actor=admin)
    with pytest.raises(InvalidInput, match="与预览的不一致"):
        workdays.load_year_file(
            session, Y2099_CORRECTED, actor=admin, replace=True, previewed=Previewed(plan.digest, plan.seen)
        )
    session.rollback()
    assert session.get(CalendarYear, 2099) is None


@pytest.mark.parametrize("who", ["minzheng", "reviewer", "sysadmin"])
def test_only_finance_admins_load_a_year(session: Session, who: str) -> None:
    world(session)
    with pytest.raises(Forbidden, match="不能载入工作日历，只有财政管理员可以"):
        workdays.plan_load(session, Y2099, actor=user(session, who))
    with pytest.raises(Forbidden):
        workdays.load_year_file(session, Y2099, actor=user(session, who))
    session.rollback()
    assert session.get(CalendarYear, 2099) is None


def test_every_problem_the_tables_find_is_listed(session: Session) -> None:
    workdays.load_year_file(
        session, year_file(2099, {"虚构元旦": ["2099-01-01"]}, ["2099-12-26", "2099-12-27"]), actor=SYSTEM
    )
    # 2100's notice arranging December 2099 against what 2099's says, twice, and a name too long
    text = year_file(2100, {"虚构跨年": ["2099-12-26", "2099-12-27"], "长" * 33: ["2100-01-01"]}, [])
    with pytest.raises(InvalidInput) as refused:
        workdays.plan_load(session, text, actor=SYSTEM)
    assert refused.value.details == [
        f"2100年节假日安排：节日名称“{'长' * 33}”超过32个字",
        "2100年节假日安排与2099年的数据矛盾：2099-12-26 在2099年的数据中是调休上班日",
        "2100年节假日安排与2099年的数据矛盾：2099-12-27 在2099年的数据中是调休上班日",
    ]
    assert refused.value.message.startswith("发现 3 处问题：")
    session.rollback()
    assert session.get(CalendarYear, 2100) is None


def test_a_new_year_that_changes_the_december_before_says_so(session: Session) -> None:
    workdays.load_year_file(session, year_file(2099, {"虚构元旦": ["2099-01-01"]}, []), actor=SYSTEM)
    plan = workdays.plan_load(
        session, year_file(2100, {"虚构元旦": ["2100-01-01"]}, ["2099-12-27"]), actor=SYSTEM
    )
    assert not plan.replaces
    assert [(c.before.day, c.before.label, c.after.label) for c in plan.changes] == [
        (date(2099, 12, 27), "周末", "班")
    ]
    assert [d.day for d in plan.grid.december_before] == [date(2099, 12, 27)]


def _issued(session: Session, *, deadline: date, status: str) -> Version:
    """Make version 1 of the test catalog issued on Wed 2098-12-31 with `deadline` (3 working days)."""
    built = published_catalog(session, ELDERLY)
    version = built.versions[0]
    version.status, version.issued_on, version.publication_deadline = status, date(2098, 12, 31), deadline
    session.commit()
    return version


def _with_2098(session: Session) -> None:
    workdays.load_year_file(session, year_file(2098, {"虚构元旦": ["2098-01-01"]}, []), actor=SYSTEM)
    workdays.load_year_file(session, Y2099, actor=SYSTEM)


def test_a_replacement_moving_the_deadline_of_an_unpublished_version_is_refused(
    session: Session, engine: Engine
) -> None:
    _with_2098(session)
    # after Wed 2098-12-31: Sun 01-04 (make-up), Mon 01-05, Tue 01-06 → the third working day is 01-06
    _issued(session, deadline=date(2099, 1, 6), status="issued")
    before = checksum(engine)
    with pytest.raises(InvalidInput) as refused:
        workdays.plan_load(session, Y2099_CORRECTED, actor=SYSTEM)
    assert refused.value.details == [
        "测试市政府购买服务指导性目录第1版（2024年版）：公开期限 2099-01-06 按新数据应为 2099-01-08",
        "这些版本尚未公开，其公开期限在印发时按现有工作日历确定：请先公开它们，再载入此文件",
    ]
    with pytest.raises(InvalidInput, match="请先公开它们"):
        workdays.load_year_file(session, Y2099_CORRECTED, actor=SYSTEM, replace=True)
    session.rollback()
    assert checksum(engine) == before


def test_a_replacement_recounting_a_published_deadline_is_shown_and_audited(session: Session) -> None:
    _with_2098(session)
    _issued(session, deadline=date(2099, 1, 6), status="published")
    plan = workdays.plan_load(session, Y2099_CORRECTED, actor=SYSTEM)
    [moved] = plan.moved
    assert (moved.published, moved.deadline, moved.recounted) == (True, date(2099, 1, 6), date(2099, 1, 8))
    workdays.load_year_file(session, Y2099_CORRECTED, actor=SYSTEM, replace=True, previewed=plan.previewed)
    assert loads(session)[-1].summary["published_deadlines_recounted"] == [moved.describe()]
    assert session.scalars(select(Version.publication_deadline)).one() == date(2099, 1, 6)  # the record stays
