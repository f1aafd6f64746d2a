"""The worker's heartbeat: a file whose modification time says when the worker last made progress
(the database answered, a batch was handled). `townhall worker --check` reads it, so a container
health check can tell a stuck or cut-off worker from a busy one without an HTTP port."""

import socket
import time
from pathlib import Path

from api.settings import Settings

# A batch is at most 200 deliveries over the worker's threads, each at most 10 s: well under this.
MAX_AGE_SECONDS = 300
# Beats closer together than this only touch the file again for nothing.
MIN_INTERVAL_SECONDS = 5.0


class Heartbeat:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._last = 0.0

    @classmethod
    def of_worker(cls, settings: Settings) -> "Heartbeat":
        """One file per host: each container (or machine) checks its own worker."""
        return cls(settings.instance_path / f"worker-{socket.gethostname()}.heartbeat")

    def beat(self) -> None:
        now = time.monotonic()
        if self._last and now - self._last < MIN_INTERVAL_SECONDS:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch()
        self._last = now

    def age(self) -> float | None:
        """Seconds since the last beat, or None when there never was one."""
        try:
            return max(0.0, time.time() - self.path.stat().st_mtime)
        except FileNotFoundError:
            return None
