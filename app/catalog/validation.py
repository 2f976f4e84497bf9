"""Validating a whole spreadsheet before anything is written: every problem, located as Excel shows it.

Rows are read top to bottom the way a clerk reads them: a blank 一级/二级/三级 cell (Excel
merged it) inherits the value above; a row with only 一级/二级 filled is a heading row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from app.catalog.codes import fits_parent
from app.catalog.columns import ColumnMap, Field
from app.catalog.nodes import CODE_MAX, DESCRIPTION_MAX, NAME_MAX, Level
from app.catalog.sheet import Problem, RawRow, RawTable, column_letter
from app.catalog.text import name_key, normalise

NOTE_MAX = 500
LIMITS = {
    Field.ITEM: NAME_MAX,
    Field.SUBITEM: NAME_MAX,
    Field.DESCRIPTION: DESCRIPTION_MAX,
    Field.NOTE: NOTE_MAX,
    Field.CODE: CODE_MAX,
    Field.CLASS: NAME_MAX,
    Field.TYPE: NAME_MAX,
}


@dataclass(frozen=True, slots=True)
class ClassRef:
    uid: str
    code: str
    names: tuple[str, ...]  # the name first, then known variants (基本公共服务事项 …)


@dataclass(frozen=True, slots=True)
class TypeRef:
    uid: str
    code: str
    name: str
    class_uid: str


@dataclass(frozen=True, slots=True)
class ImportContext:
    """What rows are checked against: the catalog's classes and types, its departments."""

    classes: tuple[ClassRef, ...]
    types: tuple[TypeRef, ...]
    departments: Mapping[str, str]  # code → name
    department: str | None = None  # every row belongs to this department (code) when set


@dataclass(frozen=True, slots=True)
class ParsedItem:
    """A valid 三级 or 四级 row, normalised."""

    row: int
    level: Level
    type: TypeRef
    name: str
    description: str
    department: str
    code: str | None = None
    note: str = ""
    uid: str | None = None
    parent_row: int | None = None  # for a 四级 row: the row of its 三级 item


@dataclass
class _Reader:
    table: RawTable
    columns: ColumnMap
    ctx: ImportContext
    problems: list[Problem] = field(default_factory=list)
    items: list[ParsedItem] = field(default_factory=list)
    _class_by_key: dict[str, ClassRef] = field(default_factory=dict)
    _types_by_key: dict[str, list[TypeRef]] = field(default_factory=dict)
    _dept_by_key: dict[str, str] = field(default_factory=dict)
    _seen_items: dict[tuple[str, str, str], int] = field(default_factory=dict)
    _item_by_name: dict[tuple[str, str], int] = field(
        default_factory=dict
    )  # nearest 三级 row above, any department
    _seen_subs: dict[tuple[int, str], int] = field(default_factory=dict)
    _seen_codes: dict[str, int] = field(default_factory=dict)
    _seen_uids: dict[str, int] = field(default_factory=dict)
    _item_codes: dict[int, str | None] = field(default_factory=dict)
    _norm: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for c in self.ctx.classes:
            for n in c.names:
                self._class_by_key.setdefault(name_key(n), c)
        for t in self.ctx.types:
            self._types_by_key.setdefault(name_key(t.name), []).append(t)
        for code, name in self.ctx.departments.items():
            self._dept_by_key.setdefault(name_key(name), code)
            self._dept_by_key.setdefault(name_key(code), code)

    def cell(self, row: RawRow, f: Field) -> str:
        """Return the normalised text of field `f` in `row` ('' when the file has no such column)."""
        i = self.columns.index.get(f)
        if i is None or i >= len(row.cells):
            return ""
        raw = row.cells[i]
        if f in (Field.CLASS, Field.TYPE, Field.DEPARTMENT):  # few distinct values: remember them
            found = self._norm.get(raw)
            if found is None:
                found = self._norm[raw] = normalise(raw)
            return found
        return normalise(raw)

    def report(self, row: RawRow, f: Field | None, reason: str, value: str = "") -> None:
        i = None if f is None else self.columns.index.get(f)
        header = None if i is None else self.table.headers[i]
        letter = None if i is None else column_letter(i)
        self.problems.append(
            Problem(reason, row=row.number, column=header, column_letter=letter, value=value)
        )


