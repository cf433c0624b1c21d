"""Live tracking of the blob guide's seeds: frame-to-frame flow, re-anchored on the keyframe.

Chaining frame-to-frame flow drifts (errors add up like a random walk) and
cannot recover once the person leaves. ``BlobTracker`` therefore:

1. moves the seeds every frame by cheap flow (previous -> current);
2. every ``anchor_every`` frames, or soon after many seeds went missing,
   re-anchors: it estimates a homography key -> current frame (from the
   seeds still on the subject, or, when too few are left, from ORB feature
   matches between key and frame), pre-warps the frame onto the key,
   computes flow key -> pre-warped frame and back, and moves every seed
   that passes the forward-backward check to its directly measured place.
   Errors therefore do not accumulate beyond one anchoring interval.
3. keeps seeds on flat regions (a plain T-shirt, a wall) with their neighbours: flow
   there is a guess, and such seeds slid by several pixels where textured ones were
   within one. Each seed has a reliability from the key's structure tensor (how much
   texture surrounds it); after every update the seeds' motion is split into a
   homography key -> frame (fitted on reliable seeds) and a residual, and each seed
   keeps its own residual in proportion to its reliability, the rest coming from the
   reliability-weighted average of its neighbours' residuals (as-rigid-as-possible in
   spirit, as the paper registers its guide).
4. draws only seeds that are alive, inside the frame and inside the current mask.

With several keys it follows the key whose thumbnail is most like the
current frame (with hysteresis), re-anchoring from scratch on a switch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from livestyle.guides.field import KeyInput, Seeds, render_blobs
from livestyle.keymatch import most_similar, thumbnail
from livestyle.temporal.flow import FlowEstimator, points_consistent, sample_at, to_gray

_TEXTURE_HALF = 1e-4  # structure-tensor min eigenvalue (intensity 0..1, per px²) at which a seed is half reliable
_FIT_POINTS = 600  # at most this many reliable seeds go into the per-frame homography fit


def seed_reliability(gray: np.ndarray, points: np.ndarray, window: float = 4.0) -> np.ndarray:
    """``(N,) float32`` in [0, 1): how well optical flow can see each seed move.

    ``gray``: the key ``(H, W) uint8``; ``points``: ``(N, 2)`` (x, y). The smaller eigenvalue
    ``λ`` of the structure tensor (Gaussian window ``window`` px) at each seed, mapped to
    ``λ / (λ + λ½)``: ~0 on flat colour, ~1 on texture or a corner, and low along a lone
    straight edge (flow there is only known across it).
    """
    if len(points) == 0:
        return np.zeros(0, np.float32)
    g = gray.astype(np.float32) * np.float32(1 / 255)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, scale=1 / 8)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, scale=1 / 8)
    j = cv2.GaussianBlur(cv2.merge([gx * gx, gy * gy, gx * gy]), (0, 0), window)
    at = sample_at(j, points)
    jxx, jyy, jxy = at[:, 0], at[:, 1], at[:, 2]
    lam = np.maximum(0.5 * (jxx + jyy - np.sqrt((jxx - jyy) ** 2 + 4 * jxy ** 2)), 0)
    return (lam / (lam + _TEXTURE_HALF)).astype(np.float32)


def smooth_residuals(points: np.ndarray, values: np.ndarray, weights: np.ndarray, shape: tuple[int, int],
                     sigma: float) -> np.ndarray:
    """Weighted Gaussian average of ``values`` ``(N, 2)`` around each of ``points`` ``(N, 2)``.

    ``Σ w_j v_j g_ij / (Σ w_j g_ij + ε)`` with ``g`` a Gaussian of std ``sigma`` px in the
    coordinates of ``points`` (the key's, inside ``shape=(H, W)``), so where no neighbour is
    reliable the average falls to 0. Splatted on a grid ``sigma/2`` coarser and blurred there:
    ~1 ms for thousands of points.
    """
    h, w = shape
    f = max(1.0, sigma / 2)
    lh, lw = int(math.ceil(h / f)) + 1, int(math.ceil(w / f)) + 1
    q = np.asarray(points, np.float32) / f
    x0 = np.clip(np.floor(q[:, 0]).astype(np.int64), 0, lw - 2)
    y0 = np.clip(np.floor(q[:, 1]).astype(np.int64), 0, lh - 2)
    fx, fy = np.clip(q[:, 0] - x0, 0, 1), np.clip(q[:, 1] - y0, 0, 1)
    stack = np.zeros((3, lh * lw), np.float64)
    for dx, dy, wt in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
        idx = (y0 + dy) * lw + x0 + dx
        ww = wt * weights
        stack[0] += np.bincount(idx, weights=ww * values[:, 0], minlength=lh * lw)
        stack[1] += np.bincount(idx, weights=ww * values[:, 1], minlength=lh * lw)
        stack[2] += np.bincount(idx, weights=ww, minlength=lh * lw)
    grid = cv2.GaussianBlur(stack.reshape(3, lh, lw).transpose(1, 2, 0).astype(np.float32), (0, 0), sigma / f,
                            borderType=cv2.BORDER_CONSTANT)
    at = sample_at(grid, q)  # grid cell (i, j) holds point (j·f, i·f): sample at the same scale
    eps = 0.05 * float(grid[:, :, 2].max(initial=0.0)) + 1e-6
    return at[:, :2] / (at[:, 2:3] + eps)


@dataclass
class _Key:
    gray: np.ndarray  # (H, W) uint8
    mask: np.ndarray | None  # (H, W) uint8
    points: np.ndarray  # (N, 2) float32 seeds in key coords
    colors: np.ndarray  # (N, 3) uint8
    thumb: np.ndarray  # (18, 32) float32, normalised
    reliability: np.ndarray  # (N,) float32 in [0, 1): seed_reliability at the key
    orb: tuple[tuple, np.ndarray | None] | None = None  # (keypoints, descriptors), computed lazily


class BlobTracker:
    """Carries a ``BlobGuide``'s seeds through live frames without drift. Implements ``GuideTracker``.

    ``update(frame, mask=None, flow_to_prev=None) -> (H, W, 3) uint8`` guide.
    Frames must have the keys' size. ``flow_to_prev``: optional flow current
    -> previous ``(H, W, 2) float32`` already computed (``CausalDenoiser.last_flow``)
    to save one flow per frame. Not thread-safe: one tracker per stream.

    Options: ``anchor_every`` (frames between re-anchors), ``track_preset`` /
    ``track_scale`` (per-frame flow), ``anchor_preset`` / ``anchor_scale``
    (key -> frame flow), ``fb_tol`` (px, forward-backward tolerance).
    """

    def __init__(self, guide: Seeds, keys: Sequence[KeyInput], anchor_every: int = 8,
                 track_preset: str = "ultrafast", track_scale: float = 0.5,
                 anchor_preset: str = "ultrafast", anchor_scale: float = 1.0, fb_tol: float = 1.0,
                 regularize: bool = True) -> None:
        if not keys:
            raise ValueError("BlobTracker needs at least one key")
        self.guide = guide
        self.keys: list[_Key] = []
        for bgr, mask in keys:
            pts, cols = guide.key_points(bgr, mask)
            gray = to_gray(bgr)
            self.keys.append(_Key(gray, mask, pts, cols, thumbnail(gray), seed_reliability(gray, pts)))
        self.shape = self.keys[0].gray.shape
        if any(k.gray.shape != self.shape for k in self.keys):
            raise ValueError("all keys must have the same size")
        self.anchor_every = int(anchor_every)
        self.fb_tol = float(fb_tol)
        self.regularize = bool(regularize)
        self._fit_pick = np.random.default_rng(0)
        self._track_flow = FlowEstimator(track_preset, track_scale)
        self._anchor_flow = FlowEstimator(anchor_preset, anchor_scale)
        self._orb = cv2.ORB_create(800)  # type: ignore[attr-defined]  # missing from cv2's stubs
        self._matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
        self.active = 0
        self.points = self.keys[0].points.copy()  # (N, 2) float32 current positions
        self.alive = np.ones(len(self.points), bool)
        self.visible = self.alive.copy()  # seeds drawn in the last update
        self.anchored = False  # whether the last update re-anchored successfully
        self._prev: np.ndarray | None = None
        self._since_anchor = 0
        # reference for per-frame tracking: the last anchored frame (errors do not chain
        # between anchors), or the previous frame while anchoring keeps failing
        self._ref: np.ndarray | None = None
        self._ref_points = self.points.copy()
        self._ref_alive = self.alive.copy()
        self._since_ref = 0

    # -- per frame ---------------------------------------------------------
    def update(self, frame_bgr: np.ndarray, mask: np.ndarray | None = None,
               flow_to_prev: np.ndarray | None = None, busy: bool = False) -> np.ndarray:
        """Guide ``(H, W, 3) uint8`` for the next frame ``(H, W, 3) uint8 BGR``; ``mask`` ``(H, W)`` uint8.

        ``busy``: this frame already carries other heavy work (a live pipeline passes True on
        frames where the segmentation network ran); a scheduled re-anchoring then waits a
        frame (at most two), so the two costs do not pile up on one frame's latency.
        """
        gray = to_gray(frame_bgr)
        if gray.shape != self.shape:
            raise ValueError(f"frame {gray.shape} differs from the key size {self.shape}")
        h, w = self.shape
        if self._prev is not None:
            self._propagate(gray, flow_to_prev)
            self._since_anchor += 1
        else:
            self._since_anchor = self.anchor_every  # first frame: anchor now
        mask_area = float(np.count_nonzero(mask)) / mask.size if mask is not None else 1.0
        self.visible = self._visible(mask)
        lost = self.visible.sum() < 0.5 * max(1, self._in_mask_expected(mask))
        due = self._since_anchor >= self.anchor_every or (lost and self._since_anchor >= 3)
        if due and busy and not lost and self._prev is not None and self._since_anchor < self.anchor_every + 2:
            due = False  # scheduled, not urgent: the next frame is lighter
        self.anchored = False
        if due and mask_area > 0.01:
            self._choose_key(gray)
            self.anchored = self._anchor(gray, mask)
            self._since_anchor = 0
            self.visible = self._visible(mask)
        if self.regularize:
            self._regularize()
        self._prev = gray
        self._since_ref += 1
        if self.anchored or self._ref is None or flow_to_prev is not None or self._since_ref > 2 * self.anchor_every:
            self._ref, self._ref_points, self._ref_alive = gray, self.points.copy(), self.alive.copy()
            self._since_ref = 0
        key = self.keys[self.active]
        return render_blobs(self.points, key.colors, (h, w), self.guide.sigma, self.visible)

    def _propagate(self, gray: np.ndarray, flow_to_prev: np.ndarray | None) -> None:
        pts = self.points
        if flow_to_prev is not None:
            # invert current -> previous flow at the points by fixed-point iteration: y = p - b(y)
            y = pts - sample_at(flow_to_prev, pts)
            y = pts - sample_at(flow_to_prev, y)
            self.points = y.astype(np.float32)
        else:
            assert self._ref is not None
            f = self._track_flow(self._ref, gray)
            self.points = (self._ref_points + sample_at(f, self._ref_points)).astype(np.float32)
            self.alive = self._ref_alive.copy()
        h, w = self.shape
        p = self.points
        self.alive &= (p[:, 0] >= 0) & (p[:, 0] <= w - 1) & (p[:, 1] >= 0) & (p[:, 1] <= h - 1)

    def _regularize(self) -> None:
        """Seeds on flat regions follow their neighbours (module docstring, point 3)."""
        key = self.keys[self.active]
        live = self.alive
        rel = key.reliability
        fit = np.flatnonzero(live & (rel > 0.5))
        if len(fit) < 12:
            return
        if len(fit) > _FIT_POINTS:
            fit = self._fit_pick.choice(fit, _FIT_POINTS, replace=False)
        hm, _ = cv2.findHomography(key.points[fit], self.points[fit], cv2.RANSAC, 3.0)
        if hm is None:
            return
        src = key.points[live]
        base = cv2.perspectiveTransform(src.reshape(-1, 1, 2).astype(np.float64), hm).reshape(-1, 2)
        res = self.points[live] - base
        r = rel[live]
        near = smooth_residuals(src, res, r, self.shape, 2 * self.guide.spacing)
        self.points[live] = (base + r[:, None] * res + (1 - r[:, None]) * near).astype(np.float32)

    def _visible(self, mask: np.ndarray | None) -> np.ndarray:
        vis = self.alive.copy()
        if mask is not None and vis.any():
            p = np.round(self.points[vis]).astype(int)
            h, w = mask.shape
            # alive points lie in [0, w-1] but round up to w at the edge
            vis[vis] = mask[np.clip(p[:, 1], 0, h - 1), np.clip(p[:, 0], 0, w - 1)] > 0
        return vis

    def _in_mask_expected(self, mask: np.ndarray | None) -> int:
        """How many seeds should be visible if tracking is healthy: all of them, scaled by how
        much of the subject the current mask shows (seeds of a key without a mask cover the
        whole frame, so then by the mask's share of the frame)."""
        n = len(self.points)
        if mask is None:
            return n
        key_mask = self.keys[self.active].mask
        key_area = mask.size if key_mask is None else max(1, int(np.count_nonzero(key_mask)))
        return int(n * min(1.0, np.count_nonzero(mask) / key_area))

    # -- anchoring ---------------------------------------------------------
    def _choose_key(self, gray: np.ndarray) -> None:
        if len(self.keys) == 1:
            return
        best = most_similar([k.thumb for k in self.keys], thumbnail(gray), self.active)
        if best != self.active:
            self.active = best
            self.points = self.keys[best].points.copy()
            self.alive = np.zeros(len(self.points), bool)

    def _homography(self, gray: np.ndarray, mask: np.ndarray | None) -> np.ndarray | None:
        """Key -> frame homography ``(3, 3)``: from seeds still on the subject, else ORB matches."""
        key = self.keys[self.active]
        vis = self._visible(mask)
        if vis.sum() >= max(12, 0.3 * self._in_mask_expected(mask)):
            hm, inl = cv2.findHomography(key.points[vis], self.points[vis], cv2.RANSAC, 4.0)
            if hm is not None and inl is not None and inl.sum() >= 0.5 * vis.sum():
                return hm
        return self._orb_homography(gray, mask)

    def _orb_homography(self, gray: np.ndarray, mask: np.ndarray | None) -> np.ndarray | None:
        key = self.keys[self.active]
        if key.orb is None:
            km = cv2.dilate(key.mask, np.ones((15, 15), np.uint8)) if key.mask is not None else None
            key.orb = self._orb.detectAndCompute(key.gray, km)
        kk, kd = key.orb
        fm = cv2.dilate(mask, np.ones((15, 15), np.uint8)) if mask is not None else None
        fk, fd = self._orb.detectAndCompute(gray, fm)
        if kd is None or fd is None or len(kk) < 10 or len(fk) < 10:
            return None
        good = [m[0] for m in self._matcher.knnMatch(kd, fd, k=2)
                if len(m) == 2 and m[0].distance < 0.8 * m[1].distance]
        if len(good) < 10:
            return None
        src = np.array([kk[m.queryIdx].pt for m in good], np.float32)
        dst = np.array([fk[m.trainIdx].pt for m in good], np.float32)
        hm, inl = cv2.findHomography(src, dst, cv2.RANSAC, 4.0)
        if hm is None or inl is None or inl.sum() < 10:
            return None
        return hm

    def _seed_box(self, key: _Key, margin: int) -> tuple[int, int, int, int]:
        """``(x0, y0, x1, y1)`` around the key's seeds, grown by ``margin`` px, inside the frame."""
        h, w = self.shape
        if len(key.points) == 0:
            return 0, 0, w, h
        lo = np.floor(key.points.min(axis=0)).astype(int) - margin
        hi = np.ceil(key.points.max(axis=0)).astype(int) + margin + 1
        x0, y0 = max(0, int(lo[0])), max(0, int(lo[1]))
        x1, y1 = min(w, max(int(hi[0]), x0 + 16)), min(h, max(int(hi[1]), y0 + 16))
        return max(0, min(x0, x1 - 16)), max(0, min(y0, y1 - 16)), x1, y1  # DIS needs a few px

    def _anchor(self, gray: np.ndarray, mask: np.ndarray | None) -> bool:
        """Re-measure seeds directly from the key; True when enough seeds were confirmed."""
        key = self.keys[self.active]
        hm = self._homography(gray, mask)
        if hm is None:
            return False
        h, w = self.shape
        # Flow only where the seeds are: the key's seed box plus a margin (the person is
        # usually a third of the frame, so this is ~3x cheaper than whole-frame flow).
        x0, y0, x1, y1 = self._seed_box(key, margin=24)
        shift = np.array([[1, 0, x0], [0, 1, y0], [0, 0, 1]], np.float64)
        pre = cv2.warpPerspective(gray, hm @ shift, (x1 - x0, y1 - y0),
                                  flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                  borderMode=cv2.BORDER_REPLICATE)  # pre(x) = frame(hm·(x + box origin))
        kc = np.ascontiguousarray(key.gray[y0:y1, x0:x1])
        f_kp = self._anchor_flow(kc, pre)
        f_pk = self._anchor_flow(pre, kc)
        origin = np.array([x0, y0], np.float32)
        moved, ok = points_consistent(f_kp, f_pk, key.points - origin, tol=self.fb_tol)
        moved += origin
        q = cv2.perspectiveTransform(moved.reshape(-1, 1, 2).astype(np.float64), hm).reshape(-1, 2)
        ok &= (q[:, 0] >= 0) & (q[:, 0] <= w - 1) & (q[:, 1] >= 0) & (q[:, 1] <= h - 1)
        if ok.sum() < max(8, 0.2 * self._in_mask_expected(mask)):
            return False
        stale = self.alive & ~ok
        if stale.any() and ok.sum() >= 8:
            # seeds the check could not confirm keep their tracked place, corrected by the
            # smooth drift the confirmed seeds reveal (tracked -> measured homography)
            fix, _ = cv2.findHomography(self.points[ok], q[ok], cv2.RANSAC, 2.0)
            if fix is not None:
                self.points[stale] = cv2.perspectiveTransform(
                    self.points[stale].reshape(-1, 1, 2).astype(np.float64), fix).reshape(-1, 2)
        self.points[ok] = q[ok].astype(np.float32)
        self.alive |= ok
        return True
