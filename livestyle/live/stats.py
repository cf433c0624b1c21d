"""Per-stage timing and latency percentiles, exposed as data (for the TUI and --stats-json)."""

from __future__ import annotations

import threading
import time
from collections import deque

import numpy as np


class StageTimer:
    """Moving averages of per-stage milliseconds plus the stylized frame rate."""

    def __init__(self, alpha: float = 0.1):
        self.alpha = alpha
        self.ms: dict[str, float] = {}
        self._lock = threading.Lock()
        self._last_t: float | None = None
        self.interval_ms = 0.0
        self.frames = 0

    def add(self, stage: str, ms: float) -> None:
        with self._lock:
            old = self.ms.get(stage)
            self.ms[stage] = ms if old is None else old + self.alpha * (ms - old)

    def frame_done(self, now: float | None = None) -> None:
        now = time.perf_counter() if now is None else now
        with self._lock:
            if self._last_t is not None:
                dt = 1000.0 * (now - self._last_t)
                self.interval_ms = dt if self.frames < 2 else self.interval_ms + self.alpha * (dt - self.interval_ms)
            self._last_t = now
            self.frames += 1

    @property
    def fps(self) -> float:
        with self._lock:
            if self._last_t is None or time.perf_counter() - self._last_t > 2.0:
                return 0.0
            return 1000.0 / self.interval_ms if self.interval_ms > 0 else 0.0

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            return {k: round(v, 2) for k, v in self.ms.items()}


class LatencyLog:
    """Recent capture-to-output latencies (seconds) with percentiles in milliseconds."""

    def __init__(self, keep: int = 2000):
        self._d: deque[float] = deque(maxlen=keep)
        self._lock = threading.Lock()

    def add(self, seconds: float) -> None:
        with self._lock:
            self._d.append(seconds)

    def clear(self) -> None:
        """Forget what was logged (measure a window from now on)."""
        with self._lock:
            self._d.clear()

    def percentiles(self) -> dict[str, float]:
        with self._lock:
            arr = np.array(self._d) if self._d else None
        if arr is None:
            return {"p50": 0.0, "p95": 0.0, "p99": 0.0}
        p = np.percentile(arr, [50, 95, 99]) * 1000.0
        return {"p50": round(float(p[0]), 2), "p95": round(float(p[1]), 2), "p99": round(float(p[2]), 2)}
