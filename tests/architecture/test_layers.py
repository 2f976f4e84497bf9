"""The layer table holds for every module of app/, and the checker itself can fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.architecture.layers import APP, LAYERS, layer_of, problems

MODULES = sorted(APP.rglob("*.py"))


def test_every_module_has_a_layer() -> None:
    loose = [str(p.relative_to(APP)) for p in MODULES if p.name != "__init__.py" or p.parent != APP]
    unplaced = [m for m in loose if layer_of("app." + m.removesuffix(".py").replace("/", ".")) is None]
    unplaced = [m for m in unplaced if not m.endswith("__init__.py")]
    assert unplaced == []


def test_layers_cover_the_pure_domain() -> None:
    pure = next(layer for layer in LAYERS if layer.name == "pure")
    for package in pure.packages:
        assert (APP / package.removeprefix("app.")).is_dir(), package


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(APP)) for p in MODULES])
def test_module_respects_the_layers(path: Path) -> None:
    assert problems(path) == []


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        (
            "web/probe.py",
            "from app.api.schemas import ErrorOut\n",
            ["line 1: web imports api (app.api.schemas)"],
        ),
        ("api/probe.py", "from app.web import forms\n", ["line 1: api imports web (app.web.forms)"]),
        (
            "services/probe.py",
            "from app.http import urls\n",
            ["line 1: services imports http (app.http.urls)"],
        ),
        ("services/probe.py", "from fastapi import Request\n", ["line 1: services imports fastapi"]),
        ("formats/probe.py", "from app.db import queries\n", ["line 1: formats imports db (app.db.queries)"]),
        ("formats/probe.py", "import sqlalchemy\n", ["line 1: formats imports sqlalchemy"]),
        (
            "catalog/probe.py",
            "from app.config import Settings\n",
            ["line 1: pure imports settings (app.config)"],
        ),
        (
            "db/probe.py",
            "from ..services import audit\n",
            ["line 1: db imports services (app.services.audit)"],
        ),
        ("web/probe.py", "from sqlalchemy import select\n", ["line 1: web builds SQL with sqlalchemy"]),
        (
            "cli/probe.py",
            "from app.api.changes import _diff_body\n",
            ["line 1: takes private _diff_body from app.api.changes"],
        ),
        ("web/probe.py", "from sqlalchemy.orm import Session\nfrom app.http.deps import SessionDep\n", []),
        ("cli/probe.py", "from app.main import create_app\n", []),
    ],
)
def test_the_checker_refuses_what_the_table_forbids(
    tmp_path: Path, module: str, source: str, expected: list[str]
) -> None:
    # A copy of the house in tmp_path: the checker must be able to fail, and never writes into app/.
    root = tmp_path / "app"
    path = root / module
    path.parent.mkdir(parents=True)
    path.write_text(source, encoding="utf-8")
    assert problems(path, root) == expected
