"""Serving the app with uvicorn in a subprocess and loading it with wrk, on loopback only."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from app.config import PROJECT_ROOT

HOST = "127.0.0.1"
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


@dataclass(frozen=True, slots=True)
class Load:
    threads: int = 2
    connections: int = 32
    seconds: int = 10
    timeout: int = 10  # above wrk's 2 s default, so slow answers count in the latencies instead of vanishing


@dataclass(frozen=True, slots=True)
class Result:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx/3xx answers plus socket errors and timeouts


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def server(database_url: str, env: Mapping[str, str]) -> Iterator[str]:
    """Run one uvicorn worker on the database and yield its base URL; stop it on exit."""
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", "app.main:create_app_from_env", "--factory"]
    command += ["--host", HOST, "--port", str(port), "--workers", "1", "--log-level", "warning"]
    proc = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env={**os.environ, **env, "DATABASE_URL": database_url}
    )
    base = f"http://{HOST}:{port}"
    try:
        _wait_ready(proc, base)
        yield base
    finally:
        proc.terminate()  # only the process this function started, by its own handle
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_ready(proc: subprocess.Popen[bytes], base: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"uvicorn exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"uvicorn did not answer /healthz within {timeout:.0f} s")


def wrk(url: str, load: Load, headers: Mapping[str, str]) -> Result:
    """Return what wrk measured loading `url` for `load.seconds` seconds."""
    command = ["wrk", f"-t{load.threads}", f"-c{load.connections}", f"-d{load.seconds}s"]
    # every browser sends this; the app keeps gzipped copies of immutable pages for it
    headers = {"Accept-Encoding": "gzip", **headers}
    command += [f"--timeout={load.timeout}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    _settle(url)
    return _parse(out)


def _settle(url: str, quick: float = 0.05, timeout: float = 60.0) -> None:
    # the routes run their queries on the event loop, so requests still queued when wrk
    # stops would delay the start of the next run: wait until the server answers promptly
    base = url.split("/", 3)
    health = f"{base[0]}//{base[2]}/healthz"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        started = time.monotonic()
        with urllib.request.urlopen(health, timeout=timeout) as response:
            response.read()
        if time.monotonic() - started < quick:
            return
        time.sleep(0.1)


def _parse(out: str) -> Result:
    def number(pattern: str) -> float:
        m = re.search(pattern, out)
        if m is None:
            raise RuntimeError(f"unexpected wrk output:\n{out}")
        return float(m.group(1))

    def latency(percent: str) -> float:
        m = re.search(rf"^\s*{percent}%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
        if m is None:
            raise RuntimeError(f"no {percent}% latency in wrk output:\n{out}")
        return float(m.group(1)) * _UNITS[m.group(2)]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return Result(
        requests_per_second=number(r"Requests/sec:\s+([\d.]+)"),
        p50_ms=latency("50"),
        p99_ms=latency("99"),
        requests=int(number(r"(\d+) requests in")),
        errors=(int(errors.group(1)) if errors else 0)
        + (sum(int(g) for g in sockets.groups()) if sockets else 0),
    )
