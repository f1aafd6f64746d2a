"""The one time-limited cache behind the tenant cache, revocation list, verified tokens and keyring."""

import threading

from townhall.cache import Configured, TimedCache
from townhall.invalidation import UNHEARD_SECONDS, Unheard


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_lives_its_configured_time_from_the_start_of_its_read() -> None:
    clock = Clock()
    cache: TimedCache[str, int] = TimedCache(5, Configured(), clock)
    read = cache.begin()
    clock.now += 1  # the read took a second
    cache.put("aalst", 1, read)
    clock.now += 3.99
    assert cache.get("aalst") == 1
    clock.now += 0.01
    assert cache.get("aalst") is None


def test_the_freshness_can_shorten_the_lifetime() -> None:
    clock = Clock()
    cache: TimedCache[str, int] = TimedCache(30, Unheard(), clock)
    cache.put("aalst", 1)
    clock.now += UNHEARD_SECONDS
    assert cache.get("aalst") is None


def test_a_zero_lifetime_keeps_nothing() -> None:
    cache: TimedCache[str, int] = TimedCache(0)
    cache.put("aalst", 1)
    assert cache.get("aalst") is None and len(cache) == 0


def test_a_bounded_cache_forgets_its_oldest_entry_first() -> None:
    cache: TimedCache[int, int] = TimedCache(60, max_entries=3)
    for key in range(5):
        cache.put(key, key)
    assert len(cache) == 3
    assert [cache.get(key) for key in range(5)] == [None, None, 2, 3, 4]
    cache.put(4, 40)  # replacing an entry takes no room
    assert len(cache) == 3 and cache.get(2) == 2 and cache.get(4) == 40


def test_forget_and_clear_drop_entries_and_reads_that_began_before() -> None:
    clock = Clock()
    cache: TimedCache[str, int] = TimedCache(60, clock=clock)
    cache.put("aalst", 1)
    cache.put("gent", 2)
    slow = cache.begin()
    clock.now += 0.1
    cache.forget("aalst")
    assert cache.get("aalst") is None and cache.get("gent") == 2
    cache.put("aalst", 1, slow)  # read before the change: not kept
    assert cache.get("aalst") is None
    cache.clear()
    assert cache.get("gent") is None
    clock.now += 0.1
    cache.put("gent", 3)
    assert cache.get("gent") == 3


def test_concurrent_writers_keep_the_bound() -> None:
    cache: TimedCache[tuple[int, int], int] = TimedCache(60, max_entries=100)

    def fill(worker: int) -> None:
        for key in range(1_000):
            cache.put((worker, key), key)

    threads = [threading.Thread(target=fill, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(cache) == 100
