"""Shared by the control tests: a small live config, a wait, an output that keeps what it is sent."""

from __future__ import annotations

import threading
import time

import numpy as np

from livestyle.live.session import LiveSession
from livestyle.outputs.base import Sink

SMALL = dict(width=160, height=96, fps=20.0, train=False, denoise=False, carry=0.0, steady=0.0)


def wait_until(cond, timeout: float = 30.0, step: float = 0.02) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(step)
    return False


class Collect(Sink):
    """An output that keeps what the sender hands it: ``(frame, original)`` pairs (the edge of the world)."""

    name = "collect"

    def __init__(self) -> None:
        super().__init__()
        self.got: list[tuple[np.ndarray, np.ndarray | None]] = []
        self.lock = threading.Lock()

    def _open(self, width: int, height: int, fps: float) -> None:
        pass

    def _send(self, frame_bgr: np.ndarray, original: np.ndarray | None) -> None:
        with self.lock:
            self.got.append((frame_bgr.copy(), None if original is None else original.copy()))

    def _close(self) -> None:
        pass

    def since(self, n: int) -> list[tuple[np.ndarray, np.ndarray | None]]:
        with self.lock:
            return self.got[n:]

    def count(self) -> int:
        with self.lock:
            return len(self.got)


def collect(session: LiveSession) -> Collect:
    sink = Collect()
    sink.open(session.source.width, session.source.height, session.cfg.fps)
    assert session.sender is not None
    session.sender.add_sink(sink)
    return sink