def validate(
    table: RawTable, columns: ColumnMap, ctx: ImportContext
) -> tuple[list[ParsedItem], list[Problem]]:
    """Return the file's valid items and every problem found (an import writes only when no error)."""
    reader = _Reader(table, columns, ctx)
    state = _Carry()
    for row in table.rows:
        _read_row(reader, state, row)
    return reader.items, reader.problems


@dataclass
class _Carry:
    """What a blank (merged) cell inherits from the rows above."""

    class_name: str = ""
    type_name: str = ""
    item_name: str = ""
    item_row: int | None = None


def _read_row(r: _Reader, carry: _Carry, row: RawRow) -> None:
    values = {f: r.cell(row, f) for f in r.columns.index}
    if any(not _length_ok(r, row, f, v) for f, v in values.items()):
        return
    if values.get(Field.FIFTH):
        r.report(row, Field.FIFTH, "最多只能有四级目录，无法导入第五级", values[Field.FIFTH])
        return
    class_name = values.get(Field.CLASS) or carry.class_name
    type_name = values.get(Field.TYPE) or (carry.type_name if not values.get(Field.CLASS) else "")
    item_name, sub_name = values.get(Field.ITEM, ""), values.get(Field.SUBITEM, "")
    carry.class_name, carry.type_name = class_name, type_name
    if not item_name and not sub_name:
        if values.get(Field.DESCRIPTION):
            r.report(row, Field.ITEM, "三级目录名称为空")
        return  # a heading row: only 一级/二级 (and perhaps their codes) filled
    typ = _resolve_type(r, row, class_name, type_name)
    dept = _resolve_department(r, row, values.get(Field.DEPARTMENT, ""))
    if typ is None or dept is None:
        return
    if sub_name:
        _read_subitem(r, carry, row, values, typ, dept, item_name or carry.item_name)
    else:
        carry.item_name = item_name
        carry.item_row = _read_item(r, row, values, typ, dept)


def _length_ok(r: _Reader, row: RawRow, f: Field, value: str) -> bool:
    limit = LIMITS.get(f)
    if limit is None or len(value) <= limit:
        return True
    r.report(row, f, f"“{f}”过长：{len(value):,} 个字符，最多 {limit:,} 个", value[:200])
    return False


def _resolve_type(r: _Reader, row: RawRow, class_name: str, type_name: str) -> TypeRef | None:
    cls = None
    if class_name:
        cls = r._class_by_key.get(name_key(class_name))
        if cls is None:
            known = "、".join(c.names[0] for c in r.ctx.classes)
            r.report(row, Field.CLASS, f"未知的一级目录“{class_name}”（应为：{known}）", class_name)
            return None
    if not type_name:
        r.report(row, Field.TYPE, "二级目录为空")
        return None
    candidates = [
        t for t in r._types_by_key.get(name_key(type_name), []) if cls is None or t.class_uid == cls.uid
    ]
    if len(candidates) == 1:
        return candidates[0]
    where = f"一级目录“{cls.names[0]}”下" if cls else "目录中"
    reason = (
        f"{where}没有二级目录“{type_name}”"
        if not candidates
        else f"二级目录“{type_name}”不唯一，请填写一级目录"
    )
    r.report(row, Field.TYPE, reason, type_name)
    return None


def _resolve_department(r: _Reader, row: RawRow, name: str) -> str | None:
    fixed = r.ctx.department
    if not name:
        if fixed is None:
            r.report(row, Field.DEPARTMENT, "购买主体为空")
        return fixed
    code = r._dept_by_key.get(name_key(name))
    if code is None:
        r.report(row, Field.DEPARTMENT, f"未知的部门“{name}”：请使用本地区部门的全称或编码", name)
        return None
    if fixed is not None and code != fixed:
        r.report(
            row, Field.DEPARTMENT, f"购买主体“{name}”与导入的部门“{r.ctx.departments[fixed]}”不一致", name
        )
        return None
    return code


