"""The code scheme: A (class) → A01 (type) → A01001 (item) → A0100101 (sub-item).

Codes are labels people read in documents; identity is the uid. The scheme only proposes
codes for new nodes and checks that a code does not contradict its parent's.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.catalog.nodes import Level

SUFFIX_WIDTH = {Level.TYPE: 2, Level.ITEM: 3, Level.SUBITEM: 2}


def child_code(parent_code: str, level: Level, number: int) -> str:
    """Return the code of the `number`-th child (1-based) at `level` under `parent_code`."""
    width = SUFFIX_WIDTH[level]
    if not 1 <= number < 10**width:
        raise ValueError(f"{level.label}序号 {number} 超出 {width} 位编码范围")
    return f"{parent_code}{number:0{width}d}"


def fits_parent(code: str, parent_code: str | None, level: Level) -> bool:
    """Return whether `code` extends `parent_code` the way the scheme says a `level` code does."""
    if level is Level.CLASS:
        return parent_code is None and code.isascii() and code.isalpha() and code.isupper()
    if parent_code is None or not code.startswith(parent_code):
        return False
    suffix = code[len(parent_code) :]
    return len(suffix) == SUFFIX_WIDTH[level] and suffix.isdigit() and int(suffix) > 0


def next_child_code(parent_code: str, level: Level, taken: Iterable[str]) -> str:
    """Return the first code after every code already `taken` under `parent_code`."""
    width = SUFFIX_WIDTH[level]
    highest = 0
    for code in taken:
        suffix = code[len(parent_code) :]
        if code.startswith(parent_code) and len(suffix) == width and suffix.isdigit():
            highest = max(highest, int(suffix))
    return child_code(parent_code, level, highest + 1)
