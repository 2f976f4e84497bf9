"""The working-day calendar page over HTTP: the years held, a year's month grid, loading a year file
(previewed, then confirmed), who may do it, and the admin desk's warning from 1 November.

Years 2099 and 2100 are FICTIONAL; "2027 is missing" is made so explicitly (the package is cut
at 2026), so these tests mean the same whatever chinesecalendar version is installed.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.db.models import AuditEvent, CalendarYear
from app.http.deps import today
from app.services.calendar import workdays
from app.services.calendar.seed import chinese_calendar_years
from tests.databases import checksum
from tests.factories import SYSTEM
from tests.paths import DATA
from tests.services.calendar.test_loading import Y2099, Y2099_CORRECTED, year_file
from tests.workflow_world import PASSWORD, World, world

HX = {"HX-Request": "true"}
PAGE, LOAD = "/admin/calendar", "/admin/calendar/years"
WARNING_2027 = "2027年的节假日安排尚未载入工作日历"


@pytest.fixture
def w(session: Session) -> World:
    return world(session)


@pytest.fixture
def through_2026(monkeypatch: pytest.MonkeyPatch) -> None:
    """Have the calendar hold the package's years through 2026 only, whatever the package's version."""
    years = [y for y in chinese_calendar_years() if y.year <= 2026]
    monkeypatch.setattr(workdays, "chinese_calendar_years", lambda: years)
    monkeypatch.setattr(workdays, "package_years", lambda: frozenset(y.year for y in years))


def _on(client: TestClient, day: date) -> None:
    client.app.dependency_overrides[today] = lambda: day  # type: ignore[attr-defined]


@pytest.fixture
def admin(client: TestClient, w: World) -> TestClient:  # noqa: ARG001 (w: the world is built first)
    """The client signed in as the finance administrator, on Monday 2026-11-02."""
    _on(client, date(2026, 11, 2))
    _login(client, "admin")
    return client


def _login(client: TestClient, who: str) -> None:
    client.cookies.clear()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    signed_in = client.post(
        "/login",
        data={"username": who, "password": PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303


def _csrf(client: TestClient) -> str:
    found = re.search(r'"X-CSRF-Token": "([^"]+)"', client.get("/desk").text)
    assert found
    return found.group(1)


def _upload(client: TestClient, text: str | bytes, *, htmx: bool = True) -> Any:
    body = text.encode() if isinstance(text, str) else text
    return client.post(
        LOAD,
        data={"csrf_token": _csrf(client)},
        files={"file": ("year.json", body, "application/json")},
        headers=HX if htmx else {},
        follow_redirects=False,
    )


def _field(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no field {name}"
    return found.group(1)


def _confirm(client: TestClient, preview: Any, *, htmx: bool = True) -> Any:
    """Post the preview's confirmation form back as the browser would."""
    fields = {
        name: _field(preview.text, name) for name in ("csrf_token", "carried", "digest", "seen", "confirm")
    }
    return client.post(LOAD, data=fields, headers=HX if htmx else {}, follow_redirects=False)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _loads(session: Session) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.action == "calendar.load").order_by(AuditEvent.id)
    return list(session.scalars(stmt))


# --- the page ----------------------------------------------------------------------------------


def test_the_page_lists_the_years_and_shows_one_as_month_grids(admin: TestClient) -> None:
    desk = admin.get("/admin")
    assert '<a href="/admin/calendar">工作日历</a>' in desk.text
    page = admin.get(PAGE)
    assert page.status_code == 200
    assert '<a href="/admin/calendar" aria-current="page">工作日历</a>' in page.text
    row = re.search(r'<tr id="year-2026".*?</tr>', page.text, re.S)
    assert row
    assert "chinesecalendar" in row.group(0)
    assert "系统初始化" in row.group(0)
    text = _text(page.text)
    assert "2026年 ‹ 2025年" in text
    # a table per month, Monday first, with its caption; marks written out, not colour alone
    assert page.text.count('<table class="calendar-month">') == 12
    assert "<caption>2026年2月</caption>" in page.text
    assert '<abbr title="星期一">一</abbr>' in page.text
    spring = (
        '<span class="cal-num">17</span> <span class="cal-mark">休</span> <span class="cal-name">春节</span>'
    )
    assert f'<td class="cal-rest">{spring}</td>' in page.text
    assert (
        '<td class="cal-make_up"><span class="cal-num">14</span> <span class="cal-mark">班</span></td>'
        in page.text
    )
    other = admin.get(PAGE, params={"year": 2099})
    assert "工作日历没有2099年的数据" in other.text


# --- loading a year file ---------------------------------------------------------------------


