"""The working-day calendar in the database: seeding, year files, the cache, the API and the CLI.

Years 2099 and 2100 below are FICTIONAL (no package or notice will ever cover them), so these
tests keep meaning the same when chinesecalendar learns the next real year.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.calendar.days import CalendarYearMissing, add_working_days
from app.db.migrate import upgrade
from app.db.models import AuditEvent, CalendarDay, CalendarYear
from app.errors import Conflict, InvalidInput
from app.services.calendar import workdays
from app.services.calendar.seed import chinese_calendar_years
from tests.databases import create_database, drop_database
from tests.factories import SYSTEM
from tests.paths import DATA, ROOT

DATA = DATA / "calendar"
PACKAGE = chinese_calendar_years()
PACKAGE_DAYS = sum(len(y.rest_days) + len(y.make_up_days) for y in PACKAGE)


def year_file(
    year: int, holidays: dict[str, list[str]], make_up: list[str], source: str = "虚构测试数据（FICTIONAL）"
) -> str:
    """Return the JSON text of a year file."""
    return json.dumps(
        {
            "year": year,
            "source": source,
            "holidays": [{"name": name, "days": days} for name, days in holidays.items()],
            "make_up_workdays": make_up,
        },
        ensure_ascii=False,
    )


# Thu 2099-01-01 and Fri 01-02 off, Sun 01-04 worked; Sun 2099-12-27 worked, Thu 12-31 off.
Y2099 = year_file(
    2099, {"虚构元旦": ["2099-01-01", "2099-01-02"], "虚构跨年": ["2099-12-31"]}, ["2099-01-04", "2099-12-27"]
)


def count(session: Session, model: type[CalendarYear] | type[CalendarDay]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def audits(session: Session, action: str) -> list[AuditEvent]:
    return list(
        session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
    )


# --- seeding ---------------------------------------------------------------------------------


def test_seeding_writes_every_package_year_once(session: Session, tmp_path: Path) -> None:
    first = workdays.seed_calendar(session, folder=tmp_path)
    assert first.years == tuple(y.year for y in PACKAGE)
    assert (count(session, CalendarYear), count(session, CalendarDay)) == (len(PACKAGE), PACKAGE_DAYS)
    again = workdays.seed_calendar(session, folder=tmp_path)
    assert again.years == ()
    assert (count(session, CalendarYear), count(session, CalendarDay)) == (len(PACKAGE), PACKAGE_DAYS)
    assert len(audits(session, "calendar.seed")) == 1
    spring = session.get_one(CalendarDay, date(2026, 2, 17))
    assert (spring.kind, spring.name, spring.year) == ("rest", "春节", 2026)


def test_seeding_takes_year_files_only_for_years_the_package_lacks(session: Session, tmp_path: Path) -> None:
    (tmp_path / "2099.json").write_text(Y2099, encoding="utf-8")
    (tmp_path / "2025.json").write_text(year_file(2025, {"元旦": ["2025-01-01"]}, []), encoding="utf-8")
    (tmp_path / "broken.json").write_text((DATA / "fictional-2027-weekday-make-up.json").read_text("utf-8"))
    result = workdays.seed_calendar(session, folder=tmp_path)
    assert 2099 in result.years
    assert len(result.notes) == 2
    assert "2025.json" in result.notes[0]
    assert "chinesecalendar 已包含2025年" in result.notes[0]
    assert "broken.json" in result.notes[1]
    assert "不是周六或周日" in result.notes[1]
    assert session.get_one(CalendarDay, date(2025, 1, 1)).name == "元旦"  # the package's, not the file's
    assert add_working_days(date(2099, 1, 1), 1, workdays.work_calendar(session)) == date(2099, 1, 4)


def test_seeding_skips_a_year_file_that_contradicts_another_year(session: Session, tmp_path: Path) -> None:
    (tmp_path / "2099.json").write_text(Y2099, encoding="utf-8")
    contradicts = year_file(2100, {"虚构元旦": ["2099-12-27", "2100-01-01"]}, [])  # 12-27 is worked in 2099
    (tmp_path / "2100.json").write_text(contradicts, encoding="utf-8")
    result = workdays.seed_calendar(session, folder=tmp_path)
    assert 2099 in result.years
    assert 2100 not in result.years
    [note] = result.notes
    assert note.startswith("忽略2100年的工作日历文件：2100年节假日安排与2099年的数据矛盾：")
    assert note.endswith("2099-12-27 在2099年的数据中是调休上班日")
    assert session.get(CalendarYear, 2100) is None


# --- the calendar and its cache --------------------------------------------------------------


def test_an_empty_database_is_seeded_by_the_first_deadline(session: Session) -> None:
    assert count(session, CalendarYear) == 0
    assert workdays.add_days(session, date(2026, 1, 30), 10) == date(2026, 2, 13)  # REGULATIONS §3
    assert workdays.add_days(session, date(2025, 9, 28), 10) == date(2025, 10, 17)
    assert count(session, CalendarYear) == len(PACKAGE)


def test_the_calendar_is_built_once_and_rebuilt_when_a_year_changes(session: Session) -> None:
    first = workdays.work_calendar(session)
    assert workdays.work_calendar(session) is first
    workdays.load_year_file(session, Y2099, actor=SYSTEM)
    loaded = workdays.work_calendar(session)
    assert loaded is not first
    assert 2099 in loaded.years
    # another process replacing a year changes its loaded_at: this process notices without being told
    session.execute(update(CalendarYear).where(CalendarYear.year == 2099).values(loaded_at=datetime.now(UTC)))
    session.commit()
    assert workdays.work_calendar(session) is not loaded


def test_an_uncovered_year_is_an_error_naming_it(session: Session) -> None:
    with pytest.raises(CalendarYearMissing, match="工作日历缺少2099年的数据"):
        workdays.add_days(session, date(2099, 1, 5), 1)
    with pytest.raises(CalendarYearMissing, match="2099年"):
        workdays.year_view(session, 2099)


# --- year files --------------------------------------------------------------------------------


def test_a_year_file_is_loaded_and_audited(session: Session) -> None:
    loaded = workdays.load_year_file(session, Y2099, actor=SYSTEM)
    assert (loaded.year, loaded.rest_days, loaded.make_up_days, loaded.replaced) == (2099, 3, 2, False)
    view = workdays.year_view(session, 2099)
    assert [(r.day, r.name) for r in view.rest_days][:2] == [
        (date(2099, 1, 1), "虚构元旦"),
        (date(2099, 1, 2), "虚构元旦"),
    ]
    assert view.make_up_days == [date(2099, 1, 4), date(2099, 12, 27)]
    [event] = audits(session, "calendar.load")
    assert event.object_id == "2099"
    assert event.summary["before"] is None
    assert event.summary["after"]["rest_days"] == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("{", "不是有效的 JSON", id="not-json"),
        pytest.param(
            (DATA / "fictional-2027-misspelt-key.json").read_text("utf-8"),
            "make_up_workday",
            id="misspelt-key",
        ),
        pytest.param(
            (DATA / "fictional-2027-weekday-make-up.json").read_text("utf-8"),
            "不是周六或周日",
            id="weekday-make-up",
        ),
        pytest.param(
            year_file(2099, {"虚构元旦": ["2099-01-01"]}, [], source="长" * 301),
            "来源不能超过",
            id="long-source",
        ),
    ],
)
def test_a_bad_year_file_is_refused_and_writes_nothing(session: Session, text: str, message: str) -> None:
    workdays.work_calendar(session)
    years, days = count(session, CalendarYear), count(session, CalendarDay)
    with pytest.raises(InvalidInput, match=message):
        workdays.load_year_file(session, text, actor=SYSTEM)
    session.rollback()
    assert (count(session, CalendarYear), count(session, CalendarDay)) == (years, days)
    assert audits(session, "calendar.load") == []


def test_a_loaded_year_is_replaced_only_when_asked(session: Session) -> None:
    workdays.load_year_file(session, Y2099, actor=SYSTEM)
    fewer = year_file(2099, {"虚构元旦": ["2099-01-01"]}, [], source="虚构更正（FICTIONAL）")
    with pytest.raises(Conflict, match=r"已有2099年的数据.*--replace"):
        workdays.load_year_file(session, fewer, actor=SYSTEM)
    replaced = workdays.load_year_file(session, fewer, actor=SYSTEM, replace=True)
    assert replaced.replaced
    view = workdays.year_view(session, 2099)
    assert (view.source, [r.day for r in view.rest_days], view.make_up_days) == (
        "虚构更正（FICTIONAL）",
        [date(2099, 1, 1)],
        [],
    )
    event = audits(session, "calendar.load")[-1]
    assert event.summary["before"] == {
        "source": "虚构测试数据（FICTIONAL）",
        "rest_days": 3,
        "make_up_days": 2,
    }


def test_a_notice_arranging_last_december_agrees_with_that_year_or_is_refused(session: Session) -> None:
    workdays.load_year_file(session, Y2099, actor=SYSTEM)
    contradicts = year_file(2100, {"虚构元旦": ["2099-12-27", "2100-01-01"]}, [])  # 12-27 is worked in 2099
    with pytest.raises(InvalidInput, match="2099-12-27 在2099年的数据中是调休上班日"):
        workdays.load_year_file(session, contradicts, actor=SYSTEM)
    session.rollback()
    assert session.get(CalendarYear, 2100) is None
    agrees = year_file(2100, {"虚构元旦": ["2099-12-31", "2100-01-01"]}, [])  # 12-31 is off in 2099 too
    workdays.load_year_file(session, agrees, actor=SYSTEM)
    assert add_working_days(date(2099, 12, 30), 1, workdays.work_calendar(session)) == date(2100, 1, 4)


# --- HTTP ------------------------------------------------------------------------------------


def test_api_adds_working_days(client: TestClient) -> None:
    answer = client.get("/api/v1/workdays/add", params={"date": "2026-01-30", "days": 10})
    assert answer.status_code == 200
    assert answer.json() == {"date": "2026-02-13"}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"date": "2099-01-05", "days": 1}, "工作日历缺少2099年的数据"),
        ({"date": "2026-02-30", "days": 1}, "请求参数不正确：query.date"),
        ({"date": "2026-01-30", "days": -1}, "请求参数不正确：query.days"),
    ],
)
def test_api_add_answers_422_with_the_message(
    client: TestClient, params: dict[str, object], message: str
) -> None:
    answer = client.get("/api/v1/workdays/add", params=params)
    assert answer.status_code == 422
    assert message in answer.json()["error"]["message"]


def test_api_lists_a_years_rest_and_make_up_days(client: TestClient) -> None:
    answer = client.get("/api/v1/workdays", params={"year": 2026})
    assert answer.status_code == 200
    body = answer.json()
    assert body["year"] == 2026
    assert "chinesecalendar" in body["source"]
    assert {"date": "2026-02-17", "name": "春节"} in body["rest_days"]
    assert {"date": "2026-02-14"} in body["make_up_days"]
    assert all(d["date"].startswith("2026-") for d in body["rest_days"] + body["make_up_days"])
    missing = client.get("/api/v1/workdays", params={"year": 2099})
    assert missing.status_code == 422
    assert missing.json()["error"] == {
        "code": "calendar_year_missing",
        "message": "工作日历缺少2099年的数据：请先导入国务院2099年节假日安排",
    }


# --- the command line ------------------------------------------------------------------------


def guidecat(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def cli_url(backend: str, tmp_path: Path) -> Iterator[str]:
    url = create_database(backend, f"guidecat_test_workdays_{os.getpid()}", tmp_path)
    upgrade(url)
    yield url
    drop_database(backend, url)


def test_cli_workdays_add_prints_the_date_or_exits_2(cli_url: str) -> None:
    done = guidecat("workdays", "add", "2026-01-30", "10", url=cli_url)
    assert (done.returncode, done.stdout, done.stderr) == (0, "2026-02-13\n", "")
    missing = guidecat("workdays", "add", "2099-01-05", "1", url=cli_url)
    assert (missing.returncode, missing.stdout) == (2, "")
    assert missing.stderr == "错误：工作日历缺少2099年的数据：请先导入国务院2099年节假日安排\n"
    usage = guidecat("workdays", "add", "2026-1-30", "10", url=cli_url)
    assert usage.returncode == 2
    assert "不是 YYYY-MM-DD 格式的有效日期" in usage.stderr


def test_cli_calendar_load_refuses_a_duplicate_unless_replacing(cli_url: str, tmp_path: Path) -> None:
    path = tmp_path / "2099.json"
    path.write_text(Y2099, encoding="utf-8")
    loaded = guidecat("calendar", "load", str(path), url=cli_url)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.startswith("已载入2099年工作日历：放假 3 天，调休上班 2 天")
    assert guidecat("workdays", "add", "2099-01-01", "1", url=cli_url).stdout == "2099-01-04\n"
    again = guidecat("calendar", "load", str(path), url=cli_url)
    assert again.returncode == 1
    assert "--replace" in again.stderr
    assert "Traceback" not in again.stderr
    replaced = guidecat("calendar", "load", str(path), "--replace", url=cli_url)
    assert replaced.returncode == 0, replaced.stderr
    assert replaced.stdout.startswith("已替换2099年工作日历")
    bad = guidecat("calendar", "load", str(DATA / "fictional-2027-weekday-make-up.json"), url=cli_url)
    assert bad.returncode == 1
    assert "不是周六或周日" in bad.stderr
