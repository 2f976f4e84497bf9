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
