"""Settings, read once from the environment and passed everywhere explicitly."""

from __future__ import annotations

import os
import secrets
import time
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
    # publish scheduled versions in-process; GUIDECAT_SCHEDULER=0 leaves it to `guidecat publish-due` (cron)
    run_scheduler: bool = True
    # how long a process trusts a catalog's list of public versions that it read (a publication by
    # this process refreshes it at once; one by another process shows within this many seconds)
    public_list_seconds: int = 5

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Return settings from `environ` (default: the process environment)."""
        env = os.environ if environ is None else environ
        return cls(
            database_url=env.get("DATABASE_URL", DEFAULT_DATABASE_URL),
            secret_key=env.get("GUIDECAT_SECRET_KEY") or _local_secret(PROJECT_ROOT / "var" / "secret_key"),
            page_cache_bytes=_int(env, "GUIDECAT_PAGE_CACHE_BYTES", DEFAULT_PAGE_CACHE_BYTES),
            run_scheduler=env.get("GUIDECAT_SCHEDULER", "1").strip() != "0",
            public_list_seconds=_int(env, "GUIDECAT_PUBLIC_LIST_SECONDS", 5),
        )


def _local_secret(path: Path) -> str:
    """Return the key kept in `path`, making a random one on first use (never a key published in code).

    Every worker of one installation reads the same file, so sessions survive restarts and
    load balancing; set GUIDECAT_SECRET_KEY to share a key between machines.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # made before, or by a worker starting at the same moment
        for _ in range(100):  # that worker may not have written it yet
            key = path.read_text(encoding="ascii").strip()
            if key:
                return key
            time.sleep(0.01)
        raise InvalidInput(f"密钥文件 {path} 为空：请删除后重启，或设置 GUIDECAT_SECRET_KEY") from None
    except OSError:
        return secrets.token_urlsafe(48)  # read-only disk: sessions last as long as the process
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key)
    return key


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(f"环境变量 {name} 必须是整数，现在是“{raw}”") from None
