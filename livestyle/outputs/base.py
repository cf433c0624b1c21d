"""What every output is: the ``Sink`` base class and the ``OutFrame`` record the sender carries.

A sink receives ``(H, W, 3) uint8 BGR`` frames of the size it was opened
with. Its ``state`` is ``"off"``, ``"on"`` or ``"error: <one line>"`` so the
UI can show each output's health; one sink failing never stops the others
(the ``Sender`` marks it errored and goes on).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from types import TracebackType

import cv2
import numpy as np

from livestyle.errors import SinkError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutFrame:
    """A finished frame on its way out.

    ``image``: ``(H, W, 3) uint8 BGR`` (stylized); ``original``: the camera
    frame it came from, same layout, for side-by-side previews (optional);
    ``t_capture``: ``time.perf_counter()`` when the camera frame was captured,
    for end-to-end latency (optional).
    """

    image: np.ndarray
    original: np.ndarray | None = None
    t_capture: float | None = None


def check_frame(frame: np.ndarray) -> None:
    """Raise ``TypeError``/``ValueError`` unless ``frame`` is ``(H, W, 3) uint8``."""
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8:
        raise TypeError(f"expected a uint8 numpy frame, got {getattr(frame, 'dtype', type(frame).__name__)}")
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) BGR frame, got shape {frame.shape}")


class Sink(ABC):
    """An output for ``(H, W, 3) uint8 BGR`` frames: virtual camera, preview window, file...

    ``open(width, height, fps)`` raises ``SinkError`` (one line, with the fix)
    when the output cannot work; ``send`` resizes a frame of another size to
    the opened size (a source that changes resolution must not kill the
    output); ``close`` is idempotent. A context manager closes on exit.
    """

    name: str = "sink"
    close_anywhere: bool = False
    """``close`` may run on any thread and may take long (a recording's last write): the sender then closes
    it, once removed, on a thread of its own (a window is closed by the thread that drew it)."""

    def __init__(self) -> None:
        self._state = "off"
        self.size: tuple[int, int] | None = None
        """``(width, height)`` the sink was opened with."""
        self.fps = 0.0
        self.frames = 0
        """Frames sent since ``open``."""

    @property
    def state(self) -> str:
        """``"off"``, ``"on"`` or ``"error: <reason>"``."""
        return self._state

    @property
    def is_on(self) -> bool:
        return self._state == "on"

    def open(self, width: int, height: int, fps: float) -> None:
        """Start the output for ``width x height`` frames at about ``fps``; raises ``SinkError``."""
        if width < 2 or height < 2 or fps <= 0:
            raise ValueError(f"{self.name}: bad output format {width}x{height} @ {fps} fps")
        self.close()
        try:
            self._open(int(width), int(height), float(fps))
        except SinkError as err:
            self._state = f"error: {err}"
            raise
        self.size = (int(width), int(height))
        self.fps = float(fps)
        self.frames = 0
        self._state = "on"

    def send(self, frame_bgr: np.ndarray, original: np.ndarray | None = None) -> None:
        """Output one ``(H, W, 3) uint8 BGR`` frame (``original``: the camera frame, for previews)."""
        if self._state != "on" or self.size is None:
            raise SinkError(f"{self.name}: send() while {self._state}")
        check_frame(frame_bgr)
        w, h = self.size
        if frame_bgr.shape[:2] != (h, w):
            frame_bgr = cv2.resize(frame_bgr, (w, h), interpolation=cv2.INTER_LINEAR)
        self._send(frame_bgr, original)
        self.frames += 1

    def close(self) -> None:
        """Stop the output and release it; keeps an error state visible."""
        if self._state == "off":
            return
        try:
            self._close()
        finally:
            if self._state == "on":
                self._state = "off"

    def mark_error(self, reason: str) -> None:
        """Put the sink in ``"error: reason"`` state and release it (used by the sender)."""
        try:
            self._close()
        except Exception as err:  # already failing: keep the first reason
            log.warning("%s: close after error failed: %s", self.name, err)
        self._state = f"error: {reason}"

    @abstractmethod
    def _open(self, width: int, height: int, fps: float) -> None: ...

    @abstractmethod
    def _send(self, frame_bgr: np.ndarray, original: np.ndarray | None) -> None: ...

    @abstractmethod
    def _close(self) -> None: ...

    def __enter__(self) -> Sink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self._state!r})"