def _check_unique(r: _Reader, row: RawRow, f: Field, seen: dict[str, int], key: str, label: str) -> bool:
    first = seen.setdefault(key, row.number)
    if first == row.number:
        return True
    r.report(row, f, f"{label}“{key}”与第{first}行重复", key)
    return False


def _read_item(r: _Reader, row: RawRow, v: Mapping[Field, str], typ: TypeRef, dept: str) -> int | None:
    name, code, uid = v.get(Field.ITEM, ""), v.get(Field.CODE) or None, v.get(Field.UID) or None
    key = (typ.uid, dept, name_key(name))
    first = r._seen_items.setdefault(key, row.number)
    if first != row.number:
        r.report(row, Field.ITEM, f"与第{first}行重复：同一二级目录、同一部门下已有“{name}”", name)
        return None
    r._item_by_name[(typ.uid, name_key(name))] = row.number
    ok = _codes_ok(
        r,
        row,
        code,
        uid,
        lambda c: fits_parent(c, typ.code, Level.ITEM),
        f"二级目录“{typ.name}”（{typ.code}）",
    )
    if ok:
        r._item_codes[row.number] = code
        r.items.append(_parsed(row, Level.ITEM, typ, name, v, dept, code, uid, None))
    return row.number


def _read_subitem(
    r: _Reader, carry: _Carry, row: RawRow, v: Mapping[Field, str], typ: TypeRef, dept: str, item_name: str
) -> None:
    # The parent is the nearest 三级 row above with that name under the type, whatever its
    # department: a 四级 item may be bought by another department than its 三级 item.
    parent_row = r._item_by_name.get((typ.uid, name_key(item_name))) if item_name else None
    if parent_row is None:
        r.report(row, Field.ITEM, f"找不到上级三级目录“{item_name}”：四级目录须列在其三级目录之后", item_name)
        return
    name, code, uid = v[Field.SUBITEM], v.get(Field.CODE) or None, v.get(Field.UID) or None
    first = r._seen_subs.setdefault((parent_row, name_key(name)), row.number)
    if first != row.number:
        r.report(row, Field.SUBITEM, f"与第{first}行重复：同一三级目录下已有“{name}”", name)
        return
    parent_code = r._item_codes.get(parent_row)
    fits: Callable[[str], bool] = lambda c: parent_code is None or fits_parent(c, parent_code, Level.SUBITEM)  # noqa: E731
    if _codes_ok(r, row, code, uid, fits, f"三级目录“{item_name}”（{parent_code}）"):
        r.items.append(_parsed(row, Level.SUBITEM, typ, name, v, dept, code, uid, parent_row))


def _codes_ok(
    r: _Reader, row: RawRow, code: str | None, uid: str | None, fits: Callable[[str], bool], parent: str
) -> bool:
    ok = True
    if code is not None:
        if not fits(code):
            r.report(row, Field.CODE, f"目录编码“{code}”与上级{parent}不一致", code)
            ok = False
        ok = _check_unique(r, row, Field.CODE, r._seen_codes, code, "目录编码") and ok
    if uid is not None:
        ok = _check_unique(r, row, Field.UID, r._seen_uids, uid, "uid") and ok
    return ok


def _parsed(
    row: RawRow,
    level: Level,
    typ: TypeRef,
    name: str,
    v: Mapping[Field, str],
    dept: str,
    code: str | None,
    uid: str | None,
    parent_row: int | None,
) -> ParsedItem:
    return ParsedItem(
        row=row.number,
        level=level,
        type=typ,
        name=name,
        description=v.get(Field.DESCRIPTION, ""),
        department=dept,
        code=code,
        note=v.get(Field.NOTE, ""),
        uid=uid,
        parent_row=parent_row,
    )
