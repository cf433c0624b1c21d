"""The light between the keyframe and the frame: per-channel gains, for the keyframe carry's photo check.

A webcam's auto exposure and white balance hunt as a person moves: a few percent per channel, up
and down. The keyframe's photo, carried to the frame by flow, then differs from it everywhere by
those gains, and the carry's photo check (``temporal.carry``: trust falls to 1/e at a mean error of 8
levels) takes the whole carry away: on the quality benchmark's astronaut clip with +-6% per channel
its mean trust fell from 0.80 to 0.44, and the output to the network's alone, the painting's strokes
gone. ``gains`` estimates them, as a camera changes them (a gain per channel, the same over the
frame: in gamma space a change of exposure is one), robustly (medians, twice: the second time over
the pixels the first one explains, so that a person walking in does not move them); the carry
compares the photo and moves the painting under the frame's light.

A webcam's sensor noise raises the photo check's error too, everywhere: a mean absolute difference
never averages noise away. ``photo_error`` blurs the signed difference a little before taking its
size (``NOISE_BLUR``), which averages the noise down while a stroke or an edge that the flow misplaced
still shows.
"""

from __future__ import annotations

import cv2
import numpy as np

STEP = 4  # every STEP-th pixel of every STEP-th row: ~14,000 samples at 640x360, ~1 ms
DARK, BRIGHT = 16, 240  # samples outside these (0..255) in either image say nothing of a gain (noise, clipping)
FIT = 12.0  # the second median keeps samples whose mean error (0..255) under the first gains is below this
MIN_SAMPLES = 256
LIMITS = (0.67, 1.5)  # gains past these are not the light (another scene): kept at the limit
NOISE_BLUR = 1.0  # sigma (px of the frame the check runs on) of the blur of the photo check's signed difference


def gains(seen: np.ndarray, frame: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray | None:
    """``(3,) float32`` per-channel gains ``g`` with ``frame ≈ g * seen`` (both ``(H, W, 3) uint8``, the same
    size; ``valid``: ``(H, W)``, nonzero where ``seen`` shows the key), or None where too little tells."""
    s = seen[::STEP, ::STEP].reshape(-1, 3)
    f = frame[::STEP, ::STEP].reshape(-1, 3)
    ok = (s.min(1) > DARK) & (s.max(1) < BRIGHT) & (f.min(1) > DARK) & (f.max(1) < BRIGHT)
    if valid is not None:
        ok &= valid[::STEP, ::STEP].reshape(-1) > 0
    if int(ok.sum()) < MIN_SAMPLES:
        return None
    s, f = s[ok].astype(np.float32), f[ok].astype(np.float32)
    g = np.median(f / s, axis=0)
    fits = np.abs(f - s * g).mean(1) < FIT
    if int(fits.sum()) >= MIN_SAMPLES:
        g = np.median(f[fits] / s[fits], axis=0)
    return np.clip(g, *LIMITS).astype(np.float32)


def relit(img: np.ndarray, g: np.ndarray | None) -> np.ndarray:
    """``img`` (uint8, 3 channels) times per-channel gains ``g`` (None: ``img`` itself)."""
    if g is None:
        return img
    return cv2.multiply(img, (float(g[0]), float(g[1]), float(g[2]), 0.0))


def photo_error(seen: np.ndarray, frame: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Per-pixel, per-channel ``|blur(seen - frame)|`` ``(H, W, 3) uint8`` (both ``(H, W, 3) uint8``): the photo
    check's difference with the sensor's noise averaged down (``NOISE_BLUR`` times ``scale``; 0: ``|seen - frame|``)."""
    if NOISE_BLUR <= 0:
        return cv2.absdiff(seen, frame)
    d = cv2.subtract(seen, frame, dtype=cv2.CV_16S)
    return cv2.convertScaleAbs(cv2.GaussianBlur(d, (0, 0), NOISE_BLUR * scale))
