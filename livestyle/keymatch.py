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


FINE = (128, 72)  # (w, h): tells apart frames the coarse thumbnail sees as equal (a zoom's turnaround)
TIE = 1.5  # frames within this factor of the best coarse distance are compared again at FINE


def nearest_frame(frames: Sequence[np.ndarray], key: np.ndarray,
                  thumbs: Sequence[np.ndarray] | None = None) -> tuple[int, float]:
    """The index of the frame of ``frames`` most like ``key`` (``(H, W, 3) uint8 BGR``, any size) and its
    distance (mean absolute difference of ``thumbnail``s: 0 = the same picture, ~1 = unrelated).

    Frames are compared by ``thumbnail`` first (``thumbs``: theirs, if already computed), then the
    near-ties again on finer thumbnails: on synthetic clips (``capture.synthclip``, 90 frames, keys =
    frames with noise), the coarse thumbnail alone chose another frame for 1 of 30 keys under zoom and 3
    of 30 under rotation (frames that look alike where the motion turns); with this second look, none.
    """
    if not len(frames):
        raise ValueError("no frames to match against")
    coarse = thumbs if thumbs is not None else [thumbnail(f) for f in frames]
    th = thumbnail(key)
    dist = np.array([float(np.abs(t - th).mean()) for t in coarse])
    best = float(dist.min())
    near = np.flatnonzero(dist <= TIE * best + 1e-6)
    if len(near) > 1:
        fk = _fine(key)
        fine = [float(np.abs(_fine(frames[int(i)]) - fk).mean()) for i in near]
        pick = int(near[int(np.argmin(fine))])
        return pick, float(dist[pick])
    return int(near[0]), best


def _fine(img: np.ndarray) -> np.ndarray:
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else img
    t = cv2.resize(gray, FINE, interpolation=cv2.INTER_AREA).astype(np.float32)
    return (t - t.mean()) / (t.std() + 1e-3)
