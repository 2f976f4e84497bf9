"""Time every signed-in page and action on the demo data: does each answer within 100 ms?

    .venv/bin/python bench/ui.py [--database-url URL] [--requests 50] [--budget-ms 100]

Builds a fresh demo database (default sqlite:///var/bench-ui.db; a PostgreSQL URL works too),
prepares a draft in each state through the JSON API, serves the app with one uvicorn worker
and, signed in as each role, sends many sequential requests to every page and action it
knows: the desk, the admin pages, and the editor, review and merge pages where they exist
(a route answering 404 or 405 on its first request is skipped, so the script runs while those
pages are still being built). Prints median, p95 and max per route, slowest first, and names
the slowest; records the figures in var/bench-ui-<dialect>.json. Exit 1 when a route's p95
is over the budget or a route answers with an error.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import benchdb
import load
from sqlalchemy import select
from sqlalchemy.engine import make_url

from app.clock import beijing_date, real_clock
from app.config import PROJECT_ROOT
from app.db.engine import make_engine, make_sessionmaker
from app.db.migrate import upgrade
from app.db.models import Department, Node, NodeRevision
from app.services.access import CLI
from app.services.demo import load_demo
from app.services.people import accounts as people

DEFAULT_URL = "sqlite:///var/bench-ui.db"
PASSWORDS = {
    "admin": "demo-admin",
    "reviewer": "demo-reviewer",
    "minzheng": "demo-editor",
    "sysadmin": "demo-sysadmin",
}
HX = {"HX-Request": "true"}
SLUG = "shifanshi"


class Client:
    """One signed-in browser: a keep-alive connection, its cookies and its CSRF token."""

    def __init__(self, base: str) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=30)
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def send(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, str]:
        """Send one request; return (status, body) with the cookies it set remembered."""
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.conn.request(method, path, body=body or None, headers=sent)
            response = self.conn.getresponse()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            # uvicorn closes a connection idle for 5 s; reopen it (an untimed probe comes first per route)
            self.conn.close()
            self.conn.request(method, path, body=body or None, headers=sent)
            response = self.conn.getresponse()
        text = response.read().decode()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if value in ('""', "") or "Max-Age=0" in header:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return response.status, text

    def form(self, path: str, fields: dict[str, str], *, htmx: bool = True) -> tuple[int, str]:
        """POST a urlencoded form with the session's CSRF token."""
        from urllib.parse import urlencode

        body = urlencode({"csrf_token": self.csrf, **fields}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", **(HX if htmx else {})}
        return self.send("POST", path, body, headers)

    def sign_in(self, username: str) -> None:
        """Sign in through the login form and keep the session's CSRF token."""
        _, page = self.send("GET", "/login")
        self.csrf = _token(page)
        status, _ = self.form("/login", {"username": username, "password": PASSWORDS[username]}, htmx=False)
        if status != 303:
            raise SystemExit(f"signing in as {username} failed with {status}")
        _, desk = self.send("GET", "/desk")
        self.csrf = _token(desk)


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(
        r'"X-CSRF-Token": "([^"]+)"', html
    )
    if not found:
        raise SystemExit("no CSRF token on the page")
    return found.group(1)


@dataclass
class Route:
    """A measured route: who asked, what, and each answer's milliseconds."""

    role: str
    name: str
    ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    def summary(self) -> dict[str, float]:
        ordered = sorted(self.ms)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        return {
            "n": len(ordered),
            "min": ordered[0],
            "median": statistics.median(ordered),
            "p95": p95,
            "max": ordered[-1],
        }


def timed(route: Route, call: Callable[..., tuple[int, str]], *args: Any, **kwargs: Any) -> str:
    """Run `call(*args, **kwargs)` once, recording its time and status on `route`; return the body."""
    start = time.perf_counter()
    status, body = call(*args, **kwargs)
    route.ms.append((time.perf_counter() - start) * 1000)
    route.statuses[status] = route.statuses.get(status, 0) + 1
    return body


# --- the demo, and drafts in each state ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Drafts:
    editing: int
    submitted: int
    approved: int


def build(url: str) -> dict[str, dict[str, str]]:
    """Make a fresh demo database at `url`; return API headers per user."""
    benchdb.prepare(url, force=True)
    upgrade(url)
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as s:
            load_demo(s, PROJECT_ROOT / "catalogs")
            return {u: {"Authorization": f"Bearer {people.create_token(s, u, actor=CLI)}"} for u in PASSWORDS}
    finally:
        engine.dispose()


def department_items(url: str, code: str, n: int) -> list[str]:
    """Return the uids of `n` current items of department `code` in the demo catalog."""
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as s:
            stmt = (
                select(Node.uid)
                .join(NodeRevision, NodeRevision.node_id == Node.id)
                .join(Department, Department.id == NodeRevision.department_id)
                .where(Department.code == code, NodeRevision.level == 3, NodeRevision.valid_to.is_(None))
                .order_by(Node.uid)
                .limit(n)
            )
            return list(s.scalars(stmt))
    finally:
        engine.dispose()


def api(
    client: Client, method: str, path: str, auth: dict[str, str], body: object = None
) -> dict[str, object]:
    data = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
    status, text = client.send(method, path, data, {**auth, "Content-Type": "application/json"})
    if status >= 300:
        raise SystemExit(f"setup {method} {path} failed: {status} {text[:300]}")
    result: dict[str, object] = json.loads(text)
    return result


def prepare_drafts(base: str, url: str, tokens: dict[str, dict[str, str]]) -> Drafts:
    """Create three drafts of 民政局 through the API: one editing, one submitted, one approved."""
    client, ids = Client(base), []
    uids = department_items(url, "106", 3)
    for n, uid in enumerate(uids):
        draft = api(
            client,
            "POST",
            "/api/v1/drafts",
            tokens["minzheng"],
            {"catalog": SLUG, "title": f"基准测试草稿{n + 1}"},
        )
        did = int(str(draft["id"]))
        patch = {"name": f"社区养老服务（基准{n + 1}）", "lock_version": draft["lock_version"]}
        edited = api(client, "PATCH", f"/api/v1/drafts/{did}/items/{uid}", tokens["minzheng"], patch)
        if n >= 1:
            edited = api(
                client,
                "POST",
                f"/api/v1/drafts/{did}/submit",
                tokens["minzheng"],
                {"lock_version": edited["lock_version"]},
            )
        if n == 2:
            api(
                client,
                "POST",
                f"/api/v1/drafts/{did}/approve",
                tokens["reviewer"],
                {"lock_version": edited["lock_version"]},
            )
        ids.append(did)
    return Drafts(*ids)


# --- what is measured ----------------------------------------------------------------------------


def pages(drafts: Drafts) -> dict[str, list[str]]:
    """Return the pages each role opens; the editor, review and merge paths are probed."""
    admin = ["/desk", "/admin", "/admin/board", "/admin/users", "/admin/departments", "/admin/rules",
             f"/admin/catalogs/{SLUG}/versions/2/findings"]  # fmt: skip
    review = ["/review", f"/review/drafts/{drafts.submitted}", f"/review/drafts/{drafts.approved}/merge",
              f"/review/drafts/{drafts.approved}", f"/drafts/{drafts.approved}/merge"]  # fmt: skip
    return {
        "admin": admin + review,
        "reviewer": ["/desk", "/admin/board", *review],
        "minzheng": ["/desk", "/admin/board", f"/drafts/{drafts.editing}", f"/drafts/{drafts.submitted}"],
        "sysadmin": ["/desk", "/admin", "/admin/users", "/admin/departments", "/admin/rules"],
    }


def measure_pages(clients: dict[str, Client], drafts: Drafts, n: int, routes: list[Route]) -> list[str]:
    """Time every page `n` times per role; return the skipped ones.

    A first request probes each page (404/405: not built yet, skipped) and warms it up; then
    rounds interleave the pages, so a burst of other work on the machine hits them all alike.
    """
    skipped, measured = [], []
    for role, paths in pages(drafts).items():
        for path in paths:
            status, _ = clients[role].send("GET", path)
            if status in (404, 405):
                skipped.append(f"{role} GET {path} ({status})")
                continue
            clients[role].send("GET", path)
            measured.append((clients[role], path, Route(role, f"GET {_generic(path, drafts)}")))
    for _ in range(n):
        for client, path, route in measured:
            timed(route, client.send, "GET", path)
    routes.extend(route for _, _, route in measured)
    return skipped


def _generic(path: str, drafts: Drafts) -> str:
    """Return a draft page's path with the draft's state for its id, so the table names the route."""
    states = {
        str(drafts.editing): "editing",
        str(drafts.submitted): "submitted",
        str(drafts.approved): "approved",
    }
    return re.sub(r"/drafts/(\d+)", lambda m: f"/drafts/{{{states.get(m.group(1), 'id')}}}", path)


def measure_actions(admin: Client, n: int, routes: list[Route]) -> None:
    """Time the admin's actions `n` times each (one-shot acts in cycles, toggles back and forth)."""
    r = {name: Route("admin", name) for name in (
        "POST open version", "POST issue", "POST publish", "POST schedule", "POST unschedule",
        "POST add user", "POST disable/enable user", "POST reset password",
        "POST add department", "POST rename department", "POST disable/enable department",
    )}  # fmt: skip
    today = beijing_date(real_clock()).isoformat()
    versions = f"/admin/catalogs/{SLUG}/versions"
    for seq in range(3, 3 + n):  # open → issue → publish: a fresh version each cycle
        timed(r["POST open version"], admin.form, versions, {"label": f"基准第{seq}版"})
        issue = {"doc_number": f"示财购〔2026〕{100 + seq}号", "issued_on": today}
        timed(r["POST issue"], admin.form, f"{versions}/{seq}/issue", issue)
        timed(r["POST publish"], admin.form, f"{versions}/{seq}/publish", {})
    seq = 3 + n
    admin.form(versions, {"label": "基准待公开版"})
    admin.form(f"{versions}/{seq}/issue", {"doc_number": "示财购〔2026〕999号", "issued_on": today})
    for _ in range(n):
        timed(r["POST schedule"], admin.form, f"{versions}/{seq}/schedule", {"publish_on": today})
        timed(r["POST unschedule"], admin.form, f"{versions}/{seq}/unschedule", {})
    for i in range(n):
        user = {"username": f"bench{i + 1}", "display_name": "基准用户", "role": "dept_editor",
                "department": "106", "password": "bench-password"}  # fmt: skip
        timed(r["POST add user"], admin.form, "/admin/users", user)
        timed(r["POST disable/enable user"], admin.form, "/admin/users/bench1/active", {"active": str(i % 2)})
        password = {"password": f"bench-pass-{i}"}
        timed(r["POST reset password"], admin.form, "/admin/users/bench1/password", password)
        dept = {"code": f"9{i:03d}", "name": f"基准部门{i}"}
        timed(r["POST add department"], admin.form, "/admin/departments", dept)
        old, new = ("基准部门0", "基准部门零") if i % 2 == 0 else ("基准部门零", "基准部门0")
        rename = {"name": new, "expected": old}
        timed(r["POST rename department"], admin.form, "/admin/departments/9000/name", rename)
        active = {"active": str(i % 2)}
        timed(r["POST disable/enable department"], admin.form, "/admin/departments/9000/active", active)
    routes.extend(r.values())


def measure_sign_in(base: str, n: int, routes: list[Route]) -> None:
    """Time signing in (an argon2 verification) `n` times, each from a new browser."""
    route = Route("reviewer", "POST /login")
    for _ in range(n):
        client = Client(base)
        client.csrf = _token(client.send("GET", "/login")[1])
        form = {"username": "reviewer", "password": PASSWORDS["reviewer"]}
        timed(route, client.form, "/login", form, htmx=False)
    routes.append(route)


# --- running and reporting -----------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Build, serve, measure, print and record; return the exit status."""
    parser = argparse.ArgumentParser(description="time every signed-in page and action on the demo data")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--requests", type=int, default=50, help="measured requests per route")
    parser.add_argument("--budget-ms", type=float, default=100.0)
    args = parser.parse_args(argv)
    url: str = args.database_url
    tokens = build(url)
    routes: list[Route] = []
    loads = [os.getloadavg()]
    # no scheduler: a publication scheduled for today must stay scheduled while it is measured
    with load.server(url, {"GUIDECAT_SCHEDULER": "0"}) as base:
        drafts = prepare_drafts(base, url, tokens)
        clients = {role: Client(base) for role in PASSWORDS}
        for role, client in clients.items():
            client.sign_in(role)
        skipped = measure_pages(clients, drafts, args.requests, routes)
        measure_actions(clients["admin"], args.requests, routes)
        measure_sign_in(base, min(args.requests, 20), routes)
    loads.append(os.getloadavg())
    return report(url, routes, skipped, args.budget_ms, loads)


def report(
    url: str, routes: list[Route], skipped: list[str], budget: float, loads: list[tuple[float, float, float]]
) -> int:
    rows = sorted(((r, r.summary()) for r in routes), key=lambda rs: rs[1]["p95"], reverse=True)
    print(
        f"\n{benchdb.display(url)} — 1 uvicorn worker, sequential keep-alive requests, client-side wall time"
    )
    heads = f"{'n':>4} {'min ms':>7} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}"
    print(f"{'role':<9} {'route':<44} {heads}  statuses")
    for r, s in rows:
        figures = f"{s['n']:>4} {s['min']:>7.1f} {s['median']:>10.1f} {s['p95']:>8.1f} {s['max']:>8.1f}"
        print(f"{r.role:<9} {r.name:<44} {figures}  {r.statuses}")
    for line in skipped:
        print(f"skipped (not built yet): {line}")
    slowest, s = rows[0]
    print(f"slowest: {slowest.role} {slowest.name} — median {s['median']:.1f} ms, p95 {s['p95']:.1f} ms")
    over = [f"{r.role} {r.name}" for r, s in rows if s["p95"] > budget]
    errors = [f"{r.role} {r.name} {r.statuses}" for r in routes if any(code >= 400 for code in r.statuses)]
    verdict = "met by every route" if not over else "NOT met by " + ", ".join(over)
    print(f"budget {budget:.0f} ms at p95: {verdict}")
    print(f"load average (1, 5, 15 min) before: {loads[0]}, after: {loads[1]}")
    for line in errors:
        print(f"ERROR answers: {line}", file=sys.stderr)
    _save(url, rows, skipped, budget, loads)
    return 1 if over or errors else 0


def _save(
    url: str,
    rows: list[tuple[Route, dict[str, float]]],
    skipped: list[str],
    budget: float,
    loads: list[tuple[float, float, float]],
) -> None:
    path = PROJECT_ROOT / "var" / f"bench-ui-{make_url(url).get_backend_name()}.json"
    result = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": benchdb.display(url),
        "budget_ms": budget,
        "load_average_before_after": loads,
        "routes": [
            {
                "role": r.role,
                "route": r.name,
                **{k: round(v, 2) for k, v in s.items()},
                "statuses": r.statuses,
                "samples_ms": [round(ms, 1) for ms in r.ms],  # in the order sent
            }
            for r, s in rows
        ],
        "skipped": skipped,
    }
    path.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"figures recorded in {path}")


if __name__ == "__main__":
    sys.exit(main())
