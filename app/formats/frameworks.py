"""The national frameworks shipped under catalogs/frameworks/."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from app.catalog.frameworks import Framework, parse_framework
from app.errors import NotFound


@cache
def load_framework(catalogs_dir: Path, slug: str) -> Framework:
    """Return the framework `slug` (six_class, two_class_2020) from `catalogs_dir`."""
    path = catalogs_dir / "frameworks" / f"{slug}.json"
    if not path.is_file():
        raise NotFound(f"未知的目录框架：{slug}")
    return parse_framework(json.loads(path.read_text(encoding="utf-8")))
