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


# Say once when the stylized frames stay below this share of the camera's for SLOW_WINDOW_S seconds in which a
# network ran and no training shared the CPU (a size the machine does not keep up with: e.g. 1280x720 at full size
# on a 2-core laptop, 9.7-10.9 of 30 fps on the AMD EPYC dev CPU, where `livestyle calibrate` finds 30).
SLOW_SHARE = 0.8
SLOW_WINDOW_S = 10.0
SLOW_FIX = ("run `livestyle calibrate` (live then uses the settings it measured on this machine), or try "
            "--render-scale 0.5 or a smaller --width/--height")


class SlowWatch:
    """Notices a stylized rate that stays below the camera's. ``update`` takes a sample per poll and returns
    a one-line warning, once, when over the last ``window_s`` seconds (all of them with a network running and
    no training: ``settled``) fewer than ``share`` of the camera's frames were stylized; None otherwise."""

    def __init__(self, share: float | None = None, window_s: float | None = None, fix: str = SLOW_FIX) -> None:
        self.share = SLOW_SHARE if share is None else share
        self.fix = fix  # the second half of the line: what to do (the command line's flags, the TUI's key)
        self.window_s = SLOW_WINDOW_S if window_s is None else window_s
        self._samples: deque[tuple[float, int, int]] = deque()  # (time s, stylized frames, camera frames)
        self.said = False

    def update(self, t: float, stylized: int, camera: int, settled: bool) -> str | None:
        if self.said:
            return None
        if not settled:  # no network yet, or training: the window starts again
            self._samples.clear()
            return None
        self._samples.append((t, stylized, camera))
        while len(self._samples) > 2 and t - self._samples[1][0] >= self.window_s:
            self._samples.popleft()
        t0, s0, c0 = self._samples[0]
        if t - t0 < self.window_s:
            return None
        got, cam = (stylized - s0) / (t - t0), (camera - c0) / (t - t0)
        if cam <= 0 or got >= self.share * cam:
            return None
        self.said = True
        return f"stylizing {got:.1f} of the camera's {cam:.1f} frames per second: {self.fix}"
