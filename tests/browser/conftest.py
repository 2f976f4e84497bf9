"""Headless Chromium (Debian's package) driving pages served by a real uvicorn process."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


# The pages' behaviour does not depend on the database, which the HTTP tests cover on both;
# in the browser only the whole-workflow journey runs on each, the rest on SQLite.
BOTH_DATABASES = {"test_workflow_journey.py"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    kept, dropped = [], []
    for item in items:
        if "tests/browser/" not in str(item.path).replace(os.sep, "/"):
            kept.append(item)
            continue
        item.add_marker(pytest.mark.browser)
        backend = getattr(item, "callspec", None) and item.callspec.params.get("backend")  # type: ignore[attr-defined]
        if backend not in (None, "sqlite") and item.path.name not in BOTH_DATABASES:
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The Chromium binary; a missing one skips locally and fails under CI, where it must be installed."""
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is required under CI (apt-get install chromium)")
        pytest.skip("Chromium not installed; `apt-get install chromium` to run the browser tests")
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(database_url: str) -> Iterator[str]:
    """Serve the app on `database_url` with uvicorn in a child process; yield its base URL."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url}
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "app.main:create_app_from_env",
        "--factory",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60  # a loaded 2-core machine can take several seconds
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"uvicorn did not start on {base} (exit code {process.poll()})")
                time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def demo_server(demo_url: str) -> Iterator[str]:
    yield from serve(demo_url)


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS, headless=True)
        yield instance
        instance.close()


def screenshot(page: object, name: str) -> None:
    """Save a full-page screenshot under var/screenshots/ (kept as a CI artefact)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]
