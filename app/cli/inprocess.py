"""Asking the app for one page in-process: an ASGI call with no socket and no HTTP client.

The static site is made of the live app's own answers (app.services.static_site). The body
streams into a temporary file beside the output, so a 650,000-row export keeps memory flat.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from fastapi import FastAPI

logger = logging.getLogger(__name__)


class Body:
    """An answer's bytes, written to a temporary file beside the output as they arrive."""

    def __init__(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=out, prefix=".part-")
        self.path = Path(name)
        self.file = os.fdopen(handle, "wb")
        self.final = self.path

    def write(self, chunk: bytes) -> None:
        """Append `chunk` to the answer."""
        self.file.write(chunk)

    def text(self) -> str:
        """Return the answer, once in place, as text (a page, whose links are followed)."""
        return self.final.read_text(encoding="utf-8")

    def replace(self, target: Path) -> None:
        """Put the answer at `target`, replacing any older file there in one step."""
        self.file.close()
        self.path.chmod(0o644)  # mkstemp's 0600 would hide the file from the web server's user
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.path, target)
        self.final = target

    def discard(self) -> None:
        """Drop the answer (it was not a 200)."""
        self.file.close()
        self.path.unlink(missing_ok=True)


class Call:
    """One GET asked of the ASGI app in-process, its body streamed to a file (flat memory for exports)."""

    def __init__(self, app: FastAPI, url: str) -> None:
        parts = urlsplit(url)
        self.app = app
        self.scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "https",
            "path": unquote(parts.path),
            "raw_path": parts.path.encode(),
            "query_string": parts.query.encode(),
            "root_path": "",
            "headers": [(b"host", b"static.invalid")],
            "client": ("127.0.0.1", 0),
            "server": ("static.invalid", 443),
        }
        self.status = 0
        self.kind = ""
        self.body: Body | None = None
        self._asked = False
        self._done = asyncio.Event()

    async def into(self, out: Path) -> tuple[int, str, Body | None]:
        """Ask the app; return the status, the content type and, for a 200, the body (a file under `out`)."""
        self._out = out
        try:
            await self.app(self.scope, self._receive, self._send)
        except Exception:  # the app answered 500 and re-raised: the page is reported as failed
            logger.exception("GET %s failed", self.scope["path"])
            self.status = self.status or 500
        if self.status != 200 and self.body is not None:
            self.body.discard()
            self.body = None
        return self.status, self.kind, self.body

    async def _receive(self) -> dict[str, Any]:
        if not self._asked:
            self._asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self._done.wait()  # a streaming response listens for the client leaving: it stays
        return {"type": "http.disconnect"}

    async def _send(self, message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            headers = dict(message.get("headers", []))
            self.kind = headers.get(b"content-type", b"").decode()
            if self.status == 200:
                self.body = Body(self._out)
        elif message["type"] == "http.response.body":
            if self.body is not None:
                self.body.write(message.get("body", b""))
            if not message.get("more_body", False):
                self._done.set()
