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

import math
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    from .tracker import BlobTracker

KeyInput = tuple[np.ndarray, "np.ndarray | None"]  # (key (H, W, 3) uint8 BGR, mask (H, W) uint8 or None)


def poisson_disk(mask: np.ndarray | None, spacing: float = 10.0, rng: np.random.Generator | None = None,
                 shape: tuple[int, int] | None = None, rounds: int = 6) -> np.ndarray:
    """Points at least ``spacing`` px apart, inside ``mask`` (``(H, W)`` uint8/bool, nonzero = allowed).

    Parallel dart throwing on a grid of ``spacing/√2`` cells (≤ 1 point per
    cell), processed in 9 phases of cells 3 apart so each vectorised pass
    cannot conflict with itself (Wei 2008). ``mask=None`` uses the whole
    ``shape=(H, W)``. Returns ``(N, 2) float32`` ``(x, y)``; deterministic
    for a given ``rng`` state. About 10 ms for 1280x720 at spacing 10.
    """
    if mask is None:
        if shape is None:
            raise ValueError("poisson_disk: give a mask or a shape")
        mask = np.ones(shape, np.uint8)
    if spacing <= 0:
        raise ValueError(f"poisson_disk: spacing must be > 0, got {spacing}")
    rng = rng if rng is not None else np.random.default_rng(0)
    h, w = mask.shape[:2]
    cell = spacing / math.sqrt(2)
    gh, gw = math.ceil(h / cell), math.ceil(w / cell)
    gh3, gw3 = math.ceil(gh / 3) * 3, math.ceil(gw / 3) * 3  # whole phases: every slice below has one shape
    px_ = np.full((gh3 + 4, gw3 + 4), np.nan, np.float32)  # x per cell, NaN = empty; padded by 2 cells
    py_ = np.full((gh3 + 4, gw3 + 4), np.nan, np.float32)
    offsets = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
               if (dy, dx) != (0, 0) and abs(dy) + abs(dx) < 4]  # corners are >= spacing away
    allowed = np.asarray(mask) > 0
    s2 = np.float32(spacing * spacing)
    phases = [(py, px) for py in range(3) for px in range(3)]
    base_y, base_x = np.meshgrid(np.arange(0, gh3, 3), np.arange(0, gw3, 3), indexing="ij")
    for _ in range(rounds):
        for k in rng.permutation(9):
            oy, ox = phases[k]
            cur_x = px_[2 + oy:2 + oy + gh3:3, 2 + ox:2 + ox + gw3:3]  # views: writes land in px_
            cur_y = py_[2 + oy:2 + oy + gh3:3, 2 + ox:2 + ox + gw3:3]
            x = ((base_x + ox + rng.random(base_x.shape)) * cell).astype(np.float32)
            y = ((base_y + oy + rng.random(base_y.shape)) * cell).astype(np.float32)
            ok = np.isnan(cur_x) & (x <= w - 1) & (y <= h - 1)
            ok[ok] = allowed[y[ok].round().astype(int), x[ok].round().astype(int)]
            for dy, dx in offsets:
                sl = (slice(2 + oy + dy, 2 + oy + dy + gh3, 3), slice(2 + ox + dx, 2 + ox + dx + gw3, 3))
                ok &= ~(np.square(px_[sl] - x) + np.square(py_[sl] - y) < s2)  # NaN compares False
            cur_x[ok] = x[ok]
            cur_y[ok] = y[ok]
    xs, ys = px_[2:2 + gh, 2:2 + gw].ravel(), py_[2:2 + gh, 2:2 + gw].ravel()
    keep = ~np.isnan(xs)
    return np.ascontiguousarray(np.stack([xs[keep], ys[keep]], axis=1))


def render_blobs(points: np.ndarray, colors: np.ndarray, shape: tuple[int, int], sigma: float = 12.0,
                 valid: np.ndarray | None = None) -> np.ndarray:
    """Draw blobs as a normalised colour field ``(H, W, 3) uint8`` (same colour order as ``colors``).

    ``points``: ``(N, 2)`` float ``(x, y)``; ``colors``: ``(N, 3)`` uint8;
    ``shape``: ``(H, W)``; ``valid``: optional ``(N,)`` bool, points to draw.
    Each pixel is ``Σ c_i·g_i / (Σ g_i + 0.1)`` with ``g_i = exp(-d_i²/σ²)``:
    a smooth field inside the point cloud that fades to black about one σ
    beyond its edge. Fast: bilinear splats on a grid ``f = σ/3`` times
    coarser, a Gaussian blur there, and a bilinear upsample (the field is
    smooth, so the coarse grid loses nothing visible).
    """
    h, w = shape[:2]
    f = max(1, int(sigma // 3))
    lh, lw = math.ceil(h / f), math.ceil(w / f)
    pts = np.asarray(points, np.float32).reshape(-1, 2)
    cols = np.asarray(colors, np.float32).reshape(-1, 3)
    if valid is not None:
        pts, cols = pts[valid], cols[valid]
    if pts.shape[0] == 0:
        return np.zeros((h, w, 3), np.uint8)
    # full-res pixel x maps to coarse (x - (f-1)/2) / f: same half-pixel convention as cv2.resize
    q = (pts - (f - 1) / 2.0) / f
    x0, y0 = np.floor(q[:, 0]), np.floor(q[:, 1])
    fx, fy = q[:, 0] - x0, q[:, 1] - y0
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
    stack = np.zeros((4, lh * lw), np.float64)  # B, G, R numerators and the weight
    for dx, dy, wt in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
        xi, yi = x0 + dx, y0 + dy
        inb = (xi >= 0) & (xi < lw) & (yi >= 0) & (yi < lh)
        idx = (yi * lw + xi)[inb]
        ww = wt[inb]
        stack[3] += np.bincount(idx, weights=ww, minlength=lh * lw)
        for c in range(3):
            stack[c] += np.bincount(idx, weights=ww * cols[inb, c], minlength=lh * lw)
    splat = stack.reshape(4, lh, lw).transpose(1, 2, 0).astype(np.float32)  # (lh, lw, 4)
    s = sigma / math.sqrt(2) / f  # exp(-d²/σ²) is a Gaussian of std σ/√2
    field = np.asarray(cv2.GaussianBlur(splat, (0, 0), s, borderType=cv2.BORDER_CONSTANT))
    eps = 0.1 / (2 * math.pi * s * s)  # a tenth of one isolated blob's peak weight
    den = field[:, :, 3:4] + eps
    low = cv2.convertScaleAbs(field[:, :, :3] / den)  # (lh, lw, 3) uint8, rounded and saturated
    return np.ascontiguousarray(cv2.resize(low, (lw * f, lh * f), interpolation=cv2.INTER_LINEAR)[:h, :w])


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
        from .tracker import BlobTracker  # here, not at the top: tracker.py imports render_blobs

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
