"""What a real webcam adds to a benchmark clip: light that drifts, and sensor noise.

The homography clips of ``quality.py`` keep every pixel's colour from frame to frame, and their
frames are clean. A webcam's auto exposure and white balance hunt as a person moves (a few percent
per channel, up and down within a second or two), and its sensor adds noise to every frame.
``Webcam`` models both: per-channel gains ``1 + light * sin(2 pi t / period + phase_c)`` (the
channels out of phase: white balance shifts too; multiplicative in gamma space, which a change of
exposure is, save the toe of the tone curve) and Gaussian noise of ``noise`` (0..255) drawn per
frame. The ground truth of a local-filter style is the filter of the lit, clean frame (a painter
paints the scene, not the noise); an attached texture is lit by the same gains.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass
class Webcam:
    light: float = 0.0  # per-channel gain amplitude (0.06: +-6%)
    noise: float = 0.0  # sensor noise sigma, 0..255
    period: float = 40.0  # frames per cycle of the light
    seed: int = 0

    def __bool__(self) -> bool:
        return bool(self.light or self.noise)

    def gains(self, t: int) -> np.ndarray:
        """``(3,) float32`` B, G, R gains of frame ``t``."""
        return np.array([1.0 + self.light * math.sin(2 * math.pi * t / self.period + p) for p in (0.0, 0.9, 1.8)],
                        np.float32)

    def lit(self, img: np.ndarray, t: int) -> np.ndarray:
        """``img`` (uint8 BGR) under frame ``t``'s light."""
        if not self.light:
            return img
        return np.clip(img.astype(np.float32) * self.gains(t) + 0.5, 0, 255).astype(np.uint8)

    def noisy(self, img: np.ndarray, t: int) -> np.ndarray:
        """``img`` with frame ``t``'s sensor noise (the same for a given seed and ``t``)."""
        if not self.noise:
            return img
        rng = np.random.default_rng((self.seed, t))
        return np.clip(img.astype(np.float32) + rng.normal(0.0, self.noise, img.shape).astype(np.float32) + 0.5,
                       0, 255).astype(np.uint8)
