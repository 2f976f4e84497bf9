"""The pure packages stay pure: no framework, no storage, no web, by parsing their imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"
PURE = ["catalog", "versioning", "screening", "workflow", "calendar"]
FRAMEWORKS = {"fastapi", "starlette", "sqlalchemy", "jinja2", "alembic", "uvicorn", "pydantic", "markupsafe"}
IMPURE_APP = {"app.db", "app.services", "app.web", "app.api", "app.main", "app.cli", "app.deps", "app.config"}


def imported_modules(path: Path) -> list[str]:
    """Return every module `path` imports, absolute, including relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(APP.parent).with_suffix("").parts[:-1])
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                found.append(".".join([*base, node.module] if node.module else base))
            else:
                found.append(node.module or "")
    return found


def violations(path: Path) -> list[str]:
    """Return the imports of `path` that a pure module may not make."""
    bad = []
    for module in imported_modules(path):
        top = module.split(".")[0]
        if top in FRAMEWORKS or any(module == p or module.startswith(p + ".") for p in IMPURE_APP):
            bad.append(module)
    return bad


@pytest.mark.parametrize("package", PURE)
def test_pure_package_exists_and_imports_no_framework(package: str) -> None:
    files = sorted((APP / package).rglob("*.py"))
    assert files, f"app/{package} is missing"
    problems = {str(f.relative_to(APP)): violations(f) for f in files}
    assert {f: v for f, v in problems.items() if v} == {}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import sqlalchemy\n", ["sqlalchemy"]),
        ("from fastapi import Request\n", ["fastapi"]),
        ("from app.db.models import Node\n", ["app.db.models"]),
        ("from ..services import browse\n", ["app.services"]),
        ("from jinja2 import Environment\n", ["jinja2"]),
        ("from app.catalog.codes import child_code\nimport anytree\n", []),
    ],
)
def test_checker_catches_forbidden_imports(tmp_path: Path, source: str, expected: list[str]) -> None:
    # The checker itself must be able to fail; write a module inside a fake pure package and check it.
    module = APP / "catalog" / "_probe_for_test.py"
    try:
        module.write_text(source, encoding="utf-8")
        assert violations(module) == expected
    finally:
        module.unlink(missing_ok=True)


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
