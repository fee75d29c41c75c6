"""A thread-safe least-recently-used cache bounded by the bytes its values hold, shared by every session.

Decoded photos are the dashboard's big objects: a 100 KB PNG can decode to 120 MB of RGB. ``st.cache_data`` bounds
entries, not bytes, and keeps a pickled copy besides, so a few such uploads held gigabytes. Values here are numpy
arrays made read-only, handed out without copies; a value larger than the whole budget is returned, not kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

import numpy as np


class ByteBoundedLRU:
    """``get_or_compute(key, compute)`` with at most ``max_bytes`` of arrays kept (oldest dropped first)."""

    def __init__(self, max_bytes: int) -> None:
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be > 0, got {max_bytes}")
        self.max_bytes = int(max_bytes)
        self._items: OrderedDict[Hashable, np.ndarray] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)

    def get_or_compute(self, key: Hashable, compute: Callable[[], np.ndarray]) -> np.ndarray:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()  # outside the lock: another session may decode another photo meanwhile
        value.flags.writeable = False
        if value.nbytes > self.max_bytes:
            return value
        with self._lock:
            if key not in self._items:
                self._items[key] = value
                self._bytes += value.nbytes
            while self._bytes > self.max_bytes:
                _, old = self._items.popitem(last=False)
                self._bytes -= old.nbytes
            return self._items.get(key, value)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0
