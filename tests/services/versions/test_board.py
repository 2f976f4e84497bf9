"""The publication board: each version's standing against its deadline, per role, as JSON and XLSX."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, datetime

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.calendar.days import WorkCalendar
from app.clock import BEIJING
from app.db.models import Department
from app.http import deps as api_publication
from app.services.calendar.seed import chinese_calendar_years
from app.services.people import accounts as people
from app.services.versions import lifecycle as versions
from app.services.versions.board import BoardSort, BoardState, Standing, board, standing
from tests.factories import ELDERLY, SYSTEM, Built, Item, issuer, published_catalog

CAL = WorkCalendar.from_years(chinese_calendar_years())
# Only through 2026, so "2027 is missing" stays true when the package learns 2027.
TO_2026 = WorkCalendar.from_years(y for y in chinese_calendar_years() if y.year <= 2026)
FEB_13 = date(2026, 2, 13)  # a Friday; Sat 02-14 is a make-up working day, 02-15…23 the Spring Festival


def d(text: str) -> date:
    return date.fromisoformat(text)


@pytest.mark.parametrize(
    ("deadline", "published", "today", "expected"),
    [
        # 02-03…06 (4), 02-09…13 (9)
        pytest.param(FEB_13, None, d("2026-02-02"), Standing(BoardState.ON_TIME, days_left=9), id="on-time"),
        pytest.param(
            FEB_13, None, d("2026-02-09"), Standing(BoardState.ON_TIME, days_left=4), id="four-left"
        ),
        pytest.param(
            FEB_13, None, d("2026-02-10"), Standing(BoardState.DUE_SOON, days_left=3), id="three-left"
        ),
        pytest.param(FEB_13, None, FEB_13, Standing(BoardState.DUE_SOON, days_left=0), id="deadline-today"),
        # the make-up Saturday after the deadline is a working day: one day late
        pytest.param(
            FEB_13, None, d("2026-02-14"), Standing(BoardState.OVERDUE, days_left=-1), id="make-up-day"
        ),
        # a holiday just after is late too, though no further working day has passed
        pytest.param(FEB_13, None, d("2026-02-15"), Standing(BoardState.OVERDUE, days_left=-1), id="holiday"),
        pytest.param(
            FEB_13, None, d("2026-02-25"), Standing(BoardState.OVERDUE, days_left=-3), id="after-festival"
        ),
        pytest.param(
            FEB_13,
            FEB_13,
            d("2026-03-02"),
            Standing(BoardState.PUBLISHED_ON_TIME),
            id="published-on-deadline",
        ),
        # published on 02-24: 02-14 and 02-24 are the two working days past the deadline
        pytest.param(
            FEB_13,
            d("2026-02-24"),
            d("2026-03-02"),
            Standing(BoardState.PUBLISHED_LATE, late_days=2),
            id="late",
        ),
        # deadline Fri 03-06, published Sat 03-07: late, by less than a working day
        pytest.param(
            d("2026-03-06"),
            d("2026-03-07"),
            d("2026-03-09"),
            Standing(BoardState.PUBLISHED_LATE, late_days=0),
            id="late-on-a-weekend",
        ),
        pytest.param(None, None, d("2026-03-09"), Standing(BoardState.UNKNOWN), id="no-deadline"),
    ],
)
def test_standing(deadline: date | None, published: date | None, today: date, expected: Standing) -> None:
    assert standing(deadline, published, today, CAL) == expected


def test_standing_where_today_is_beyond_the_calendar_is_still_overdue() -> None:
    assert standing(d("2026-12-31"), None, d("2027-01-05"), TO_2026) == Standing(BoardState.OVERDUE)


# --- from the database -----------------------------------------------------------------------

NO_JUSTICE = [it for it in ELDERLY if it.department != "103"]  # 司法局 has no item in version 1…
LATER = [
    Item("i6", "E01", "行政复议案件法律咨询服务", "103", "为行政复议案件提供法律咨询。")
]  # …but one in 2


@pytest.fixture
def built(session: Session) -> Built:
    """Version 1 published in 2024 (before deadlines were recorded), version 2 issued 2026-01-30."""
    built = published_catalog(session, NO_JUSTICE, later=LATER, status="assembling")
    versions.issue(
        session,
        "ceshi",
        2,
        doc_number="测财购〔2026〕3号",
        on=d("2026-01-30"),
        today=d("2026-01-30"),
        actor=issuer(session),
    )
    return built


def dept_id(session: Session, code: str) -> int:
    return session.scalars(select(Department.id).where(Department.code == code)).one()


def test_board_rows_and_their_states(session: Session, built: Built) -> None:
    j = built.catalog.jurisdiction_id
    rows = board(session, jurisdiction_id=j, department_id=None, today=d("2026-02-16"))
    assert [(r.seq, r.standing.state, r.deadline) for r in rows] == [
        (2, BoardState.OVERDUE, FEB_13),
        # issued 2024-03-15 without a recorded deadline: computed by the same rule, published 03-20
        (1, BoardState.PUBLISHED_ON_TIME, d("2024-03-29")),
    ]
    assert (rows[0].doc_number, rows[0].issued_on, rows[0].state_label) == (
        "测财购〔2026〕3号",
        d("2026-01-30"),
        "已逾期",
    )
    by_deadline = board(
        session, jurisdiction_id=j, department_id=None, today=d("2026-02-16"), sort=BoardSort.DEADLINE
    )
    assert [r.seq for r in by_deadline] == [1, 2]
    assert board(session, jurisdiction_id=j + 1, department_id=None, today=d("2026-02-16")) == []


@pytest.mark.usefixtures("built")
def test_a_late_publication_is_counted_in_working_days(session: Session) -> None:
    at = datetime.fromisoformat("2026-02-24T10:00:00").replace(tzinfo=BEIJING)
    versions.publish(session, "ceshi", 2, at=at, actor=SYSTEM)
    [row] = [
        r
        for r in board(session, jurisdiction_id=None, department_id=None, today=d("2026-03-02"))
        if r.seq == 2
    ]
    assert (row.standing.state, row.standing.late_days, row.state_label) == (
        BoardState.PUBLISHED_LATE,
        2,
        "逾期公开（2个工作日）",
    )
    assert row.published_on == d("2026-02-24")


def test_a_department_sees_the_versions_that_hold_its_items(session: Session, built: Built) -> None:
    j = built.catalog.jurisdiction_id

    def seqs(code: str) -> list[int]:
        rows = board(session, jurisdiction_id=j, department_id=dept_id(session, code), today=d("2026-02-02"))
        return [r.seq for r in rows]

    assert seqs("101") == [2, 1]
    assert seqs("103") == [2]


# --- over HTTP -------------------------------------------------------------------------------


@pytest.fixture
def tokens(session: Session, built: Built) -> dict[str, dict[str, str]]:
    j = built.catalog.jurisdiction_id
    for name, role, dept in [("reviewer", "finance_reviewer", None), ("minzheng", "dept_editor", "101")]:
        department = None if dept is None else dept_id(session, dept)
        people.add_user(
            session,
            username=name,
            password="correct-horse-1",
            role=role,
            jurisdiction_id=j,
            department_id=department,
        )
    session.commit()
    return {
        name: {"Authorization": f"Bearer {people.create_token(session, name, actor=SYSTEM)}"}
        for name in ("reviewer", "minzheng")
    }


@pytest.fixture
def on_feb_16(client: TestClient) -> Iterator[TestClient]:
    client.app.dependency_overrides[api_publication.today] = lambda: d("2026-02-16")  # type: ignore[attr-defined]
    yield client
    client.app.dependency_overrides.clear()  # type: ignore[attr-defined]


def test_api_board_for_finance(on_feb_16: TestClient, tokens: dict[str, dict[str, str]]) -> None:
    answer = on_feb_16.get("/api/v1/publication/board", headers=tokens["reviewer"])
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert (body["today"], body["overdue"], body["due_soon"]) == ("2026-02-16", 1, 0)
    assert body["counts"]["published_on_time"] == 1
    first = body["rows"][0]
    assert (first["seq"], first["state"], first["state_label"]) == (2, "overdue", "已逾期")
    assert (first["publication_deadline"], first["working_days_left"]) == ("2026-02-13", -1)
    by_deadline = on_feb_16.get("/api/v1/publication/board?sort=deadline", headers=tokens["reviewer"]).json()
    assert [r["seq"] for r in by_deadline["rows"]] == [1, 2]
    assert (
        on_feb_16.get("/api/v1/publication/board?sort=nonsense", headers=tokens["reviewer"]).status_code
        == 422
    )
    assert on_feb_16.get("/api/v1/publication/board", headers=tokens["minzheng"]).status_code == 403
    assert on_feb_16.get("/api/v1/publication/board").status_code == 401


def test_api_board_as_xlsx(on_feb_16: TestClient, tokens: dict[str, dict[str, str]]) -> None:
    answer = on_feb_16.get("/api/v1/publication/board?format=xlsx", headers=tokens["reviewer"])
    assert answer.status_code == 200
    assert "publication-board-2026-02-16.xlsx" in answer.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(answer.content)).active
    assert sheet is not None
    assert sheet["A1"].value == "指导性目录公开期限一览（截至 2026-02-16）"
    assert [c.value for c in sheet[2]] == [
        "目录",
        "版本",
        "文号",
        "印发日期",
        "公开期限",
        "剩余工作日",
        "安排公开日期",
        "公开日期",
        "状态",
    ]
    overdue, published = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    assert overdue[1:6] == [
        "第2版（2025年版）",
        "测财购〔2026〕3号",
        datetime(2026, 1, 30),
        datetime(2026, 2, 13),
        -1,
    ]
    assert overdue[8] == "已逾期"
    assert published[7] == datetime(2024, 3, 20)
    assert sheet["A3"].fill.start_color.rgb.endswith("FFC7CE")  # the overdue row stands out
    assert not sheet["A4"].fill.start_color.rgb.endswith("FFC7CE")