def test_a_preview_writes_nothing_and_the_confirmation_loads_and_audits(
    admin: TestClient, session: Session, engine: Engine
) -> None:
    admin.get(PAGE)  # the calendar is seeded by the first page, so the checksum compares the preview alone
    before = checksum(engine)
    preview = _upload(admin, Y2099)
    assert preview.status_code == 200, preview.text
    assert checksum(engine) == before
    assert "<html" not in preview.text  # htmx gets the section only
    text = _text(preview.text)
    assert "确认载入2099年工作日历？" in text
    assert "放假 2 天，调休上班 1 天" in text
    assert "预览：2099年（尚未载入）" in text
    assert "<caption>2099年1月</caption>" in preview.text
    assert '<span class="cal-mark">休</span> <span class="cal-name">虚构元旦</span>' in preview.text
    assert '<button type="submit">确认载入</button>' in preview.text
    assert session.get(CalendarYear, 2099) is None

    loaded = _confirm(admin, preview)
    assert loaded.status_code == 200, loaded.text
    assert "✓ 已载入2099年工作日历：放假 2 天，调休上班 1 天" in loaded.text
    assert 'class="changed"' in re.search(r'<tr id="year-2099"[^>]*>', loaded.text).group(0)  # type: ignore[union-attr]
    assert "<caption>2099年1月</caption>" in loaded.text  # the year just loaded is shown
    session.expire_all()
    assert session.get(CalendarYear, 2099) is not None
    [event] = _loads(session)
    assert (event.actor_name, event.object_id) == ("admin", "2099")
    row = re.search(r'<tr id="year-2099".*?</tr>', admin.get(PAGE).text, re.S)
    assert row
    assert "admin，" in row.group(0)


def test_without_javascript_the_confirmation_redirects_to_the_year(admin: TestClient) -> None:
    preview = _upload(admin, Y2099, htmx=False)
    assert preview.status_code == 200
    assert preview.text.lstrip().startswith("<!doctype html>")
    assert "确认载入2099年工作日历？" in _text(preview.text)
    done = _confirm(admin, preview, htmx=False)
    assert (done.status_code, done.headers["location"]) == (
        303,
        "/admin/calendar?changed=year-2099#year-2099",
    )
    page = admin.get(done.headers["location"])
    assert "✓ 刚刚载入" in page.text
    assert "<caption>2099年1月</caption>" in page.text


def test_a_bad_file_lists_every_problem_and_writes_nothing(
    admin: TestClient, session: Session, engine: Engine
) -> None:
    workdays.load_year_file(
        session, year_file(2099, {"虚构元旦": ["2099-01-01"]}, ["2099-12-26", "2099-12-27"]), actor=SYSTEM
    )
    before = checksum(engine)
    # a name too long for its column, and two days the 2099 notice already arranged the other way
    bad = year_file(2100, {"虚构跨年": ["2099-12-26", "2099-12-27"], "长" * 33: ["2100-01-01"]}, [])
    refused = _upload(admin, bad)
    assert refused.status_code == 422
    text = _text(refused.text)
    assert "✗ 未载入任何数据，文件有 3 处问题：" in text
    assert "节日名称“" in text
    assert "2099-12-26 在2099年的数据中是调休上班日" in text
    assert "2099-12-27 在2099年的数据中是调休上班日" in text
    assert 'aria-invalid="true"' in refused.text
    assert "确认载入" not in refused.text
    assert checksum(engine) == before


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(b'{"year": 2099,\n "source": }', "不是有效的 JSON，第2行第12列", id="not-json"),
        pytest.param(
            (DATA / "calendar" / "fictional-2027-misspelt-key.json").read_bytes(),
            "make_up_workday",
            id="misspelt-key",
        ),
        pytest.param(
            (DATA / "calendar" / "fictional-2027-weekday-make-up.json").read_bytes(),
            "不是周六或周日",
            id="weekday-make-up",
        ),
        pytest.param(Y2099.encode("gb18030"), "须为 UTF-8 编码", id="not-utf8"),
        pytest.param(b"", "请选择要载入的年度文件", id="empty"),
        pytest.param(b"[" + b" " * 70_000 + b"]", "文件超过 64 KB", id="too-big"),
    ],
)
def test_a_file_that_cannot_be_read_says_why_and_where_in_chinese(
    admin: TestClient, engine: Engine, body: bytes, message: str
) -> None:
    admin.get(PAGE)
    before = checksum(engine)
    refused = _upload(admin, body)
    assert refused.status_code == 422
    assert "✗ 未载入任何数据" in refused.text  # "：", or "，文件有 N 处问题：" when there are several
    assert message in refused.text
    assert checksum(engine) == before


def test_replacing_a_year_says_so_and_shows_what_changes(admin: TestClient, session: Session) -> None:
    workdays.load_year_file(session, Y2099, actor=SYSTEM)
    preview = _upload(admin, Y2099_CORRECTED)
    assert preview.status_code == 200, preview.text
    text = _text(preview.text)
    assert "确认以此文件替换已载入的2099年工作日历？" in text
    loaded = "来源：虚构测试数据（FICTIONAL）；放假 2 天，调休上班 1 天"
    assert f"工作日历已有2099年的数据（{loaded}），确认后将被此文件替换" in text
    assert "与现有数据不同的日期（2 天）" in text
    assert "2099年01月05日（星期一） 工作日 休（虚构元旦）" in text
    done = _confirm(admin, preview)
    assert "✓ 已替换2099年工作日历：放假 3 天，调休上班 0 天" in done.text
    assert workdays.year_view(session, 2099).source == "虚构更正（FICTIONAL）"
    assert _loads(session)[-1].summary["before"]["source"] == "虚构测试数据（FICTIONAL）"


