"""Plumbing between live stages: a one-item "latest" slot and a rate meter.

A FIFO between a camera and a slow consumer grows without bound, and every
frame it holds is a frame of lag (OpenCV issue #13145 is the camera-side
version of the same problem). The slot holds at most one item: a ``put``
replaces the waiting item and counts a drop, so the consumer always gets the
newest frame and lag never grows.
"""

from __future__ import annotations

import threading
import time
from typing import Generic, TypeVar

T = TypeVar("T")


class LatestSlot(Generic[T]):
    """A thread-safe one-item slot that keeps only the newest item.

    ``put`` never blocks. ``get`` waits (up to a timeout) for an item newer
    than the last one taken by any consumer. ``close`` wakes every waiter;
    after it, ``get`` returns ``None`` at once and ``put`` is ignored.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: T | None = None
        self._seq = 0  # number of items put so far; the waiting item has number _seq
        self._taken = 0  # sequence number of the last item handed out by get()
        self._closed = False
        self.drops = 0
        """Items replaced before any consumer took them."""

    def put(self, item: T) -> None:
        """Store ``item`` as the newest; an item not yet taken is dropped (and counted)."""
        with self._cond:
            if self._closed:
                return
            if self._seq > self._taken:
                self.drops += 1
            self._item = item
            self._seq += 1
            self._cond.notify_all()

    def get(self, timeout: float) -> T | None:
        """Take the newest item if it is newer than the last one taken.

        Waits at most ``timeout`` seconds (``0`` = do not wait). Returns
        ``None`` on timeout or when the slot is closed.
        """
        with self._cond:
            self._cond.wait_for(lambda: self._closed or self._seq > self._taken, timeout)
            if self._closed or self._seq <= self._taken:
                return None
            self._taken = self._seq
            return self._item

    def peek(self) -> T | None:
        """The newest item (taken or not) without consuming it; ``None`` if none yet."""
        with self._cond:
            return self._item

    @property
    def seq(self) -> int:
        """How many items have been put so far (0 = empty)."""
        with self._cond:
            return self._seq

    @property
    def closed(self) -> bool:
        """Whether ``close`` was called."""
        with self._cond:
            return self._closed

    def close(self) -> None:
        """Close the slot and wake every waiting ``get`` (which returns ``None``)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class RateMeter:
    """Events per second as an exponential moving average of the interval between ticks.

    ``alpha`` is the weight of the newest interval (pyvirtualcam uses 0.2).
    Not thread-safe: one thread ticks; readers see a float (atomic in CPython).
    """

    def __init__(self, alpha: float = 0.1) -> None:
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"alpha must be in (0, 1], got {alpha}")
        self.alpha = alpha
        self._last: float | None = None
        self._interval: float | None = None

    def tick(self, now: float | None = None) -> None:
        """Record one event at ``now`` (``time.perf_counter()`` seconds; default: now)."""
        now = time.perf_counter() if now is None else now
        if self._last is not None:
            dt = max(now - self._last, 1e-9)
            if self._interval is None:
                self._interval = dt
            else:
                self._interval += self.alpha * (dt - self._interval)
        self._last = now

    @property
    def rate(self) -> float:
        """Events per second; 0.0 until two ticks were seen."""
        return 0.0 if self._interval is None else 1.0 / self._interval

    def reset(self) -> None:
        """Forget the history (e.g. after a reconnect)."""
        self._last = None
        self._interval = None
