"""Year files (catalogs/calendar/*.json): good ones load, bad ones are refused saying what is wrong.

All data here are fictional (tests/data/calendar/README.md): no 2027 notice had been published.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from typing import Any

import pytest

from app.calendar.days import RestDay
from app.calendar.yearfile import parse_year_file
from app.errors import InvalidInput
from tests.paths import DATA

DATA = DATA / "calendar"
GOOD_TEXT = (DATA / "fictional-2027.json").read_text(encoding="utf-8")
GOOD: dict[str, Any] = json.loads(GOOD_TEXT)
WHERE = "工作日历年度文件（2027年）"


def with_changes(**changes: Any) -> str:
    """Return the good fictional file as JSON text with top-level keys replaced (None removes one)."""
    doc = copy.deepcopy(GOOD)
    for key, value in changes.items():
        if value is None:
            del doc[key]
        else:
            doc[key] = value
    return json.dumps(doc, ensure_ascii=False)


def holiday(*days: str, name: str = "虚构元旦") -> dict[str, Any]:
    return {"name": name, "days": list(days)}


def test_the_fictional_2027_file_loads() -> None:
    data = parse_year_file(GOOD_TEXT)
    assert data.year == 2027
    assert "虚构" in data.source
    assert data.rest_days[0] == RestDay(date(2027, 1, 1), "虚构元旦")
    assert [r.day for r in data.rest_days if r.name == "虚构春节"] == [date(2027, 2, i) for i in range(8, 13)]
    assert data.make_up_days == (date(2026, 12, 26), date(2027, 2, 6))


def test_a_byte_order_mark_from_a_windows_editor_is_tolerated() -> None:
    assert parse_year_file("\ufeff" + GOOD_TEXT).year == 2027


def test_an_empty_make_up_list_is_allowed() -> None:
    assert parse_year_file(with_changes(make_up_workdays=[])).make_up_days == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("{", "不是有效的 JSON，第1行第2列", id="not-json"),
        pytest.param("[]", "应为 JSON 对象", id="not-an-object"),
        pytest.param(with_changes(make_up_workdays=None), "缺少字段 make_up_workdays", id="missing-key"),
        pytest.param(with_changes(note="备注"), "含有未知字段 note", id="unknown-key"),
        pytest.param(
            GOOD_TEXT.replace('"year": 2027,', '"year": 2027, "year": 2028,'),
            "字段重复出现 year",
            id="repeated-key",
        ),
        pytest.param(with_changes(year="2027"), 'year 应为四位整数年份，而不是 "2027"', id="year-string"),
        pytest.param(with_changes(year=True), "year 应为四位整数年份", id="year-bool"),
        pytest.param(with_changes(year=27), "year 应为四位整数年份，而不是 27", id="year-two-digits"),
        pytest.param(with_changes(source="  "), f"{WHERE} source：应为非空字符串", id="blank-source"),
        pytest.param(with_changes(source=12), "source：应为非空字符串", id="source-number"),
        pytest.param(with_changes(holidays=[]), "holidays：应为非空数组", id="no-holidays"),
        pytest.param(
            with_changes(holidays={"元旦": ["2027-01-01"]}), "holidays：应为非空数组", id="holidays-dict"
        ),
        pytest.param(
            with_changes(holidays=["2027-01-01"]), "holidays[0]：应为 JSON 对象", id="holiday-string"
        ),
        pytest.param(
            with_changes(holidays=[{"name": "虚构元旦"}]),
            "holidays[0]：缺少字段 days",
            id="holiday-without-days",
        ),
        pytest.param(
            with_changes(holidays=[{"name": 5, "days": ["2027-01-01"]}]),
            "holidays[0].name：应为非空字符串",
            id="holiday-name-number",
        ),
        pytest.param(
            with_changes(holidays=[holiday()]), "holidays[0].days：应为非空数组", id="holiday-no-days"
        ),
        pytest.param(
            with_changes(holidays=[holiday("2027-1-1")]),
            'holidays[0].days[0]：应为 YYYY-MM-DD 格式的日期，而不是 "2027-1-1"',
            id="short-date",
        ),
        # Python 3.11's fromisoformat would read these; a year file must not.
        pytest.param(
            with_changes(holidays=[holiday("20270101")]), "应为 YYYY-MM-DD 格式", id="basic-iso-date"
        ),
        pytest.param(with_changes(holidays=[holiday("2027-W01-1")]), "应为 YYYY-MM-DD 格式", id="week-date"),
        pytest.param(with_changes(holidays=[holiday(20270101)]), "而不是 20270101", id="date-number"),
        pytest.param(
            with_changes(holidays=[holiday("2027-01-01", "2027-02-30")]),
            'holidays[0].days[1]："2027-02-30" 不是有效日期',
            id="impossible-date",
        ),
        pytest.param(
            with_changes(make_up_workdays="2027-02-06"), "make_up_workdays：应为数组", id="make-up-string"
        ),
        pytest.param(
            with_changes(make_up_workdays=["2027/02/06"]),
            "make_up_workdays[0]：应为 YYYY-MM-DD",
            id="make-up-slashes",
        ),
    ],
)
def test_a_malformed_file_is_refused_naming_the_problem(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_year_file(text)
    assert message in caught.value.message


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param(
            {"holidays": [holiday("2028-01-01")]},
            "日期 2028-01-01 不在2027年（或上年12月）内",
            id="next-year",
        ),
        pytest.param(
            {"make_up_workdays": ["2026-11-28"]}, "日期 2026-11-28 不在2027年", id="november-before"
        ),
        pytest.param(
            {"make_up_workdays": ["2027-03-03"]},
            "调休上班日 2027-03-03 不是周六或周日",
            id="make-up-wednesday",
        ),
        pytest.param(
            {"make_up_workdays": ["2027-01-02"]},
            "2027-01-02 既是放假日又是调休上班日",
            id="holiday-and-make-up",
        ),
        pytest.param(
            {"holidays": [holiday("2027-01-01", "2027-01-01")]},
            "放假日中 2027-01-01 重复出现",
            id="day-twice-in-a-holiday",
        ),
        pytest.param(
            {"holidays": [holiday("2027-01-01"), holiday("2027-01-01", name="虚构春节")]},
            "放假日中 2027-01-01 重复出现",
            id="day-in-two-holidays",
        ),
        pytest.param(
            {"make_up_workdays": ["2027-02-06", "2027-02-06"]},
            "调休上班日中 2027-02-06 重复出现",
            id="make-up-twice",
        ),
    ],
)
def test_a_file_breaking_a_notice_rule_is_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_year_file(with_changes(**changes))
    assert caught.value.message.startswith("2027年节假日安排：")
    assert message in caught.value.message


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("fictional-2027-weekday-make-up.json", "调休上班日 2027-03-03 不是周六或周日"),
        ("fictional-2027-misspelt-key.json", "缺少字段 make_up_workdays"),
    ],
)
def test_the_bad_fixture_files_are_refused(name: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_year_file((DATA / name).read_text(encoding="utf-8"))


def test_a_year_file_is_validated_whole_every_problem_listed() -> None:
    text = json.dumps(
        {
            "year": 2027,
            "source": "",
            "holidays": [{"name": "春节", "days": ["2027-02-30", "2027-02-11"]}, {"name": "清明节"}],
            "make_up_workdays": ["2027-02-15"],
            "extra": 1,
        },
        ensure_ascii=False,
    )
    with pytest.raises(InvalidInput) as refused:
        parse_year_file(text)
    problems = refused.value.details
    assert isinstance(problems, list)
    assert len(problems) == 4, problems
    assert "含有未知字段 extra" in problems[0]
    assert any("source：应为非空字符串" in p for p in problems)
    assert any('holidays[0].days[0]："2027-02-30" 不是有效日期' in p for p in problems)
    assert any("holidays[1]：缺少字段 days" in p for p in problems)
    assert refused.value.message.startswith("发现 4 处问题")


def test_a_well_formed_year_file_lists_every_broken_invariant() -> None:
    text = json.dumps(
        {
            "year": 2027,
            "source": "国办发明电〔2026〕1号",
            "holidays": [{"name": "春节", "days": ["2027-02-11", "2027-02-11", "2028-01-01"]}],
            "make_up_workdays": ["2027-02-15", "2027-02-11"],
        },
        ensure_ascii=False,
    )
    with pytest.raises(InvalidInput) as refused:
        parse_year_file(text)
    problems = refused.value.details
    assert isinstance(problems, list)
    assert any("2028-01-01 不在2027年" in p for p in problems)
    assert any("放假日中 2027-02-11 重复出现" in p for p in problems)
    assert any("调休上班日 2027-02-15 不是周六或周日" in p for p in problems)
    assert any("2027-02-11 既是放假日又是调休上班日" in p for p in problems)
