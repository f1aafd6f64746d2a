"""One time-limited, per-process cache for facts that every request needs and that rarely change.

A `TimedCache` keeps each entry for `freshness.lifetime(ttl)` from the moment its read began: the
configured time as it is (`Configured`), or less while changes cannot be heard (`townhall.invalidation`,
ADR 0010). An entry is never replaced by one read before it, nor kept when its key was invalidated
while it was being read: once a process has seen a change it does not go back. A cache that may be
fed by callers (tokens, say) takes `max_entries`, and then forgets its oldest entry to take a new one.
A `ttl` of zero (or less) turns the cache off.
"""

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Freshness(Protocol):
    def lifetime(self, ttl: float) -> float:
        """How long an entry may be trusted now, given the cache's configured time."""


class Configured:
    """Trust the configured time as it is (a cache no change notice concerns, or one used alone)."""

    def lifetime(self, ttl: float) -> float:
        return ttl


@dataclass(frozen=True)
class Read:
    """When a read for the cache began: its result is kept only if nothing was invalidated since."""

    at: float


class TimedCache(Generic[K, V]):
    """Entries live `freshness.lifetime(ttl)` seconds from the start of their read; thread-safe."""

    def __init__(self, ttl: float, freshness: Freshness | None = None,
                 clock: Callable[[], float] = time.monotonic, max_entries: int | None = None) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._freshness = freshness or Configured()
        self._clock = clock
        self._entries: dict[K, tuple[float, V]] = {}
        self._invalidated_at = float("-inf")
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> V | None:
        if self.ttl <= 0:
            return None
        lifetime = self._freshness.lifetime(self.ttl)  # a listener starts at its first use
        found = self._entries.get(key)
        if found is None or found[0] + lifetime <= self._clock():
            return None
        return found[1]

    def begin(self, since: float | None = None) -> Read:
        """A read starts; `since`: when its transaction began, if earlier (a SQLite transaction reads
        the database as it was at its first statement, however late this read comes)."""
        now = self._clock()
        return Read(now if since is None else min(now, since))

    def put(self, key: K, value: V, read: Read | None = None) -> None:
        """Keep `value`, read since `read` began (default: just now, for values nothing invalidates)."""
        if self.ttl <= 0:
            return
        read = read or self.begin()
        with self._lock:
            if read.at <= self._invalidated_at:
                return  # something was invalidated while this was read: it may predate the change
            current = self._entries.get(key)
            if current is not None and current[0] > read.at:
                return  # never an older read over a newer one
            if current is None and self.max_entries is not None and len(self._entries) >= self.max_entries:
                del self._entries[next(iter(self._entries))]  # bounded memory: the oldest entry goes
            self._entries[key] = (read.at, value)

    def forget(self, key: K) -> None:
        with self._lock:
            self._invalidated_at = self._clock()
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._invalidated_at = self._clock()
            self._entries.clear()
