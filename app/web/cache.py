"""A bounded in-process cache of rendered bytes for content that can never change.

Only pages of published (immutable) versions are cached, keyed by the version's id: a
published version's content is fixed for ever, so an entry is never stale.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Hashable

from app import __version__


class PageCache:
    """Least-recently-used map from a key to rendered bytes, bounded by total size."""

    def __init__(self, max_bytes: int) -> None:
        self._max = max_bytes
        self._size = 0
        self._items: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        """Return the bytes cached under `key`, or None."""
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
            return body

    def put(self, key: Hashable, body: bytes) -> None:
        """Remember `body` under `key`, evicting the least recently used entries past the bound."""
        if len(body) > self._max:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= len(old)
            self._items[key] = body
            self._size += len(body)
            while self._size > self._max:
                _, evicted = self._items.popitem(last=False)
                self._size -= len(evicted)


def strong_etag(*parts: object) -> str:
    """Return a strong ETag for immutable content identified by `parts` and this release."""
    digest = hashlib.sha256("|".join(map(str, (__version__, *parts))).encode()).hexdigest()[:32]
    return f'"{digest}"'


IMMUTABLE = "public, max-age=31536000, immutable"
