"""Settings, read once from the environment and passed everywhere explicitly."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from app.errors import InvalidInput

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "sqlite:///var/guidecat.db"
DEV_SECRET_KEY = "dev-only-secret-change-me"
DEFAULT_PAGE_CACHE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the app needs to start; nothing is read from the environment after this."""

    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = DEV_SECRET_KEY
    catalogs_dir: Path = field(default=PROJECT_ROOT / "catalogs")
    static_dir: Path = field(default=PROJECT_ROOT / "static")
    page_cache_bytes: int = DEFAULT_PAGE_CACHE_BYTES

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Return settings from `environ` (default: the process environment)."""
        env = os.environ if environ is None else environ
        return cls(
            database_url=env.get("DATABASE_URL", DEFAULT_DATABASE_URL),
            secret_key=env.get("GUIDECAT_SECRET_KEY", DEV_SECRET_KEY),
            page_cache_bytes=_int(env, "GUIDECAT_PAGE_CACHE_BYTES", DEFAULT_PAGE_CACHE_BYTES),
        )


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(f"环境变量 {name} 必须是整数，现在是“{raw}”") from None
