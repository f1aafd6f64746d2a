"""Run the same work in many threads released at once, to make them race."""

import threading
from collections.abc import Callable
from typing import Any


def in_parallel(count: int, work: Callable[[], Any]) -> list[Any]:
    results: list[Any] = [None] * count
    start = threading.Barrier(count)

    def run(index: int) -> None:
        start.wait()
        results[index] = work()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results
