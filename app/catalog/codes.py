"""Code schemes: how a catalog numbers its nodes, e.g. A (class) → A01 (type) → A01001 (item) → A0100101.

Codes are labels people read in documents; identity is the uid. A scheme only proposes codes
for new nodes and checks that a code does not contradict its parent's. Each catalog names its
scheme (`Catalog.code_scheme`) by one sample code segment per level, "A/01/001/01" (today's
default: a letter, then 2, 3 and 2 digits); 山西's two digits per level is "A/01/01/01".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from app.catalog.nodes import Level

_BELOW_CLASS = (Level.TYPE, Level.ITEM, Level.SUBITEM)


@dataclass(frozen=True, slots=True)
class CodeScheme:
    """The digits each level below 一级 appends to its parent's code (一级 codes are capital letters)."""

    type_digits: int = 2
    item_digits: int = 3
    subitem_digits: int = 2

    @classmethod
    def parse(cls, text: str) -> CodeScheme:
        """Return the scheme written as "A/01/001/01" (one sample per level); ValueError, in Chinese,
        saying the expected form, for anything else."""
        parts = text.strip().split("/")
        digits = parts[1:]
        if (
            len(parts) != 4
            or not (parts[0].isascii() and parts[0].isalpha() and parts[0].isupper())
            or not all(p.isascii() and p.isdigit() and 1 <= len(p) <= 4 for p in digits)
        ):
            raise ValueError(
                f"编码规则“{text}”的格式不对：应为一级字母和二、三、四级的位数样例，以 / 分隔，如 A/01/001/01"
            )
        return cls(*(len(p) for p in digits))

    def __str__(self) -> str:
        return "A/" + "/".join("0" * (self.width(level) - 1) + "1" for level in _BELOW_CLASS)

    def width(self, level: Level) -> int:
        """Return the digits `level` appends to its parent's code (0 for 一级)."""
        return {
            Level.CLASS: 0,
            Level.TYPE: self.type_digits,
            Level.ITEM: self.item_digits,
            Level.SUBITEM: self.subitem_digits,
        }[level]

    def child(self, parent_code: str, level: Level, number: int) -> str:
        """Return the code of the `number`-th child (1-based) at `level` under `parent_code`."""
        width = self.width(level)
        if not 1 <= number < 10**width:
            raise ValueError(f"{level.label}序号 {number} 超出 {width} 位编码范围")
        return f"{parent_code}{number:0{width}d}"

    def fits(self, code: str, parent_code: str | None, level: Level) -> bool:
        """Return whether `code` extends `parent_code` the way this scheme says a `level` code does."""
        if level is Level.CLASS:
            return parent_code is None and code.isascii() and code.isalpha() and code.isupper()
        if parent_code is None or not code.startswith(parent_code):
            return False
        suffix = code[len(parent_code) :]
        return len(suffix) == self.width(level) and suffix.isascii() and suffix.isdigit() and int(suffix) > 0

    def next_child(self, parent_code: str, level: Level, taken: Iterable[str]) -> str:
        """Return the first code after every code already `taken` under `parent_code`."""
        width = self.width(level)
        highest = 0
        for code in taken:
            suffix = code[len(parent_code) :]
            if code.startswith(parent_code) and len(suffix) == width and suffix.isdigit():
                highest = max(highest, int(suffix))
        return self.child(parent_code, level, highest + 1)

    def expected(self, level: Level, parent_code: str | None) -> str:
        """Return, in Chinese, the form a `level` code takes under `parent_code`, with an example."""
        if level is Level.CLASS:
            return "一级目录编码为一个大写字母，如 A"
        width = self.width(level)
        parent = parent_code or "上级编码"
        return f"{level.label}编码为上级编码后加 {width} 位数字，如 {parent}{1:0{width}d}"


DEFAULT_SCHEME = CodeScheme()


def child_code(parent_code: str, level: Level, number: int) -> str:
    """Return `DEFAULT_SCHEME.child(...)`: the default scheme's code of the `number`-th child."""
    return DEFAULT_SCHEME.child(parent_code, level, number)


def fits_parent(code: str, parent_code: str | None, level: Level) -> bool:
    """Return `DEFAULT_SCHEME.fits(...)`."""
    return DEFAULT_SCHEME.fits(code, parent_code, level)


def next_child_code(parent_code: str, level: Level, taken: Iterable[str]) -> str:
    """Return `DEFAULT_SCHEME.next_child(...)`."""
    return DEFAULT_SCHEME.next_child(parent_code, level, taken)
