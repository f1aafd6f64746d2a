"""Progress of long commands: a bar redrawn in place on a terminal, a line every tenth otherwise
(CI logs and cron mail stay short)."""

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self.label, self.total, self.done = label, max(total, 0), 0
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty()
        self.started = time.monotonic()
        self._shown = -1

    def update(self, amount: int) -> None:
        self.done = min(self.total, self.done + amount)
        steps = 50 if self.interactive else 10
        step = steps if self.total == 0 else self.done * steps // self.total
        if step == self._shown:
            return
        self._shown = step
        elapsed = time.monotonic() - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate else 0.0
        numbers = f"{self.done:,}/{self.total:,} {self.label}, {rate:,.0f}/s, {left:.0f} s left"
        if self.interactive:
            self.stream.write(f"\r[{'#' * step}{'.' * (steps - step)}] {numbers}")
            if step == steps:
                self.stream.write("\n")
        else:
            self.stream.write(f"{step * 100 // steps:3d} % {numbers}\n")
        self.stream.flush()
