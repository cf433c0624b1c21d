"""The Gaussian-blob guide: a smooth random colour field glued to the subject.

On flat regions (a black T-shirt) a frame alone says nothing about where a
painted texture should sit, so the style flickers. The paper adds a guide
image: seeds drawn by Poisson-disk sampling inside the mask on the keyframe,
each a fixed random colour, weight ``exp(-d²/σ²)``, normalised into a smooth
colour field, then carried to every other frame by optical flow. The network
sees it as 3 extra input channels, so texture sticks to the object.

``BlobGuide.key`` draws the keyframe's guide (what the network trains on);
``BlobGuide.sequence`` carries it through a whole clip offline;
``BlobGuide.tracker`` returns a ``BlobTracker`` (``tracker.py``) for live
frames that re-anchors on the keyframe so it does not drift.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

from livestyle.guides.field import KeyInput, poisson_disk, render_blobs
from livestyle.guides.tracker import BlobTracker


def _key_rng(seed: int, key_bgr: np.ndarray) -> np.random.Generator:
    """A generator determined by the seed and the key's pixels (different keys, different blobs)."""
    return np.random.default_rng([seed, zlib.crc32(np.ascontiguousarray(key_bgr).tobytes())])


class BlobGuide:
    """Gaussian-blob guide (3 channels, BGR uint8). Implements ``livestyle.guides.Guide``.

    ``spacing``: Poisson-disk distance between seeds (px); ``sigma``: blob
    size (px, weight ``exp(-d²/σ²)``); ``seed``: with the key's pixels,
    decides seeds and colours, so the same key always gets the same guide.
    """

    name = "blobs"
    channels = 3

    def __init__(self, spacing: float = 10.0, sigma: float = 12.0, seed: int = 0) -> None:
        self.spacing = float(spacing)
        self.sigma = float(sigma)
        self.seed = int(seed)

    def key_points(self, key_bgr: np.ndarray, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Seeds ``(N, 2) float32`` (x, y) and colours ``(N, 3) uint8`` for a keyframe (deterministic)."""
        if key_bgr.ndim != 3 or key_bgr.shape[2] != 3 or key_bgr.dtype != np.uint8:
            raise ValueError(f"key must be (H, W, 3) uint8 BGR, got {key_bgr.shape} {key_bgr.dtype}")
        if mask is not None and mask.shape[:2] != key_bgr.shape[:2]:
            raise ValueError(f"key mask {mask.shape[:2]} differs from key {key_bgr.shape[:2]}")
        rng = _key_rng(self.seed, key_bgr)
        pts = poisson_disk(mask, self.spacing, rng, shape=key_bgr.shape[:2])
        cols = rng.integers(0, 256, (pts.shape[0], 3), dtype=np.uint8)
        return pts, cols

    def key(self, key_bgr: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """The keyframe's guide ``(H, W, 3) uint8``: the image the network is trained with."""
        pts, cols = self.key_points(key_bgr, mask)
        return render_blobs(pts, cols, key_bgr.shape[:2], self.sigma)

    key_guide = key

    def tracker(self, keys: np.ndarray | Sequence[KeyInput], key_mask: np.ndarray | None = None,
                **options: float | int | str) -> BlobTracker:
        """A live tracker. ``keys``: one key ``(H, W, 3) uint8 BGR`` (with ``key_mask``) or a
        list of ``(key_bgr, mask_or_None)`` pairs. ``options`` go to ``BlobTracker``."""
        if isinstance(keys, np.ndarray):
            keys = [(keys, key_mask)]
        return BlobTracker(self, list(keys), **options)  # type: ignore[arg-type]

    def sequence(self, frames: Sequence[np.ndarray], keys: dict[int, np.ndarray | None],
                 masks: Sequence[np.ndarray | None] | None = None, blend: bool = False) -> list[np.ndarray]:
        """Guides for a whole clip, offline: ``(H, W, 3) uint8`` per frame.

        ``keys`` maps a frame index to that keyframe's mask (or ``None`` for
        the whole frame); the keyframe is ``frames[index]``. Each key's seeds
        are tracked forwards and backwards (a ``BlobTracker`` per direction,
        re-anchored on the key). Each frame uses its nearest key; with
        ``blend=True`` frames between two keys mix both guides by temporal
        distance. ``masks``: optional per-frame masks; seeds outside are not drawn.
        """
        n = len(frames)
        if not keys:
            raise ValueError("BlobGuide.sequence needs at least one key")
        order = sorted(keys)
        if order[0] < 0 or order[-1] >= n:
            raise ValueError(f"key indices {order} outside the clip of {n} frames")
        parts: list[list[tuple[float, np.ndarray]]] = [[] for _ in range(n)]
        for j, k in enumerate(order):
            prev_k = order[j - 1] if j > 0 else None
            next_k = order[j + 1] if j + 1 < len(order) else None
            if blend:
                lo = prev_k + 1 if prev_k is not None else 0
                hi = next_k - 1 if next_k is not None else n - 1
            else:
                lo = (prev_k + k) // 2 + 1 if prev_k is not None else 0
                hi = (k + next_k) // 2 if next_k is not None else n - 1
            parts[k].append((1.0, self.key(frames[k], keys[k])))
            for rng_ in (range(k + 1, hi + 1), range(k - 1, lo - 1, -1)):
                tr = self.tracker(frames[k], keys[k])
                for t in rng_:
                    g = tr.update(frames[t], masks[t] if masks is not None else None)
                    weight = 1.0
                    if blend:
                        other = next_k if t > k else prev_k
                        if other is not None:
                            weight = abs(other - t) / abs(other - k)
                    parts[t].append((weight, g))
        out = []
        for p in parts:
            if len(p) == 1:
                out.append(p[0][1])
            else:
                total = sum(wt for wt, _ in p)
                acc = sum(g.astype(np.float32) * (wt / total) for wt, g in p)
                out.append(np.clip(np.asarray(acc) + 0.5, 0, 255).astype(np.uint8))
        return out
