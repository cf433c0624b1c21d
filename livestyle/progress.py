"""A dependency-free progress bar on stderr (redraws in place on a TTY, prints lines otherwise)."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, total: int | None, label: str, unit: str = "it", stream=None, every: float = 0.2):
        self.total, self.label, self.unit = total, label, unit
        self.stream = stream or sys.stderr
        self.tty = getattr(self.stream, "isatty", lambda: False)()
        self.every = every if self.tty else 2.0
        self.t0 = time.perf_counter()
        self._last = 0.0

    def update(self, n: int, extra: str = "", force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self._last < self.every:
            return
        self._last = now
        elapsed = now - self.t0
        if self.total:
            frac = min(1.0, n / self.total)
            bar = "#" * int(24 * frac) + "-" * (24 - int(24 * frac))
            head = f"{self.label} [{bar}] {n}/{self.total} {self.unit}"
        else:
            head = f"{self.label} {n} {self.unit}"
        line = f"{head}  {elapsed:5.1f}s  {extra}".rstrip()
        if self.tty:
            self.stream.write("\r\x1b[2K" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self, n: int, extra: str = "") -> None:
        self.update(n, extra, force=True)
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
