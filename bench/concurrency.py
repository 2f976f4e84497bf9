"""Many clients editing one draft at once, over HTTP, against uvicorn with several workers.

    .venv/bin/python bench/concurrency.py --database-url URL [--clients 20] [--seconds 30] [--workers 2]

The database must be migrated and hold the demo (this script prepares neither: the test
suite and `make bench` do). Each client edits its own item of one shared draft, reading the
draft's version first and sending it as If-Match; a 409 sends it back to read again. At the
end every acknowledged edit must be in the draft, the draft's lock version must equal 1 plus
the number of acknowledged edits, and no answer may be other than 200 or 409. Prints JSON.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.db.engine import make_engine, make_sessionmaker  # noqa: E402
from app.services.access import CLI as SYSTEM  # noqa: E402
from app.services.catalogs.authoring import stable_uid  # noqa: E402
from app.services.drafts import lifecycle as drafts  # noqa: E402
from app.services.people import accounts as people  # noqa: E402


@dataclass
class Tally:
    acked: dict[str, str] = field(default_factory=dict)  # item uid → the last name the server acknowledged
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)  # client-side errors, by where and what
    lock: threading.Lock = field(default_factory=threading.Lock)


def prepare(url: str, clients: int) -> tuple[int, str, list[str]]:
    """Return a new draft's id, a finance reviewer's token and one demo item per client."""
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            token = people.create_token(session, "reviewer", label="concurrency", actor=SYSTEM)
            reviewer = people.user_for_token(session, token)
            draft = drafts.create_draft(session, "shifanshi", actor=reviewer, title="并发测试")
            return (
                draft.id,
                token,
                [stable_uid("shifanshi", "item", f"i{n:04d}") for n in range(100, 100 + clients)],
            )
    finally:
        engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(url: str, workers: int) -> tuple[subprocess.Popen[bytes], int]:
    """Start uvicorn on loopback with `workers` processes; return it and its port once it answers."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "GUIDECAT_SCHEDULER": "0"}
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "app.main:create_app_from_env",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return process, port
        except OSError:
            time.sleep(0.05)
    process.terminate()
    raise RuntimeError("uvicorn did not start")


def client(port: int, token: str, draft: int, uid: str, deadline: float, tally: Tally, n: int) -> None:
    """Edit one item again and again until `deadline`, recording every answer."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    auth = {"Authorization": f"Bearer {token}"}
    edit = 0
    while time.monotonic() < deadline:
        try:
            edit = _one_edit(conn, auth, draft, uid, tally, n, edit)
        except (OSError, http.client.HTTPException) as exc:
            with tally.lock:
                tally.failures[type(exc).__name__] += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.close()  # an open keep-alive connection would hold up the server's graceful shutdown


def _one_edit(
    conn: http.client.HTTPConnection,
    auth: dict[str, str],
    draft: int,
    uid: str,
    tally: Tally,
    n: int,
    edit: int,
) -> int:
    """Read the draft's version, then send one edit based on it; return the edit counter."""
    conn.request("GET", f"/api/v1/drafts/{draft}", headers=auth)
    read = conn.getresponse()
    read.read()
    etag = read.getheader("ETag") or ""
    edit += 1
    name = f"并发修改{n:02d}-{edit:05d}"
    body = json.dumps({"name": name}).encode()
    headers = {**auth, "If-Match": etag, "Content-Type": "application/json"}
    conn.request("PATCH", f"/api/v1/drafts/{draft}/items/{uid}", body=body, headers=headers)
    answer = conn.getresponse()
    answer.read()
    with tally.lock:
        tally.statuses[answer.status] += 1
        if 200 <= answer.status < 300:
            tally.acked[uid] = name
    return edit


def run(url: str, *, clients: int, seconds: float, workers: int) -> dict[str, Any]:
    """Run the clients against a fresh server and return the counts and the checks."""
    draft, token, uids = prepare(url, clients)
    server, port = serve(url, workers)
    tally = Tally()
    try:
        deadline = time.monotonic() + seconds
        threads = [
            threading.Thread(target=client, args=(port, token, draft, uid, deadline, tally, n))
            for n, uid in enumerate(uids)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", f"/api/v1/drafts/{draft}", headers={"Authorization": f"Bearer {token}"})
        final = json.loads(conn.getresponse().read())
        conn.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    names = {c["uid"]: (c["proposed"] or {}).get("name") for c in final["changes"]}
    acked_total = sum(n for status, n in tally.statuses.items() if 200 <= status < 300)
    return {
        "clients": clients,
        "seconds": seconds,
        "workers": workers,
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "client_failures": dict(tally.failures),
        "acknowledged": acked_total,
        "lost": sorted(uid for uid, name in tally.acked.items() if names.get(uid) != name),
        "lock_version": final["lock_version"],
        "lock_matches_acknowledged": final["lock_version"] == 1 + acked_total,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    result = run(args.database_url, clients=args.clients, seconds=args.seconds, workers=args.workers)
    print(json.dumps(result, ensure_ascii=False))
    ok = (
        not result["lost"]
        and result["lock_matches_acknowledged"]
        and set(result["statuses"]) <= {"200", "409"}
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
