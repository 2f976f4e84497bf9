"""National frameworks (一级 classes → 二级 types) as values, parsed from catalogs/frameworks/*.json."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.catalog.text import name_key


@dataclass(frozen=True, slots=True)
class TypeDef:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class ClassDef:
    code: str
    name: str
    name_variants: tuple[str, ...]
    types: tuple[TypeDef, ...]

    def matches(self, name: str) -> bool:
        """Return whether `name` is this class's name or one of its known variants."""
        key = name_key(name)
        return key == name_key(self.name) or any(key == name_key(v) for v in self.name_variants)


@dataclass(frozen=True, slots=True)
class Framework:
    slug: str
    title: str
    classes: tuple[ClassDef, ...]

    def find_class(self, name: str) -> ClassDef | None:
        """Return the class called `name` (or a known variant of it), or None."""
        return next((c for c in self.classes if c.matches(name)), None)

    @property
    def type_count(self) -> int:
        """Return the number of 二级 types across all classes."""
        return sum(len(c.types) for c in self.classes)


def parse_framework(doc: dict[str, Any]) -> Framework:
    """Return the framework described by a catalogs/frameworks/*.json document."""
    classes = tuple(
        ClassDef(
            code=c["code"],
            name=c["name"],
            name_variants=tuple(c.get("name_variants", ())),
            types=tuple(TypeDef(code=t["code"], name=t["name"]) for t in c["types"]),
        )
        for c in doc["classes"]
    )
    return Framework(slug=doc["framework"], title=doc["title"], classes=classes)
