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
    """Least-recently-used map from a key to a value of a given size in bytes, bounded by total size."""

    def __init__(self, max_bytes: int) -> None:
        self._max = max_bytes
        self._size = 0
        self._items: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> object | None:
        """Return the value cached under `key`, or None."""
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
            return found[0]

    def put(self, key: Hashable, value: object, size: int) -> None:
        """Remember `value` (of `size` bytes) under `key`, evicting the least recently used past the bound."""
        if size > self._max:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= old[1]
            self._items[key] = (value, size)
            self._size += size
            while self._size > self._max:
                _, (_, evicted) = self._items.popitem(last=False)
                self._size -= evicted


def strong_etag(*parts: object) -> str:
    """Return a strong ETag for immutable content identified by `parts` and this release."""
    digest = hashlib.sha256("|".join(map(str, (__version__, *parts))).encode()).hexdigest()[:32]
    return f'"{digest}"'


IMMUTABLE = "public, max-age=31536000, immutable"
