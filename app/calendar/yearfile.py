"""Year files: one State Council holiday notice as JSON (format in catalogs/calendar/README.md).

Shape is checked here, field by field, with messages an administrator can act on; the
notice's invariants (dates in the year, make-up days on weekends, no day both rest and
work, no repeats) are checked by `validate_year`, the same check every source passes.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from app.calendar.days import RestDay, YearData, validate_year
from app.errors import InvalidInput

KEYS = frozenset({"year", "source", "holidays", "make_up_workdays"})
HOLIDAY_KEYS = frozenset({"name", "days"})
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
WHAT = "工作日历年度文件"


def parse_year_file(text: str) -> YearData:
    """Return the notice held in the JSON `text` of a year file; raise InvalidInput saying what is wrong."""
    doc = _load_json(text.removeprefix("\ufeff"))
    fields = _object(doc, KEYS, WHAT)
    year = _year(fields["year"])
    where = f"{WHAT}（{year}年）"
    data = YearData(
        year=year,
        rest_days=_holidays(fields["holidays"], where),
        make_up_days=tuple(_days(fields["make_up_workdays"], f"{where} make_up_workdays", empty=True)),
        source=_text(fields["source"], f"{where} source"),
    )
    return validate_year(data)


def _load_json(text: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_refuse_repeated_keys)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{WHAT}：不是有效的 JSON，第{exc.lineno}行第{exc.colno}列，{exc.msg}") from exc


def _refuse_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise InvalidInput(f"{WHAT}：字段重复出现 {'、'.join(repeated)}")
    return dict(pairs)


def _object(value: Any, keys: frozenset[str], where: str) -> dict[str, Any]:
    """Return `value` as a dict with exactly `keys`; raise InvalidInput naming what is missing or unknown."""
    if not isinstance(value, dict):
        raise InvalidInput(f"{where}：应为 JSON 对象（含 {'、'.join(sorted(keys))}）")
    missing, unknown = sorted(keys - value.keys()), sorted(value.keys() - keys)
    if missing:
        raise InvalidInput(f"{where}：缺少字段 {'、'.join(missing)}")
    if unknown:
        raise InvalidInput(f"{where}：含有未知字段 {'、'.join(unknown)}")
    return value


def _year(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1000 <= value <= 9999:
        raise InvalidInput(f"{WHAT}：year 应为四位整数年份，而不是 {json.dumps(value, ensure_ascii=False)}")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{where}：应为非空字符串")
    return value.strip()


def _list(value: Any, where: str, *, empty: bool = False) -> list[Any]:
    if not isinstance(value, list) or (not value and not empty):
        raise InvalidInput(f"{where}：应为{'' if empty else '非空'}数组")
    return value


def _holidays(value: Any, where: str) -> tuple[RestDay, ...]:
    """Return the rest days of every holiday in `value`, each tagged with its holiday's name."""
    rest: list[RestDay] = []
    for i, item in enumerate(_list(value, f"{where} holidays")):
        label = f"{where} holidays[{i}]"
        holiday = _object(item, HOLIDAY_KEYS, label)
        name = _text(holiday["name"], f"{label}.name")
        rest.extend(RestDay(day, name) for day in _days(holiday["days"], f"{label}.days"))
    return tuple(rest)


def _days(value: Any, where: str, *, empty: bool = False) -> list[date]:
    return [_day(item, f"{where}[{i}]") for i, item in enumerate(_list(value, where, empty=empty))]


def _day(value: Any, where: str) -> date:
    """Return the date written "YYYY-MM-DD" in `value`; raise InvalidInput for any other spelling."""
    shown = json.dumps(value, ensure_ascii=False)
    if not isinstance(value, str) or not ISO_DAY.fullmatch(value):
        raise InvalidInput(f"{where}：应为 YYYY-MM-DD 格式的日期，而不是 {shown}")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"{where}：{shown} 不是有效日期") from exc
