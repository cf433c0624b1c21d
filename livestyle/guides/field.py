"""The blob colour field: Poisson-disk seeds, each a fixed colour, spread by Gaussian weights.

``render_blobs`` is the picture both the guide (``blobs.py``, on keyframes) and its live
tracker (``tracker.py``, on carried seeds) draw.
"""

from __future__ import annotations

import math
from typing import Protocol

import cv2
import numpy as np

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


class Seeds(Protocol):
    """What a tracker needs of its guide: seeds drawn on a key, and their size and spacing."""

    sigma: float
    spacing: float

    def key_points(self, key_bgr: np.ndarray, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Seed positions ``(N, 2) float32`` (x, y) and colours ``(N, 3) uint8`` for a key."""
        ...
