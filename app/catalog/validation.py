"""Validating a whole spreadsheet before anything is written: every problem, located as Excel shows it.

Rows are read top to bottom the way a clerk reads them: a blank 一级/二级/三级 cell (Excel
merged it) inherits the value above; a row with only 一级/二级 filled is a heading row.

A province's file has 650,000 rows, so the work that does not depend on the row above is done
per column (normalising, lengths) or once per distinct value (classes, types, departments);
what is left per row is the carrying-down and the duplicate checks, which need the order.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from itertools import repeat

from app.catalog.codes import fits_parent
from app.catalog.columns import ColumnMap, Field
from app.catalog.nodes import CODE_MAX, DESCRIPTION_MAX, NAME_MAX, Level
from app.catalog.sheet import Problem, RawRow, RawTable, column_letter
from app.catalog.text import name_key, normalise_all

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
# the fields a row is read by, in the order of `_Cells`
_READ = (
    Field.CLASS,
    Field.TYPE,
    Field.ITEM,
    Field.SUBITEM,
    Field.FIFTH,
    Field.DESCRIPTION,
    Field.DEPARTMENT,
    Field.CODE,
    Field.UID,
    Field.NOTE,
)


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


# A reason to refuse a row, found once for a value: (field, reason, value shown).
_Refusal = tuple[Field, str, str]
# One row's normalised cells, in the order of _READ ('' where the file has no such column).
_Cells = tuple[str, str, str, str, str, str, str, str, str, str]


def validate(
    table: RawTable, columns: ColumnMap, ctx: ImportContext
) -> tuple[list[ParsedItem], list[Problem]]:
    """Return the file's valid items and every problem found (an import writes only when no error)."""
    found = {f: _column(table, i) for f, i in columns.index.items() if f in _READ}
    cells: Iterator[_Cells]
    if found:
        cells = zip(*(found.get(f, repeat("")) for f in _READ), strict=False)  # repeat("") never ends
    else:
        cells = repeat(("",) * len(_READ), len(table.rows))  # type: ignore[arg-type]
    reader = _Reader(table, columns, ctx)
    reader.read(cells, _too_long(found, columns))
    return reader.items, reader.problems


def _column(table: RawTable, index: int) -> list[str]:
    """Return the cells of column `index`, normalised ('' past the end of a short row)."""
    rows = table.rows
    try:
        return normalise_all([r.cells[index] for r in rows])
    except IndexError:  # a short row (readers pad them; a table built by hand may not)
        return normalise_all([r.cells[index] if index < len(r.cells) else "" for r in rows])


