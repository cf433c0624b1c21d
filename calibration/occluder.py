"""A second object moving over a benchmark clip on its own path: occlusion and disocclusion.

The homography clips of ``quality.py`` move the whole picture as one plane, so the frame-to-frame
flow is right everywhere and nothing the keyframe showed is ever hidden. Real footage has a hand
or a head crossing the background: content covered in the keyframe comes into view, and what the
keyframe showed goes behind. ``Occluder`` pastes a disk cut from another photo over every frame,
sliding back and forth across the frame (up to ~6 px per frame at 320x240) with a slight bob, with
a 1 px soft edge. Its ground truth in a local-filter style is the filter of the pasted frame; in an
attached style the disk carries its own texture, pasted the same way over the styled background.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass
class Occluder:
    patch: np.ndarray  # (2r, 2r, 3) uint8 BGR: the object's look
    alpha: np.ndarray  # (2r, 2r) float32 in [0, 1]: the disk, soft edge
    centres: list[tuple[float, float]]  # (x, y) per frame, frame pixels

    @classmethod
    def make(cls, photo: np.ndarray, size: tuple[int, int], n_frames: int, seed: int = 0) -> Occluder:
        """A disk of radius ~0.22 H from the centre of ``photo`` on a path across a ``size`` ``(W, H)`` frame."""
        w, h = size
        r = round(0.22 * h)
        ph, pw = photo.shape[:2]
        k = 2 * r / min(ph, pw)
        small = cv2.resize(photo, (max(2 * r, round(pw * k)), max(2 * r, round(ph * k))), interpolation=cv2.INTER_AREA)
        y0, x0 = (small.shape[0] - 2 * r) // 2, (small.shape[1] - 2 * r) // 2
        patch = np.ascontiguousarray(small[y0:y0 + 2 * r, x0:x0 + 2 * r])
        yy, xx = np.mgrid[0:2 * r, 0:2 * r].astype(np.float32) + 0.5
        alpha = np.clip(r - np.hypot(xx - r, yy - r) + 0.5, 0, 1).astype(np.float32)
        rng = np.random.default_rng(seed + 101)
        phase, bob = rng.uniform(0, 2 * math.pi), rng.uniform(0, 2 * math.pi)
        period = max(n_frames, 2)  # one full sweep right and back over the clip
        centres = [(w / 2 + 0.32 * w * math.sin(2 * math.pi * t / period + phase),
                    0.55 * h + 0.08 * h * math.sin(4 * math.pi * t / period + bob)) for t in range(n_frames)]
        return cls(patch, alpha, centres)

    def paste(self, frames: list[np.ndarray], patch: np.ndarray | None = None) -> list[np.ndarray]:
        """``frames`` with the disk over them (``patch``: its look in this style; default the photo)."""
        look = (self.patch if patch is None else patch).astype(np.float32)
        r = self.alpha.shape[0] / 2
        out = []
        for f, (cx, cy) in zip(frames, self.centres, strict=True):
            h, w = f.shape[:2]
            m = np.float32([[1, 0, cx - r], [0, 1, cy - r]])  # patch pixel -> frame pixel, sub-pixel
            a = cv2.warpAffine(self.alpha, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)[:, :, None]
            p = cv2.warpAffine(look, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            out.append(np.clip(f.astype(np.float32) * (1 - a) + p * a, 0, 255).round().astype(np.uint8))
        return out
