"""The last step of a live frame: the crossfade of a style switch and the strength blend.

Frames are ``(H, W, 3) uint8 BGR``. Both steps are one OpenCV ``addWeighted`` pass (~0.3 ms at
640x360) and cost nothing when idle (strength 1, no switch in progress).
"""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np


def apply_strength(styled: np.ndarray, original: np.ndarray, strength: float) -> np.ndarray:
    """``original * (1 - strength) + styled * strength``, rounded; strength 0 returns ``original`` itself
    (bit for bit), 1 returns ``styled`` itself. Frames of another size than ``original`` (should not
    happen) are returned as they are."""
    if strength >= 1.0 or styled.shape != original.shape:
        return styled
    if strength <= 0.0:
        return original
    return cv2.addWeighted(styled, float(strength), original, 1.0 - float(strength), 0.0)


class Crossfade:
    """Fades from the last frame shown before a style switch to the new style's frames.

    The old style's network does not keep running during the fade: on 2 cores one network pass
    (~18 ms at 640x360) already fills most of a 33 ms frame beside the prep thread, so running both
    would halve the stylized rate for the fade's length (frames repeated by the sender). Fading from
    the old style's last output costs one blend per frame instead, so the rate holds.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.last: np.ndarray | None = None  # the last frame this fade returned (what the viewer saw)
        self._from: np.ndarray | None = None
        self._t0 = 0.0
        self._duration = 0.0

    def start(self, seconds: float, now: float | None = None) -> None:
        """Begin a fade of ``seconds`` from the last frame shown (nothing to fade from, or 0 s: a cut)."""
        with self._lock:
            if seconds <= 0 or self.last is None:
                self._from = None
                return
            self._from, self._t0, self._duration = self.last, time.perf_counter() if now is None else now, seconds

    @property
    def active(self) -> bool:
        return self._from is not None

    def __call__(self, frame: np.ndarray, now: float | None = None) -> np.ndarray:
        """``frame`` blended with the frame faded from: weight of ``frame`` rises linearly 0 -> 1 over the fade."""
        with self._lock:
            src = self._from
            if src is not None:
                a = ((time.perf_counter() if now is None else now) - self._t0) / self._duration
                if a >= 1.0 or src.shape != frame.shape:
                    self._from = src = None
                else:
                    frame = cv2.addWeighted(frame, max(0.0, a), src, 1.0 - max(0.0, a), 0.0)
            self.last = frame
            return frame
