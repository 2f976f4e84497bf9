"""The house's layers as data, and a checker that reads a module's imports without running it.

Lowest first: base ← pure ← settings ← db, formats ← services ← http ← web, api ← main ← cli.
A module may import its own layer and any lower one; peers (db and formats, web and api)
never import each other. Frameworks are kept out of the layers that must not know them.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"


@dataclass(frozen=True, slots=True)
class Layer:
    name: str
    rank: int
    packages: tuple[str, ...]
    banned: frozenset[str] = frozenset()  # top-level third-party packages it may not import


WEB_FRAMEWORKS = frozenset({"fastapi", "starlette", "jinja2", "uvicorn", "markupsafe", "httpx"})
STORAGE = frozenset({"sqlalchemy", "alembic", "psycopg"})
PURE_BANNED = WEB_FRAMEWORKS | STORAGE | {"pydantic", "openpyxl"}

LAYERS = (
    Layer("base", 0, ("app.errors",), PURE_BANNED),
    Layer(
        "pure",
        1,
        ("app.catalog", "app.versioning", "app.screening", "app.workflow", "app.calendar"),
        PURE_BANNED,
    ),
    Layer("settings", 2, ("app.config", "app.clock"), PURE_BANNED),
    Layer("db", 3, ("app.db",), WEB_FRAMEWORKS),
    Layer("formats", 3, ("app.formats",), WEB_FRAMEWORKS | STORAGE),
    Layer("services", 4, ("app.services",), WEB_FRAMEWORKS),
    Layer("http", 5, ("app.http",)),
    Layer("web", 6, ("app.web",)),
    Layer("api", 6, ("app.api",)),
    Layer("main", 7, ("app.main",)),
    Layer("cli", 8, ("app.cli",)),
)
# Routes may name the session's type, but never build SQL: queries live in services and db.
SESSION_TYPES_ONLY = {"web", "api"}
ALLOWED_SQLALCHEMY_IN_ROUTES = {"sqlalchemy.orm"}


def layer_of(module: str) -> Layer | None:
    """Return the layer `module` (dotted, absolute) belongs to; None for `app` itself or outside it."""
    for layer in LAYERS:
        if any(module == p or module.startswith(p + ".") for p in layer.packages):
            return layer
    return None


@dataclass(frozen=True, slots=True)
class Imported:
    module: str  # absolute dotted name
    names: tuple[str, ...]  # the names taken with `from … import`, empty for `import …`
    line: int


def imports_of(path: Path, app_root: Path = APP) -> list[Imported]:
    """Return every import of the file at `path` (relative ones made absolute), at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parts = path.relative_to(app_root.parent).with_suffix("").parts
    package = parts if path.name == "__init__.py" else parts[:-1]
    if path.name == "__init__.py":
        package = parts[:-1]
    found: list[Imported] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(Imported(alias.name, (), node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names = tuple(alias.name for alias in node.names)
            if node.level:
                base = list(package[: len(package) - node.level + 1])
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.append(Imported(module, names, node.lineno))
    return found


def module_name(path: Path, app_root: Path = APP) -> str:
    """Return the dotted name of the module in `path` (a package's __init__ is the package)."""
    parts = path.relative_to(app_root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


PACKAGE_ROOTS = {  # the packages (not modules) of the table, as the real app/ lays them out
    "app",
    *(p for layer in LAYERS for p in layer.packages if APP.parent.joinpath(*p.split(".")).is_dir()),
}


def targets(imp: Imported, app_root: Path = APP) -> list[str]:
    """Return the app modules an import reaches: `from app.services import x` reaches app.services.x."""
    if not imp.module.startswith("app") or not imp.names:
        return [imp.module]
    folder = app_root.parent.joinpath(*imp.module.split("."))
    if imp.module in PACKAGE_ROOTS or folder.is_dir():
        return [f"{imp.module}.{name}" for name in imp.names]
    return [imp.module]


def problems(path: Path, app_root: Path = APP) -> list[str]:
    """Return, in words, every import of `path` that the layer table forbids."""
    own = layer_of(module_name(path, app_root))
    if own is None:
        return []
    found = []
    for imp in imports_of(path, app_root):
        top = imp.module.split(".")[0]
        if top in own.banned:
            found.append(f"line {imp.line}: {own.name} imports {imp.module}")
            continue
        if (
            own.name in SESSION_TYPES_ONLY
            and top == "sqlalchemy"
            and imp.module not in ALLOWED_SQLALCHEMY_IN_ROUTES
        ):
            found.append(f"line {imp.line}: {own.name} builds SQL with {imp.module}")
            continue
        for target in targets(imp, app_root):
            other = layer_of(target)
            if other is None or other is own:
                continue
            if other.rank > own.rank or (other.rank == own.rank and other.name != own.name):
                found.append(f"line {imp.line}: {own.name} imports {other.name} ({target})")
        private = [n for n in imp.names if n.startswith("_") and not n.startswith("__")]
        if private and imp.module.startswith("app"):
            found.append(f"line {imp.line}: takes private {', '.join(private)} from {imp.module}")
    return found
