"""The capture thread: source -> ``LatestSlot[Frame]``, surviving unplugged cameras.

A read that raises, returns ``None`` or returns garbage (wrong type, dtype
or shape) counts as a bad read; ``max_bad_reads`` in a row put the thread in
state ``"reconnecting"``: it closes the source and reopens it with
exponential backoff (0.25 s, 0.5 s, ... capped at 4 s) until it works or the
stop event is set. Nothing is ever raised out of the thread: state and the
last error are exposed through ``stats()`` for the UI.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import numpy as np

from livestyle.capture.base import Frame, Source
from livestyle.live.slot import LatestSlot, RateMeter

log = logging.getLogger(__name__)

STATES = ("starting", "running", "reconnecting", "finished", "stopped", "crashed")


@dataclass(frozen=True)
class CaptureStats:
    """A snapshot of the capture thread for the UI (all counts since the thread started)."""

    state: str
    """One of ``STATES``: starting, running, reconnecting, finished (a non-looping source ended), stopped, crashed."""
    source: str
    width: int
    height: int
    nominal_fps: float
    """Frame rate the source claims."""
    fps: float
    """Measured frames per second (moving average); 0.0 until two frames came."""
    frames: int
    """Frames put into the slot."""
    drops: int
    """Frames replaced in the slot before the consumer took them."""
    bad_reads: int
    reconnects: int
    """Successful reopens after a fault."""
    last_error: str | None
    retry_in_s: float
    """Backoff before the next reopen attempt (0.0 unless reconnecting)."""


class CaptureThread(threading.Thread):
    """Reads ``source`` into ``slot`` as ``Frame`` records until ``stop_event`` is set.

    The source may be given open (so that the caller saw its ``SourceError``)
    or closed (the thread opens it, retrying with backoff). The thread closes
    it on exit. Backoff waits use ``stop_event.wait`` so a stop is honoured
    at once; a read blocks at most about one frame period (or the camera's
    read timeout).
    """

    def __init__(
        self,
        source: Source,
        slot: LatestSlot[Frame],
        stop_event: threading.Event,
        *,
        backoff_start: float = 0.25,
        backoff_max: float = 4.0,
        max_bad_reads: int = 3,
    ) -> None:
        super().__init__(name=f"capture[{source.name}]", daemon=True)
        if not 0.0 < backoff_start <= backoff_max:
            raise ValueError(f"need 0 < backoff_start <= backoff_max, got {backoff_start}, {backoff_max}")
        if max_bad_reads < 1:
            raise ValueError(f"max_bad_reads must be >= 1, got {max_bad_reads}")
        self.source = source
        self.slot = slot
        self._stop_event = stop_event
        self.backoff_start = backoff_start
        self.backoff_max = backoff_max
        self.max_bad_reads = max_bad_reads
        self._lock = threading.Lock()
        self._state = "starting"
        self._frames = 0
        self._bad_reads = 0
        self._bad_in_row = 0
        self._reconnects = 0
        self._last_error: str | None = None
        self._retry_in = 0.0
        self._meter = RateMeter()

    def stats(self) -> CaptureStats:
        """A consistent snapshot of the thread's state and counters."""
        with self._lock:
            return CaptureStats(
                state=self._state,
                source=self.source.name,
                width=self.source.width,
                height=self.source.height,
                nominal_fps=self.source.fps,
                fps=self._meter.rate,
                frames=self._frames,
                drops=self.slot.drops,
                bad_reads=self._bad_reads,
                reconnects=self._reconnects,
                last_error=self._last_error,
                retry_in_s=self._retry_in,
            )

    def stop(self, timeout: float = 2.0) -> bool:
        """Set the stop event and wait up to ``timeout`` s; True if the thread ended."""
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout)
        return not self.is_alive()

    def _set(self, **fields: object) -> None:
        with self._lock:
            for key, value in fields.items():
                setattr(self, f"_{key}", value)

    def run(self) -> None:
        try:
            self._loop()
        except Exception as err:  # a bug of ours must reach the UI (the session says it), not vanish with the thread
            log.debug("capture thread crashed", exc_info=True)
            self._set(state="crashed", last_error=f"{type(err).__name__}: {err}")
        finally:
            self._safe_close()
            with self._lock:
                if self._state not in ("finished", "crashed"):
                    self._state = "stopped"

    def _loop(self) -> None:
        if not self.source.is_open and not self._connect(first_delay=0.0):
            return
        self._set(state="running")
        while not self._stop_event.is_set():
            try:
                image = self.source.read()
            except Exception as err:
                self._bad(f"read failed: {type(err).__name__}: {err}")
            else:
                if image is None and self.source.finished:
                    self._set(state="finished")
                    return
                problem = self._check(image)
                if problem is None:
                    self._deliver(image)  # type: ignore[arg-type]
                    continue
                self._bad(problem)
            if self._bad_in_row >= self.max_bad_reads:
                self._set(state="reconnecting")
                self._safe_close()
                if not self._connect(first_delay=self.backoff_start):
                    return
                self._set(state="running")

    def _check(self, image: object) -> str | None:
        """Why ``image`` is not a usable ``(H, W, 3) uint8`` frame of the source's size, or None."""
        if image is None:
            return "the source returned no frame"
        if not isinstance(image, np.ndarray):
            return f"the source returned {type(image).__name__}, not an image"
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            return f"the source returned a {image.dtype} array of shape {image.shape}, not (H, W, 3) uint8"
        expected = (self.source.height, self.source.width)
        if image.shape[:2] != expected:
            return f"the source returned {image.shape[1]}x{image.shape[0]} frames, expected {expected[1]}x{expected[0]}"
        return None

    def _deliver(self, image: np.ndarray) -> None:
        now = time.perf_counter()
        with self._lock:
            index = self._frames
            self._frames += 1
            self._bad_in_row = 0
            self._meter.tick(now)
        self.slot.put(Frame(image=image, t_capture=now, index=index))

    def _bad(self, reason: str) -> None:
        with self._lock:
            self._bad_reads += 1
            self._bad_in_row += 1
            self._last_error = reason
        log.debug("%s: %s", self.source.name, reason)  # the session says it once, when the source is lost

    def _connect(self, first_delay: float) -> bool:
        """(Re)open the source with exponential backoff; False if stopped first."""
        delay = first_delay
        while True:
            if delay > 0.0:
                self._set(retry_in=delay)
                if self._stop_event.wait(delay):
                    return False
            elif self._stop_event.is_set():
                return False
            try:
                self.source.open()
            except Exception as err:
                self._set(state="reconnecting", last_error=f"open failed: {err}")
                delay = min(max(delay * 2.0, self.backoff_start), self.backoff_max)
                continue
            with self._lock:
                if self._frames or self._bad_reads:
                    self._reconnects += 1
                self._bad_in_row = 0
                self._retry_in = 0.0
                self._meter.reset()
            return True

    def _safe_close(self) -> None:
        try:
            self.source.close()
        except Exception as err:
            log.warning("%s: close failed: %s", self.source.name, err)
