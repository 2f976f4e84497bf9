"""Export → import into an empty catalog gives identical items, in every format import reads."""

from __future__ import annotations

import io

import pytest
from sqlalchemy.orm import Session

from app.catalog.nodes import Level, NodeState
from app.db import store
from app.formats.exports import Charset
from app.formats.frameworks import load_framework
from app.services.catalogs import authoring as catalogs
from app.services.demo import load_demo
from app.services.drafts import changes as draft_changes
from app.services.drafts import lifecycle as drafts
from app.services.exports import files as exports
from app.services.imports.pipeline import ImportRequest, import_file
from tests.factories import CATALOGS, SYSTEM

Comparable = tuple[str, str, tuple[str, ...], str, str, str | None, str]


def comparable(states: dict[str, NodeState]) -> set[Comparable]:
    """Return the items as what a reader sees: uid, code, path of names, name, 服务内容, department, note."""

    def path(s: NodeState) -> tuple[str, ...]:
        names: list[str] = []
        while s.parent is not None:
            s = states[s.parent]
            names.insert(0, s.name)
        return tuple(names)

    return {
        (s.uid, s.code, path(s), s.name, s.description, s.department, str(s.attrs.get("note", "")))
        for s in states.values()
        if s.level >= Level.ITEM
    }


@pytest.mark.parametrize(
    ("fmt", "options", "filename"),
    [
        (exports.Format.CSV, {"bom": True}, "目录.csv"),
        (exports.Format.CSV, {"charset": Charset.GB18030}, "目录-gbk.csv"),
        (exports.Format.XLSX, {}, "目录.xlsx"),
        (exports.Format.JSON, {}, "目录.json"),
    ],
)
def test_export_then_import_gives_identical_items(
    session: Session, fmt: exports.Format, options: dict[str, object], filename: str
) -> None:
    load_demo(session, CATALOGS)
    target = exports.find(session, "shifanshi", 2)
    original = {u: n.state for u, n in store.load_version(session, target.catalog.id, 2).items()}
    out = io.BytesIO()
    exports.write(session, target, fmt, out, **options)  # type: ignore[arg-type]
    catalogs.create_catalog(
        session,
        jurisdiction_id=target.catalog.jurisdiction_id,
        slug="kong",
        name="空目录",
        framework=load_framework(CATALOGS, "six_class"),
    )
    session.commit()
    request = ImportRequest(catalog="kong", data=out.getvalue(), filename=filename)
    result = import_file(session, request, actor=SYSTEM, catalogs_dir=CATALOGS)
    assert result.ok, [(p.row, p.reason) for p in result.problems[:5]]
    assert (result.counts.added, result.counts.changed, result.counts.withdrawn) == (result.rows, 0, 0)
    imported = draft_changes.snapshot(session, drafts.get_draft(session, result.draft_id or 0, actor=SYSTEM))
    assert comparable(imported) == comparable(original)
    assert len(comparable(original)) > 1800