def _too_long(found: Mapping[Field, list[str]], columns: ColumnMap) -> dict[int, tuple[Field, str]]:
    """Return, by row index, the first cell (in column-map order) longer than its field allows."""
    first: dict[int, tuple[Field, str]] = {}
    for f in columns.index:
        limit = LIMITS.get(f)
        if limit is None or f not in found or max(map(len, found[f]), default=0) <= limit:
            continue
        for at, value in enumerate(found[f]):
            if len(value) > limit and at not in first:
                first[at] = (f, value)
    return first


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
    _types: dict[tuple[str, str], TypeRef | _Refusal] = field(default_factory=dict)
    _departments: dict[str, str | _Refusal | None] = field(default_factory=dict)
    _seen_items: dict[tuple[str, str, str], int] = field(default_factory=dict)
    _item_by_name: dict[tuple[str, str], int] = field(default_factory=dict)  # nearest 三级 row above
    _seen_subs: dict[tuple[int, str], int] = field(default_factory=dict)
    _seen_codes: dict[str, int] = field(default_factory=dict)
    _seen_uids: dict[str, int] = field(default_factory=dict)
    _item_codes: dict[int, str | None] = field(default_factory=dict)
    _keys: dict[str, str] = field(default_factory=dict)  # name → name_key(name): names repeat

    def __post_init__(self) -> None:
        for c in self.ctx.classes:
            for n in c.names:
                self._class_by_key.setdefault(name_key(n), c)
        for t in self.ctx.types:
            self._types_by_key.setdefault(name_key(t.name), []).append(t)
        for code, name in self.ctx.departments.items():
            self._dept_by_key.setdefault(name_key(name), code)
            self._dept_by_key.setdefault(name_key(code), code)

    def report(self, row: RawRow, f: Field | None, reason: str, value: str = "") -> None:
        i = None if f is None else self.columns.index.get(f)
        header = None if i is None else self.table.headers[i]
        letter = None if i is None else column_letter(i)
        self.problems.append(
            Problem(reason, row=row.number, column=header, column_letter=letter, value=value)
        )

    def read(self, cells: Iterator[_Cells], too_long: Mapping[int, tuple[Field, str]]) -> None:
        """Read every row in order, carrying merged 一级/二级/三级 cells down."""
        class_name = type_name = item_name = ""
        for at, (row, values) in enumerate(zip(self.table.rows, cells, strict=True)):
            if too_long and at in too_long:
                f, value = too_long[at]
                reason = f"“{f}”过长：{len(value):,} 个字符，最多 {LIMITS[f]:,} 个"
                self.report(row, f, reason, value[:200])
                continue
            cls, typ_name, item, sub, fifth, description, dept_name = values[:7]
            if fifth:
                self.report(row, Field.FIFTH, "最多只能有四级目录，无法导入第五级", fifth)
                continue
            type_name = typ_name or (type_name if not cls else "")
            class_name = cls or class_name
            if not item and not sub:
                if description:
                    self.report(row, Field.ITEM, "三级目录名称为空")
                continue  # a heading row: only 一级/二级 (and perhaps their codes) filled
            typ = self._type(row, class_name, type_name)
            dept = self._department(row, dept_name)
            if typ is None or dept is None:
                continue
            if sub:
                self._read_subitem(row, values, typ, dept, item or item_name)
            else:
                item_name = item
                self._read_item(row, values, typ, dept)

    def _type(self, row: RawRow, class_name: str, type_name: str) -> TypeRef | None:
        found = self._types.get((class_name, type_name))
        if found is None:
            found = self._types[class_name, type_name] = self._resolve_type(class_name, type_name)
        if isinstance(found, TypeRef):
            return found
        self.report(row, *found)
        return None

    def _resolve_type(self, class_name: str, type_name: str) -> TypeRef | _Refusal:
        cls = None
        if class_name:
            cls = self._class_by_key.get(name_key(class_name))
            if cls is None:
                known = "、".join(c.names[0] for c in self.ctx.classes)
                return Field.CLASS, f"未知的一级目录“{class_name}”（应为：{known}）", class_name
        if not type_name:
            return Field.TYPE, "二级目录为空", ""
        same_name = self._types_by_key.get(name_key(type_name), [])
        candidates = [t for t in same_name if cls is None or t.class_uid == cls.uid]
        if len(candidates) == 1:
            return candidates[0]
        where = f"一级目录“{cls.names[0]}”下" if cls else "目录中"
        reason = (
            f"{where}没有二级目录“{type_name}”"
            if not candidates
            else f"二级目录“{type_name}”不唯一，请填写一级目录"
        )
        return Field.TYPE, reason, type_name

    def _department(self, row: RawRow, name: str) -> str | None:
        if name in self._departments:
            found = self._departments[name]
        else:
            found = self._departments[name] = self._resolve_department(name)
        if isinstance(found, tuple):
            self.report(row, *found)
            return None
        return found

    def _resolve_department(self, name: str) -> str | _Refusal | None:
        fixed = self.ctx.department
        if not name:
            return (Field.DEPARTMENT, "购买主体为空", "") if fixed is None else fixed
        code = self._dept_by_key.get(name_key(name))
        if code is None:
            return Field.DEPARTMENT, f"未知的部门“{name}”：请使用本地区部门的全称或编码", name
        if fixed is not None and code != fixed:
            reason = f"购买主体“{name}”与导入的部门“{self.ctx.departments[fixed]}”不一致"
            return Field.DEPARTMENT, reason, name
        return code

    def _key(self, name: str) -> str:
        key = self._keys.get(name)
        if key is None:
            key = self._keys[name] = name_key(name)
        return key

    def _read_item(self, row: RawRow, v: _Cells, typ: TypeRef, dept: str) -> None:
        name, code, uid = v[2], v[7] or None, v[8] or None
        key = self._key(name)
        first = self._seen_items.setdefault((typ.uid, dept, key), row.number)
        if first != row.number:
            self.report(row, Field.ITEM, f"与第{first}行重复：同一二级目录、同一部门下已有“{name}”", name)
            return
        self._item_by_name[typ.uid, key] = row.number
        fits = code is None or fits_parent(code, typ.code, Level.ITEM)
        if self._codes_ok(row, code, uid, fits=fits, parent=("二级目录", typ.name, typ.code)):
            self._item_codes[row.number] = code
            self.items.append(ParsedItem(row.number, Level.ITEM, typ, name, v[5], dept, code, v[9], uid))

    def _read_subitem(self, row: RawRow, v: _Cells, typ: TypeRef, dept: str, item_name: str) -> None:
        # The parent is the nearest 三级 row above with that name under the type, whatever its
        # department: a 四级 item may be bought by another department than its 三级 item.
        keys = self._keys
        parent_row = (
            self._item_by_name.get((typ.uid, keys.get(item_name) or self._key(item_name)))
            if item_name
            else None
        )
        if parent_row is None:
            reason = f"找不到上级三级目录“{item_name}”：四级目录须列在其三级目录之后"
            self.report(row, Field.ITEM, reason, item_name)
            return
        name, code, uid = v[3], v[7] or None, v[8] or None
        first = self._seen_subs.setdefault((parent_row, keys.get(name) or self._key(name)), row.number)
        if first != row.number:
            self.report(row, Field.SUBITEM, f"与第{first}行重复：同一三级目录下已有“{name}”", name)
            return
        parent_code = self._item_codes.get(parent_row)
        fits = code is None or parent_code is None or fits_parent(code, parent_code, Level.SUBITEM)
        if self._codes_ok(row, code, uid, fits=fits, parent=("三级目录", item_name, parent_code)):
            self.items.append(
                ParsedItem(row.number, Level.SUBITEM, typ, name, v[5], dept, code, v[9], uid, parent_row)
            )

    def _codes_ok(
        self,
        row: RawRow,
        code: str | None,
        uid: str | None,
        *,
        fits: bool,
        parent: tuple[str, str, str | None],
    ) -> bool:
        """Return whether the row's code fits its parent (`fits`) and neither code nor uid repeats.

        `parent` is (level, name, code), put into words only for a problem.
        """
        number = row.number
        if (code is None or (fits and self._seen_codes.setdefault(code, number) == number)) and (
            uid is None or self._seen_uids.setdefault(uid, number) == number
        ):
            return True  # the usual row, checked without a call per check
        ok = True
        if code is not None:
            if not fits:
                level, name, parent_code = parent
                self.report(
                    row, Field.CODE, f"目录编码“{code}”与上级{level}“{name}”（{parent_code}）不一致", code
                )
                ok = False
            ok = self._unique(row, Field.CODE, self._seen_codes, code, "目录编码") and ok
        if uid is not None:
            ok = self._unique(row, Field.UID, self._seen_uids, uid, "uid") and ok
        return ok

    def _unique(self, row: RawRow, f: Field, seen: dict[str, int], key: str, label: str) -> bool:
        first = seen.setdefault(key, row.number)
        if first == row.number:
            return True
        self.report(row, f, f"{label}“{key}”与第{first}行重复", key)
        return False
