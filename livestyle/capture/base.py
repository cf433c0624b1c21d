"""What every capture source is: the ``Source`` base class and the ``Frame`` record.

A source yields ``(H, W, 3) uint8 BGR`` frames. ``live`` sources (webcams)
are paced by their hardware; the others (files, folders, synthetic) pace
themselves in software with a ``Pacer`` so a pipeline behaves the same on
every source, unless built with ``paced=False`` for offline work.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from types import TracebackType

import numpy as np

from livestyle.errors import SourceError

log = logging.getLogger(__name__)

MIN_SIZE = 64
"""Smallest width/height the pipeline can use (the U-Net downsamples by 4; the segmenter needs detail)."""

MAX_FPS = 240.0


@dataclass(frozen=True)
class Frame:
    """One captured frame.

    ``image``: ``(H, W, 3) uint8 BGR``; ``t_capture``: ``time.perf_counter()``
    seconds when the source returned it; ``index``: 0, 1, 2... per capture thread.
    """

    image: np.ndarray
    t_capture: float
    index: int


def check_size(name: str, width: int, height: int) -> None:
    """Raise ``SourceError`` if ``width x height`` is too small for the pipeline."""
    if width < MIN_SIZE or height < MIN_SIZE:
        raise SourceError(
            f"{name}: frames are {width}x{height}, smaller than the {MIN_SIZE}x{MIN_SIZE} minimum;"
            f" ask for a larger size (e.g. --width 640 --height 360)"
        )


def check_fps(name: str, fps: float) -> float:
    """Return ``fps`` as float, or raise ``SourceError`` if it is not in (0, 240]."""
    if not 0.0 < float(fps) <= MAX_FPS:
        raise SourceError(f"{name}: fps must be in (0, {MAX_FPS:g}], got {fps}")
    return float(fps)


class Pacer:
    """Sleeps so that successive ``wait()`` calls return ``fps`` times per second.

    When the caller falls behind by more than one period, the schedule restarts
    from now instead of bursting to catch up (a burst is just lag later).
    """

    def __init__(self, fps: float) -> None:
        self.period = 1.0 / fps
        self._next: float | None = None

    def wait(self) -> None:
        """Block until the next frame is due (at most one period)."""
        now = time.perf_counter()
        if self._next is None or now - self._next > self.period:
            self._next = now
        elif self._next > now:
            time.sleep(min(self._next - now, self.period))
        self._next += self.period

    def reset(self) -> None:
        """Restart the schedule at the next ``wait``."""
        self._next = None


class Source(ABC):
    """A stream of ``(H, W, 3) uint8 BGR`` frames.

    Lifecycle: ``open()`` (raises ``SourceError`` with a one-line reason),
    any number of ``read()``, ``close()`` (idempotent). ``open`` after
    ``close`` reopens (the capture thread does this to reconnect). Usable as a
    context manager (entering opens it unless already open). ``width``/``height``/``fps`` are the actual values once
    open (the requested ones before). ``warnings`` collects one-line notes
    such as "asked for 1920x1080, camera gives 1280x720".
    """

    name: str = "source"
    live: bool = False
    """True when the hardware paces ``read()`` (webcam); False when the source paces itself."""

    def __init__(self) -> None:
        self.warnings: list[str] = []
        self._is_open = False
        self._size: tuple[int, int] = (0, 0)  # actual (width, height) once open; requested before
        self._fps: float = 0.0

    @property
    def is_open(self) -> bool:
        """Whether ``open`` succeeded and ``close`` was not called since."""
        return self._is_open

    @property
    def width(self) -> int:
        """Frame width in pixels."""
        return self._size[0]

    @property
    def height(self) -> int:
        """Frame height in pixels."""
        return self._size[1]

    @property
    def fps(self) -> float:
        """Frames per second the source delivers (nominal)."""
        return self._fps

    @property
    def finished(self) -> bool:
        """True once a non-looping source has delivered its last frame."""
        return False

    def open(self) -> None:
        """Open the source; raises ``SourceError`` with a one-line reason on failure."""
        self.close()
        self._open()
        self._is_open = True

    def read(self) -> np.ndarray | None:
        """The next frame as ``(H, W, 3) uint8 BGR``, or ``None`` when no frame is available now."""
        if not self._is_open:
            raise SourceError(f"{self.name}: read() before open()")
        return self._read()

    def close(self) -> None:
        """Release the device/file; safe to call more than once."""
        if self._is_open:
            self._is_open = False
            self._close()

    def warn(self, message: str) -> None:
        """Record and log a one-line warning about this source."""
        self.warnings.append(message)
        log.warning("livestyle: warning: %s", message)  # as the CLI's own warnings read

    @abstractmethod
    def _open(self) -> None: ...

    @abstractmethod
    def _read(self) -> np.ndarray | None: ...

    @abstractmethod
    def _close(self) -> None: ...

    def __enter__(self) -> Source:
        if not self._is_open:
            self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"