def test_a_preview_made_stale_by_another_load_is_a_409(admin: TestClient, session: Session) -> None:
    preview = _upload(admin, Y2099)
    workdays.load_year_file(session, Y2099_CORRECTED, actor=SYSTEM)  # someone else, meanwhile
    stale = _confirm(admin, preview)
    assert stale.status_code == 409
    assert "预览之后，2099年的工作日历已被他人载入或更改" in stale.text
    assert "重新载入整页" in stale.text
    session.expire_all()
    assert workdays.year_view(session, 2099).source == "虚构更正（FICTIONAL）"  # not silently overwritten
    assert [e.actor_name for e in _loads(session)] == ["test"]


def test_a_confirmation_that_lost_its_file_is_refused(admin: TestClient, session: Session) -> None:
    preview = _upload(admin, Y2099)
    fields = {name: _field(preview.text, name) for name in ("csrf_token", "digest", "seen", "confirm")}
    refused = admin.post(LOAD, data={**fields, "carried": "not base64!"}, headers=HX)
    assert refused.status_code == 422
    assert "确认时没有收到完整的年度文件" in refused.text
    assert session.get(CalendarYear, 2099) is None


# --- who may ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["minzheng", "reviewer"])
@pytest.mark.usefixtures("w")
def test_clerks_and_reviewers_are_refused(client: TestClient, session: Session, who: str) -> None:
    _login(client, who)
    assert client.get(PAGE).status_code == 403
    refused = _upload(client, Y2099)
    assert refused.status_code == 403
    assert session.get(CalendarYear, 2099) is None


@pytest.mark.usefixtures("w")
def test_the_sysadmin_may_look_but_not_load(client: TestClient, session: Session) -> None:
    _login(client, "sysadmin")
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "当前角色只能查看，载入节假日安排须由财政管理员操作" in page.text
    assert 'name="file"' not in page.text
    assert "<caption>" in page.text
    refused = _upload(client, Y2099)
    assert refused.status_code == 403
    assert "系统管理员不能载入工作日历，只有财政管理员可以" in refused.text
    assert session.get(CalendarYear, 2099) is None


@pytest.mark.usefixtures("w")
def test_anonymous_visitors_are_sent_to_sign_in(client: TestClient, session: Session) -> None:
    page = client.get(PAGE, follow_redirects=False)
    assert (page.status_code, page.headers["location"]) == (303, "/login?next=/admin/calendar")
    posted = client.post(
        LOAD, files={"file": ("y.json", Y2099.encode(), "application/json")}, follow_redirects=False
    )
    assert posted.status_code == 303
    assert posted.headers["location"].startswith("/login?next=")
    assert session.get(CalendarYear, 2099) is None


def test_a_form_without_its_csrf_token_is_refused(admin: TestClient, session: Session) -> None:
    posted = admin.post(LOAD, files={"file": ("y.json", Y2099.encode(), "application/json")}, headers=HX)
    assert posted.status_code == 403
    assert session.get(CalendarYear, 2099) is None
    page = admin.get(PAGE).text
    assert page.count('name="csrf_token"') >= 2  # the upload form and the sign-out form


# --- the warning from 1 November ---------------------------------------------------------------


@pytest.mark.usefixtures("through_2026")
@pytest.mark.parametrize(
    ("day", "shown"), [(date(2026, 10, 31), (False, False)), (date(2026, 11, 1), (True, True))]
)
def test_the_desk_warns_from_1_november_when_next_year_is_missing(
    admin: TestClient, session: Session, day: date, shown: tuple[bool, bool]
) -> None:
    assert session.get(CalendarYear, 2027) is None
    _on(admin, day)
    desk, page = admin.get("/admin"), admin.get(PAGE)
    assert (WARNING_2027 in desk.text, WARNING_2027 in page.text) == shown
    if all(shown):
        assert "公开期限跨入2027年的版本无法计算期限" in desk.text
        assert '<a href="/admin/calendar">去载入2027年工作日历</a>' in desk.text


@pytest.mark.usefixtures("through_2026")
def test_no_warning_once_next_year_is_loaded(admin: TestClient) -> None:
    _on(admin, date(2026, 11, 1))
    assert WARNING_2027 in admin.get("/admin").text
    preview = _upload(admin, (DATA / "calendar" / "fictional-2027.json").read_text("utf-8"))
    assert WARNING_2027 in preview.text  # previewed is not loaded
    loaded = _confirm(admin, preview)
    assert loaded.status_code == 200, loaded.text
    assert WARNING_2027 not in loaded.text
    assert WARNING_2027 not in admin.get("/admin").text
