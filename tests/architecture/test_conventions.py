"""House rules that a reader cannot see at a glance, checked on the source of app/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from app.workflow.states import DraftState, VersionState
from tests.architecture.layers import APP

STATE_VALUES = {str(s) for s in (*DraftState, *VersionState)}
MODULES = sorted(p for p in APP.rglob("*.py") if "workflow" not in p.relative_to(APP).parts)


def status_literals(source: str) -> list[str]:
    """Return the lines of `source` that spell a draft or version state as a string next to a status."""
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and node.value in STATE_VALUES:
            line = lines[node.lineno - 1]
            if "status" in line:
                found.append(f"{node.lineno}: {line.strip()}")
    return found


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(APP)) for p in MODULES])
def test_states_are_the_workflows_enums_never_strings(path: Path) -> None:
    # The workflow's tables name every state; a string elsewhere drifts from them unnoticed.
    assert status_literals(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('if version.status != "issued":\n    pass\n', 1),
        ('stmt.where(Version.status.in_(("assembling", "issued")))\n', 2),
        ("if version.status != VersionState.ISSUED:\n    pass\n", 0),
        ('summary = {"withdrawn": 3}\n', 0),  # a count named like a state is not a state
    ],
)
def test_the_literal_check_can_fail(source: str, expected: int) -> None:
    assert len(status_literals(source)) == expected


def test_importing_the_app_does_nothing() -> None:
    # create_app is where work happens; importing must not build an app, an engine or a session.
    source = (APP / "main.py").read_text(encoding="utf-8")
    module_level_calls = [
        node
        for node in ast.parse(source).body
        if isinstance(node, ast.Expr | ast.Assign)
        and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
        and any(isinstance(n, ast.Call) for n in ast.walk(node))
    ]
    assert module_level_calls == []
