"""Which keyframe is most like a frame: small normalised grey thumbnails, compared by mean distance.

The blob tracker, the keyframe carry and the offline render all choose keys this way, so a style
with several keyframes uses the same one in each.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

THUMB = (32, 18)  # (w, h): enough to tell a face from a hand, blind to noise and small motion


def thumbnail(img: np.ndarray) -> np.ndarray:
    """``(18, 32) float32``: a normalised grey thumbnail of ``img`` (BGR or grey uint8), for choosing keys."""
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else img
    t = cv2.resize(gray, THUMB, interpolation=cv2.INTER_AREA).astype(np.float32)
    return (t - t.mean()) / (t.std() + 1e-3)


def most_similar(thumbs: Sequence[np.ndarray], th: np.ndarray, active: int) -> int:
    """The index of the key thumbnail most like ``th``; ``active`` stays unless another is clearly
    closer (by 15%), so that the choice does not flip between two similar keys."""
    dist = [float(np.abs(t - th).mean()) for t in thumbs]
    best = int(np.argmin(dist))
    return best if best != active and dist[best] < 0.85 * dist[active] else active
