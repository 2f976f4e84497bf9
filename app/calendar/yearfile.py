"""Year files: one State Council holiday notice as JSON (format in catalogs/calendar/README.md).

Shape is checked here, field by field, with messages an administrator can act on; the
notice's invariants (dates in the year, make-up days on weekends, no day both rest and
work, no repeats) are checked by `year_problems`, the same check every source passes. A file
is validated whole: every problem is listed, not only the first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Any, TypeVar

from app.calendar.days import RestDay, YearData, problems_error, year_problems
from app.errors import InvalidInput

KEYS = frozenset({"year", "source", "holidays", "make_up_workdays"})
HOLIDAY_KEYS = frozenset({"name", "days"})
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
WHAT = "工作日历年度文件"
T = TypeVar("T")


def parse_year_file(text: str) -> YearData:
    """Return the notice held in the JSON `text` of a year file; raise InvalidInput listing (in
    `details`) everything that is wrong, the first in the message."""
    found: list[str] = []
    data = _parse(text.removeprefix("\ufeff"), found)
    if data is not None and not found:
        found.extend(year_problems(data))
    if found:
        raise problems_error(found)
    assert data is not None
    return data


class _Bad(Exception):
    """A value that cannot be read at all; its problem is already listed."""


def _parse(text: str, found: list[str]) -> YearData | None:
    try:
        doc = json.loads(text, object_pairs_hook=_refuse_repeated_keys)
    except json.JSONDecodeError as exc:
        found.append(f"{WHAT}：不是有效的 JSON，第{exc.lineno}行第{exc.colno}列，{exc.msg}")
        return None
    except _Repeated as exc:
        found.append(f"{WHAT}：字段重复出现 {'、'.join(exc.keys)}")
        return None
    try:
        fields = _object(doc, KEYS, WHAT, found)
    except _Bad:
        return None
    year = _read(found, lambda: _year(fields.get("year")))
    where = f"{WHAT}（{year}年）" if year is not None else WHAT
    rest = _read(found, lambda: _holidays(fields.get("holidays"), where, found))
    make_up = _read(
        found, lambda: _days(fields.get("make_up_workdays"), f"{where} make_up_workdays", found, empty=True)
    )
    source = _read(found, lambda: _text(fields.get("source"), f"{where} source"))
    if year is None or rest is None or make_up is None or source is None:
        return None
    return YearData(year=year, rest_days=rest, make_up_days=tuple(make_up), source=source)


def _read(found: list[str], read: Callable[[], T]) -> T | None:
    """Return what `read` returns; None, with its problem listed, when it refuses."""
    try:
        return read()
    except InvalidInput as exc:
        found.append(exc.message)
    except _Bad:
        pass
    return None


class _Repeated(ValueError):
    def __init__(self, keys: list[str]) -> None:
        super().__init__(keys)
        self.keys = keys


def _refuse_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise _Repeated(repeated)
    return dict(pairs)


def _object(value: Any, keys: frozenset[str], where: str, found: list[str]) -> dict[str, Any]:
    """Return `value` as a dict; list what is missing or unknown (a missing field is read as absent)."""
    if not isinstance(value, dict):
        found.append(f"{where}：应为 JSON 对象（含 {'、'.join(sorted(keys))}）")
        raise _Bad
    missing, unknown = sorted(keys - value.keys()), sorted(value.keys() - keys)
    if missing:
        found.append(f"{where}：缺少字段 {'、'.join(missing)}")
    if unknown:
        found.append(f"{where}：含有未知字段 {'、'.join(unknown)}")
    return value


def _year(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1000 <= value <= 9999:
        raise InvalidInput(f"{WHAT}：year 应为四位整数年份，而不是 {json.dumps(value, ensure_ascii=False)}")
    return value


def _text(value: Any, where: str) -> str:
    if value is None:
        raise _Bad  # missing: listed with the object's fields
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{where}：应为非空字符串")
    return value.strip()


def _list(value: Any, where: str, *, empty: bool = False) -> list[Any]:
    if value is None:
        raise _Bad
    if not isinstance(value, list) or (not value and not empty):
        raise InvalidInput(f"{where}：应为{'' if empty else '非空'}数组")
    return value


def _holidays(value: Any, where: str, found: list[str]) -> tuple[RestDay, ...]:
    """Return the rest days of every holiday in `value`, each tagged with its holiday's name."""
    rest: list[RestDay] = []
    broken = False
    for i, item in enumerate(_list(value, f"{where} holidays")):
        label = f"{where} holidays[{i}]"
        try:
            holiday = _object(item, HOLIDAY_KEYS, label, found)
        except _Bad:
            broken = True
            continue
        name = _read(found, partial(_text, holiday.get("name"), f"{label}.name"))
        days = _read(found, partial(_days, holiday.get("days"), f"{label}.days", found))
        if name is None or days is None:
            broken = True
            continue
        rest.extend(RestDay(day, name) for day in days)
    if broken:
        raise _Bad
    return tuple(rest)


def _days(value: Any, where: str, found: list[str], *, empty: bool = False) -> list[date]:
    days = [
        _read(found, partial(_day, item, f"{where}[{i}]"))
        for i, item in enumerate(_list(value, where, empty=empty))
    ]
    if any(d is None for d in days):
        raise _Bad
    return [d for d in days if d is not None]


def _day(value: Any, where: str) -> date:
    """Return the date written "YYYY-MM-DD" in `value`; raise InvalidInput for any other spelling."""
    shown = json.dumps(value, ensure_ascii=False)
    if not isinstance(value, str) or not ISO_DAY.fullmatch(value):
        raise InvalidInput(f"{where}：应为 YYYY-MM-DD 格式的日期，而不是 {shown}")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"{where}：{shown} 不是有效日期") from exc
