"""A small, thread-safe cache of values computed from an immutable object.

Criteria, versions and tables are frozen dataclasses: what is computed from
one (its compiled tables, its periods in force, its test results) stays true
for as long as the object lives. The cache is keyed by the object's identity
and holds the object itself, so an id reused after garbage collection never
returns another object's value. The oldest entries go first once full.

Web servers run requests in threads: reads take no lock (a dict lookup is
atomic), writes take one, so two threads filling the cache at once neither
lose an entry nor evict the same one twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

_V = TypeVar("_V")


class IdentityCache(Generic[_V]):
    """`get(obj, make)`: the value made from `obj` (and `key`), made once per object."""

    __slots__ = ("_entries", "_lock", "_size")

    def __init__(self, size: int = 512) -> None:
        if size < 1:
            raise ValueError("an IdentityCache holds at least one entry")
        self._size = size
        self._entries: dict[tuple[int, Hashable], tuple[object, _V]] = {}
        self._lock = threading.Lock()

    def get(self, obj: object, make: Callable[[], _V], key: Hashable = None) -> _V:
        slot = (id(obj), key)
        found = self._entries.get(slot)
        if found is not None and found[0] is obj:
            return found[1]
        value = make()  # outside the lock: making may be slow and may use the cache itself
        with self._lock:
            entries = self._entries
            entries.pop(slot, None)  # re-inserted below, as the newest
            while len(entries) >= self._size:
                del entries[next(iter(entries))]
            entries[slot] = (obj, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
