"""The import benchmark's input: our own CSV export of the one-catalog dataset, made importable.

one_catalog.py draws every node's department and wording at random, and writes through the
storage layer, which checks neither of two things the import checks:

1. a 四级 row names its 三级 item, which the import looks up under the *四级 row's* department;
   the export writes each node's own department, so a sub-item whose department differs from its
   item's is refused ("找不到上级三级目录") — a round-trip failure, reported to the app's owners;
2. two 三级 items with one name under one type and department (or two 四级 items with one name
   under one item) are duplicates, which the import rightly refuses.

So sub-items take their item's department, and a repeated name gets a number: 「…服务（2）」.
Everything else (columns, order, codes, uids, text) is the export's, byte for byte.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable, Hashable
from pathlib import Path

from sqlalchemy.orm import Session

from app.catalog.text import name_key
from app.formats.exports import CSV_HEADER
from app.services.exports import files as exports


def write_file(session: Session, slug: str, path: Path) -> tuple[int, int]:
    """Write catalog `slug`'s newest version to `path` as importable CSV; return (rows, rows renamed)."""
    with tempfile.TemporaryDirectory(prefix="guidecat-bench-") as folder:
        raw = Path(folder) / "export.csv"
        with raw.open("wb") as out:
            exports.write(session, exports.find(session, slug), exports.Format.CSV, out)
        with (
            raw.open(newline="", encoding="utf-8") as source,
            path.open("w", newline="", encoding="utf-8") as target,
        ):
            fixer = _Fixer()
            writer = csv.writer(target)  # minimal quoting and CRLF, as the export writes
            rows = csv.reader(source)
            writer.writerow(next(rows))
            written = 0
            for row in rows:
                writer.writerow(fixer.fix(row))
                written += 1
    return written, fixer.renamed


class _Fixer:
    """Rewrites rows of the export's columns (CSV_HEADER order) as the import accepts them."""

    TYPE, ITEM, SUBITEM, DEPARTMENT = (
        CSV_HEADER.index(c) for c in ("二级目录", "三级目录", "四级目录", "购买主体")
    )

    def __init__(self) -> None:
        self.items: set[Hashable] = set()  # (type, department, name key) of the 三级 items so far
        self.subitems: set[Hashable] = set()  # name keys of the current item's 四级 items
        self.item = ("", "")  # the current 三级 item's name and department, as rewritten
        self.renamed = 0

    def fix(self, row: list[str]) -> list[str]:
        """Return `row` with its department and name made acceptable (see the module's docstring)."""
        if row[self.SUBITEM]:  # rows come in code order: a 四级 item right after its 三级 item
            row[self.ITEM], row[self.DEPARTMENT] = self.item
            row[self.SUBITEM] = self._unique(row[self.SUBITEM], self.subitems, name_key)
        else:
            typ, dept = row[self.TYPE], row[self.DEPARTMENT]
            row[self.ITEM] = self._unique(row[self.ITEM], self.items, lambda n: (typ, dept, name_key(n)))
            self.item, self.subitems = (row[self.ITEM], dept), set()
        return row

    def _unique(self, name: str, seen: set[Hashable], key: Callable[[str], Hashable]) -> str:
        candidate, n = name, 1
        while key(candidate) in seen:
            n += 1
            candidate = f"{name}（{n}）"
        self.renamed += n > 1
        seen.add(key(candidate))
        return candidate
