"""The paced output thread: latest finished frame -> every sink, at a steady frame rate.

The sender, not the stylizer, sets the output pace: time is cut into frame
intervals of ``1/fps`` and exactly one frame goes out per interval. A new
frame is sent the moment it arrives (no waiting for a tick: that would add
half a frame of latency on average) unless this interval already sent one,
in which case it goes out at the start of the next. When nothing new came
during a whole interval (the stylizer is late because training hogs the
CPU) the previous frame is sent again and counted as a repeat, so a video
call never sees the camera freeze (Linux-Fake-Background-Webcam's sender
repeats frames the same way). A sink that raises is marked errored and
skipped; the others go on. A sink removed while running whose close is slow
(``Sink.close_anywhere``: a recording, rewritten as a plain MP4 when it stops,
seconds for a long take) is closed on a thread of its own, so the other outputs
never freeze; the sender ends only once those closes are done.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from livestyle.live.slot import LatestSlot, RateMeter
from livestyle.outputs.base import OutFrame, Sink

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SenderStats:
    """A snapshot of the sender for the UI (counts since start)."""

    fps: float
    """Measured output frames per second (moving average)."""
    target_fps: float
    sent: int
    """Ticks on which a frame went out (new or repeated)."""
    new: int
    """Distinct frames taken from the slot."""
    repeats: int
    """Ticks that re-sent the previous frame because no new one came."""
    latency_ms: float
    """Capture-to-send time of new frames (moving average; 0.0 when frames carry no ``t_capture``)."""
    sinks: tuple[tuple[str, str], ...]
    """``(name, state)`` per sink."""
    running: bool


class Sender(threading.Thread):
    """Sends the newest item of ``slot`` to every sink ``fps`` times per second until ``stop_event``.

    Slot items are ``OutFrame`` or a bare ``(H, W, 3) uint8 BGR`` array. The
    sinks must be open; the sender owns them from ``start()`` on and closes
    them when it ends (GUI windows must be closed by the thread that drew
    them).
    """

    def __init__(
        self,
        slot: LatestSlot[OutFrame] | LatestSlot[np.ndarray],
        sinks: Sequence[Sink],
        fps: float,
        stop_event: threading.Event,
        on_error: Callable[[Sink, str], None] | None = None,
    ) -> None:
        super().__init__(name="sender", daemon=True)
        if not 0.0 < fps <= 240.0:
            raise ValueError(f"fps must be in (0, 240], got {fps}")
        self.slot = slot
        self.sinks = list(sinks)
        self.target_fps = float(fps)
        self._stop_event = stop_event
        self._on_error = on_error
        """Told ``(sink, reason)`` when a sink fails to send or to close (e.g. a recording that cannot be
        finished), from the sender's thread or a thread closing a removed sink."""
        self._lock = threading.Lock()
        self._sent = 0
        self._new = 0
        self._repeats = 0
        self._latency: float | None = None
        self._latencies: deque[float] = deque(maxlen=4096)
        self._to_close: list[Sink] = []
        self._closers: list[threading.Thread] = []  # closing removed sinks (``Sink.close_anywhere``)
        self._meter = RateMeter()

    def stats(self) -> SenderStats:
        """A consistent snapshot of counters and per-sink states."""
        with self._lock:
            return SenderStats(
                fps=self._meter.rate,
                target_fps=self.target_fps,
                sent=self._sent,
                new=self._new,
                repeats=self._repeats,
                latency_ms=0.0 if self._latency is None else 1000.0 * self._latency,
                sinks=tuple((s.name, s.state) for s in self.sinks),
                running=self.is_alive(),
            )

    @property
    def closing(self) -> bool:
        """True while a removed sink is still being closed on a thread of its own (a recording's last write)."""
        return any(th.is_alive() for th in self._closers)

    def drain_latencies(self) -> list[float]:
        """Capture-to-send seconds of every new frame since the last call (for percentiles)."""
        with self._lock:
            out = list(self._latencies)
            self._latencies.clear()
        return out

    def add_sink(self, sink: Sink) -> None:
        """Attach an opened sink while running (e.g. start recording)."""
        with self._lock:
            self.sinks = [*self.sinks, sink]

    def remove_sink(self, name_prefix: str) -> bool:
        """Detach and close the first sink whose name starts with ``name_prefix``; False if none."""
        with self._lock:
            match = next((s for s in self.sinks if s.name.startswith(name_prefix)), None)
            if match is None:
                return False
            self.sinks = [s for s in self.sinks if s is not match]
            if self.is_alive():  # the sender closes it between ticks, never mid-send
                self._to_close.append(match)
                return True
        match.close()
        return True

    def stop(self, timeout: float = 2.0) -> bool:
        """Set the stop event and wait up to ``timeout`` s; True if the thread ended."""
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout)
        return not self.is_alive()

    def run(self) -> None:
        period = 1.0 / self.target_fps
        last: OutFrame | None = None
        start = time.perf_counter()  # of the current frame interval
        sent = False  # whether this interval has sent its frame
        try:
            while not self._stop_event.is_set():
                end = start + period
                now = time.perf_counter()
                if not sent:  # wait for a new frame until the interval ends
                    item = self.slot.get(timeout=max(0.0, end - now))
                    if item is not None:
                        last = item if isinstance(item, OutFrame) else OutFrame(image=item)
                        self._send_all(last, fresh=True)
                        sent = True
                        continue
                    self._stop_event.wait(max(0.0, end - time.perf_counter()))  # a closed slot returns early
                    if last is not None and not self._stop_event.is_set():
                        self._send_all(last, fresh=False)  # nothing new for a whole interval
                else:
                    self._stop_event.wait(max(0.0, end - now))
                self._close_removed()
                start, sent = end, False
                if time.perf_counter() - start > period:  # fell behind (a slow sink): no burst
                    start = time.perf_counter()
        finally:
            self._close_removed()
            for sink in self.sinks:
                self._close(sink)  # closing must reach every sink
            for th in self._closers:
                th.join()  # a recording stopped a moment ago is still being written

    def _close_removed(self) -> None:
        with self._lock:
            done, self._to_close = self._to_close, []
            self._closers = [th for th in self._closers if th.is_alive()]
        for sink in done:
            if sink.close_anywhere:  # seconds for a long recording: the other outputs go on meanwhile
                th = threading.Thread(target=self._close, args=(sink,), name=f"close {sink.name}", daemon=True)
                self._closers.append(th)
                th.start()
            else:
                self._close(sink)

    def _close(self, sink: Sink) -> None:
        try:
            sink.close()
        except Exception as err:  # closing one output must not stop the others
            self._failed(sink, f"close failed: {err}")

    def _failed(self, sink: Sink, reason: str) -> None:
        """Mark ``sink`` failed and tell the listener (the session: one event, one line); logged only without one
        (logged as well, the command line printed every failure twice)."""
        sink.mark_error(reason)
        if self._on_error is None:
            log.error("%s failed, disabling it: %s", sink.name, reason)
            return
        try:
            self._on_error(sink, reason)
        except Exception as err:  # a broken listener must not stop the output
            log.error("sender: error listener failed: %s", err)

    def _send_all(self, frame: OutFrame, fresh: bool) -> None:
        with self._lock:
            sinks = list(self.sinks)
        for sink in sinks:
            if not sink.is_on:
                continue
            try:
                sink.send(frame.image, frame.original)
            except Exception as err:  # one broken output must never take the others down
                reason = f"{type(err).__name__}: {err}".splitlines()[0]
                self._failed(sink, reason)
        now = time.perf_counter()
        with self._lock:
            self._sent += 1
            self._meter.tick(now)
            if fresh:
                self._new += 1
                if frame.t_capture is not None:
                    lat = now - frame.t_capture
                    self._latencies.append(lat)
                    self._latency = lat if self._latency is None else self._latency + 0.1 * (lat - self._latency)
            else:
                self._repeats += 1
