"""An output that discards frames: for benchmarks, tests and headless runs."""

from __future__ import annotations

import numpy as np

from livestyle.outputs.base import Sink


class NullSink(Sink):
    """Accepts every frame and keeps only a reference to the last one (``last``) and the count (``frames``)."""

    def __init__(self) -> None:
        super().__init__()
        self.name = "null"
        self.last: np.ndarray | None = None
        """The last ``(H, W, 3) uint8 BGR`` frame sent (not a copy)."""

    def _open(self, width: int, height: int, fps: float) -> None:
        self.last = None

    def _send(self, frame_bgr: np.ndarray, original: np.ndarray | None) -> None:
        self.last = frame_bgr

    def _close(self) -> None:
        pass  # nothing to release
