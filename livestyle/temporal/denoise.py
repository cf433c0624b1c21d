"""Temporal bilateral filtering along optical-flow trajectories (the paper's denoiser).

The network stylizes each frame on its own, so sensor noise that changes
from frame to frame turns into flickering style. The paper filters the input
along flow trajectories: each pixel is averaged with the pixels it moves
through in neighbouring frames, weighted by temporal distance (Gaussian,
σ_t frames) and colour similarity (Gaussian, σ_c on the 0–255 scale, on the
Euclidean BGR distance), so noise averages out while real changes
(occlusions, flow failures, moving edges) keep their own colour.

Two forms:

* ``denoise_sequence`` — offline, non-causal (±radius frames), as the paper.
  The keyframe used for training is simply the filtered frame at its index.
* ``CausalDenoiser`` — live, past frames only: a recursive (exponential) form
  that warps the previous *filtered* frame into the current one and blends
  by colour similarity. For training on a live snapshot, use the
  denoiser's output at snapshot time as the keyframe, so the network learns
  from the same kind of image it will be fed.

The denoiser is a frame filter, not a guide channel.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import cv2
import numpy as np

from livestyle.temporal.flow import FlowEstimator, forward_backward_consistency, pixel_grid, to_gray

FlowFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
_FAR = -1.0e4  # colour given to out-of-frame samples: far from any real colour -> weight 0
_MEAN3 = np.full((1, 3), 1.0 / 3.0, np.float32)  # cv2.transform: mean of the 3 channels
STEADY = 0.7  # default strength of the output stabiliser in render (and what live's is measured against)
# Live (LiveConfig, the UI, calibrate): a little less. Live's one network pass per frame and its keyframe carry
# moved between fresh key flows leave less flicker to average away than it gets blurred: at 0.6 against 0.7, on
# calibration/quality.py's 48 live rows (2 scene sets x 12 scenes x key flow every frame or every 2nd), PSNR rose
# on 43 (by up to 0.16 dB) and stayed level on 5 (oil), SSIM rose on 44 and fell by at most 0.0003 on 4 (oil); the
# mean gap to render went from -0.22 / -0.28 to -0.18 / -0.24 dB (moving camera, every frame / every 2nd) and from
# -0.23 / -0.26 to -0.16 / -0.20 (still camera); the warping error rose 0-9%, at most 0.73x the ground truth's own
# (quality-2026-12-05-v19-steady06-*.md against -v19-int8-*.md). 0.8 lost on every scene (live-gap-2026-12-04-v15-steady-*.md).
STEADY_LIVE = 0.6
# Live: DIS preset and scale of the frame -> previous frame flow (the causal denoiser's, shared with the blob
# tracker, the output stabiliser and the keyframe carry's temporal check). "fast" at full size against
# "ultrafast" at half: the live output 0.3-0.5 dB closer to render, the warping error 0.9x against 1.6x
# render's (calibration/live_gap.py), for ~3 ms more per 640x360 frame.
STEADY_FLOW = ("fast", 1.0)
# Offline (render) a finer flow is worth its ~5 ms per 640x360 frame: against "ultrafast" at half size, warping
# error -5..-30% and SSIM +0.001..+0.003 on the quality benchmark's scenes ("medium" gained a little more, but
# it is the flow the benchmark's warping error is measured with, so it would flatter that metric).
STEADY_FLOW_RENDER = ("fast", 1.0)


def _sq_dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-pixel squared Euclidean distance ``(H, W) float32`` of two ``(H, W, 3) float32`` images."""
    d = cv2.subtract(a, b)
    return cv2.transform(cv2.multiply(d, d), np.ones((1, 3), np.float32))


class _FlowCache:
    """Consecutive flows of a frame list, computed once each, with consistency masks.

    ``step(i, +1)`` is the flow ``i -> i+1`` (on frame ``i``'s grid) and the
    float32 mask ``(H, W)`` (1 = forward-backward consistent); ``step(i, -1)``
    the flow ``i -> i-1``. Entries before ``evict_before`` are freed.
    """

    def __init__(self, grays: list[np.ndarray], flow: FlowFn) -> None:
        self.grays = grays
        self.flow = flow
        self._pair: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # i -> (flow i->i+1, flow i+1->i)
        self._ok: dict[tuple[int, int], np.ndarray] = {}

    def _flows(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        if i not in self._pair:
            self._pair[i] = (self.flow(self.grays[i], self.grays[i + 1]),
                             self.flow(self.grays[i + 1], self.grays[i]))
        return self._pair[i]

    def step(self, i: int, d: int) -> tuple[np.ndarray, np.ndarray]:
        fwd, bwd = self._flows(i) if d > 0 else self._flows(i - 1)[::-1]
        key = (i, d)
        if key not in self._ok:
            self._ok[key] = forward_backward_consistency(fwd, bwd, tol=1.0).astype(np.float32)
        return fwd, self._ok[key]

    def evict_before(self, i: int) -> None:
        for j in [j for j in self._pair if j < i]:
            del self._pair[j]
        for key in [key for key in self._ok if key[0] < i]:
            del self._ok[key]


def denoise_sequence(frames: Sequence[np.ndarray], radius: int = 15, sigma_t: float = 5.0,
                     sigma_c: float = 27.6, flow: FlowFn | None = None) -> list[np.ndarray]:
    """Non-causal temporal bilateral filter along flow trajectories.

    ``frames``: ``(H, W, 3) uint8 BGR``, all the same size. For frame ``t``
    each neighbour ``t ± k`` (``k <= radius``) is sampled along the
    trajectory obtained by chaining consecutive flows; a trajectory stops
    where a step fails the forward-backward check (occlusion) or leaves the
    frame. Weight = ``exp(-k²/2σ_t²) · exp(-|ΔBGR|²/2σ_c²)``. ``flow``: a
    callable ``(a, b) -> (H, W, 2) float32`` flow; default DIS "fast".
    Consecutive flows are computed once (2 per frame pair). Returns new
    ``(H, W, 3) uint8 BGR`` frames.
    """
    if not frames:
        return []
    h, w = frames[0].shape[:2]
    for i, f in enumerate(frames):
        if f.shape != (h, w, 3) or f.dtype != np.uint8:
            raise ValueError(f"frame {i}: expected ({h}, {w}, 3) uint8, got {f.shape} {f.dtype}")
    flow = flow or FlowEstimator("fast")
    cache = _FlowCache([to_gray(f) for f in frames], flow)
    grid = pixel_grid(h, w)
    inv_t, inv_c = 1.0 / (2 * sigma_t**2), 1.0 / (2 * sigma_c**2)
    n = len(frames)
    out: list[np.ndarray] = []
    for t in range(n):
        cache.evict_before(t - radius - 1)
        centre = frames[t].astype(np.float32)
        acc = centre.copy()
        wsum = np.ones((h, w), np.float32)
        for d in (1, -1):
            pos = grid.copy()
            alive = np.ones((h, w), np.float32)
            for k in range(1, radius + 1):
                i = t + d * k
                if not 0 <= i < n:
                    break
                step, ok = cache.step(i - d, d)
                alive *= cv2.remap(ok, pos, None, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
                pos += cv2.remap(step, pos, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
                nb = cv2.remap(frames[i], pos, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                               borderValue=(0, 0, 0, 0)).astype(np.float32)
                inside = cv2.inRange(pos, (0.0, 0.0), (w - 1.0, h - 1.0)).astype(np.float32) / 255.0
                alive *= inside
                wgt = cv2.exp(_sq_dist(nb, centre) * -inv_c) * (math.exp(-k * k * inv_t)) * alive
                acc += nb * wgt[:, :, None]
                wsum += wgt
                if not alive.any():
                    break
        out.append(np.clip(acc / wsum[:, :, None] + 0.5, 0, 255).astype(np.uint8))
    return out


class CausalDenoiser:
    """Live temporal bilateral filter using only past frames.

    Recursive form: the previous *filtered* frame is warped into the current
    one by DIS flow (current -> previous) and blended with the current frame
    with weight ``β · exp(-|ΔBGR|²/2σ_c²)``, where ``β`` is chosen so the
    exponential memory has the same mean age as the causal half of the
    paper's Gaussian window (``β = m/(1+m)``, ``m = σ_t·sqrt(2/π)``, capped
    at ``radius/(radius+1)``; σ_t = 5 gives β ≈ 0.8, i.e. noise std down
    ~3x on static content). Pixels flowing from outside the frame, or whose
    colour changed (occlusion, flow failure), get weight ~0 and restart.

    ``__call__(frame)``: ``(H, W, 3) uint8 BGR`` -> same; ``last_flow`` holds
    the ``(H, W, 2) float32`` flow current -> previous of the last call (or
    ``None``) so a guide tracker can reuse it. Not thread-safe: one per stream.
    """

    def __init__(self, radius: int = 15, sigma_t: float = 5.0, sigma_c: float = 27.6,
                 preset: str = "ultrafast", scale: float = 0.5) -> None:
        if radius < 0 or sigma_t <= 0 or sigma_c <= 0:
            raise ValueError("CausalDenoiser: radius must be >= 0 and sigmas > 0")
        m = sigma_t * math.sqrt(2 / math.pi)
        self.beta = min(m / (1 + m), radius / (radius + 1))
        self.inv_c = 1.0 / (2 * sigma_c**2)
        self.flow = FlowEstimator(preset, scale)
        self.last_flow: np.ndarray | None = None
        self._state: np.ndarray | None = None
        self._prev_gray: np.ndarray | None = None

    def reset(self) -> None:
        """Forget the past (call on a scene cut or source change)."""
        self._state = None
        self._prev_gray = None
        self.last_flow = None

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        """Filter the next frame: ``(H, W, 3) uint8 BGR`` -> ``(H, W, 3) uint8 BGR``."""
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(f"CausalDenoiser expects (H, W, 3) uint8 BGR, got {frame.shape} {frame.dtype}")
        gray = to_gray(frame)
        cur = frame.astype(np.float32)
        if self._state is None or self._prev_gray is None or self._state.shape != cur.shape:
            self._state, self._prev_gray, self.last_flow = cur, gray, None
            return frame.copy()
        h, w = gray.shape
        flow = self.flow(gray, self._prev_gray)  # current -> previous
        warped = cv2.remap(self._state, cv2.add(pixel_grid(h, w), flow), None, cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=(_FAR,) * 4)
        wgt = cv2.exp(_sq_dist(warped, cur) * -self.inv_c) * np.float32(self.beta)
        self._state = cv2.blendLinear(warped, cur, wgt, 1.0 - wgt)
        self._prev_gray = gray
        self.last_flow = flow
        return cv2.convertScaleAbs(self._state)


class OutputStabilizer:
    """Temporal smoothing of the *stylized* frames along the input's optical flow.

    The network stylizes each frame on its own; what it learned of fine detail
    (edges, dabs, posterised steps) shifts a little whenever the frame's
    sampling does (sub-pixel motion, a new noise pattern), and that shows as
    flicker even on a denoised input. Same recursive form as
    :class:`CausalDenoiser`, applied to the output: the previous stabilised
    output is warped into the current frame by the flow current -> previous
    (the denoiser's, so no extra flow) and blended in with weight
    ``strength · exp(-d²/2σ²)``, ``d`` the mean absolute BGR difference of the
    two (0–255). Where the new output differs much from the carried one (new
    content, an occlusion, a new model, a flow failure) the weight falls to ~0
    and the new output shows as it is; pixels flowing from outside the frame or
    from outside the last stylized region restart. Rounding to uint8 can hold a
    pixel 1 level from the new output (taking the new value at 0-1 levels of
    difference instead cost 0.004-0.006 SSIM on calibration/quality.py's scenes). The previous output is
    sampled bicubically: it is resampled again on every frame, and bilinear samples blurred fine texture a
    little more each time (a 4-px texture moving half a pixel per frame kept 81% of its contrast, 95% with
    cubic ones; on calibration/quality.py's 12 moving-camera scenes render scored +0.10 dB / +0.004 SSIM and
    live +0.07-0.08 dB / +0.003, on its still-camera set -0.02 dB with SSIM unchanged; the warping error rose
    5-20%, still a third to a half of the truth's own; ~1.2 ms more per 640x360 frame). All in OpenCV passes on uint8 images (~5 ms per 640x360 frame on one
    core of the dev CPU).

    Measured on ``calibration/quality.py`` (README): warping error 26-81% lower
    with PSNR and SSIM a little higher. ``strength`` 0 turns it off. Not
    thread-safe: one per stream, frames in order.

    ``__call__(styled, flow_to_prev, frame_shape, box)``: ``styled`` is the
    ``(h, w, 3) uint8 BGR`` network output of ``box`` = ``(y0, y1, x0, x1)`` of
    a frame of ``frame_shape`` ``(H, W)`` (``box`` None = the whole frame);
    ``flow_to_prev`` the frame's ``(H, W, 2) float32`` flow to the previous
    frame, or None (then it restarts). Returns the stabilised ``styled``.
    """

    def __init__(self, strength: float = STEADY, sigma: float = 20.0) -> None:
        if not 0.0 <= strength < 1.0 or sigma <= 0:
            raise ValueError(f"OutputStabilizer: strength must be in [0, 1) and sigma > 0, got {strength}, {sigma}")
        self.strength = strength
        d = np.arange(256, dtype=np.float32)
        self._lut = (strength * np.exp(-d * d / (2 * sigma * sigma))).astype(np.float32).reshape(1, 256)
        self._state: np.ndarray | None = None  # (H, W, 3) uint8: the last output, placed in its frame
        self._valid: np.ndarray | None = None  # (H, W) uint8: 255 where _state holds an output

    def reset(self) -> None:
        self._state = self._valid = None

    def __call__(self, styled: np.ndarray, flow_to_prev: np.ndarray | None, frame_shape: tuple[int, int] | None = None,
                 box: tuple[int, int, int, int] | None = None) -> np.ndarray:
        if self.strength == 0.0:
            return styled
        h, w = frame_shape if frame_shape is not None else styled.shape[:2]
        y0, y1, x0, x1 = box if box is not None else (0, h, 0, w)
        if styled.shape != (y1 - y0, x1 - x0, 3) or styled.dtype != np.uint8:
            raise ValueError(f"OutputStabilizer: styled {styled.shape} {styled.dtype} does not fit box {box}")
        out = styled
        state, valid = self._state, self._valid
        if state is not None and valid is not None and flow_to_prev is not None and \
                state.shape[:2] == (h, w) == flow_to_prev.shape[:2]:
            maps = cv2.add(pixel_grid(h, w)[y0:y1, x0:x1], flow_to_prev[y0:y1, x0:x1])  # region -> previous frame
            m1, m2 = cv2.convertMaps(maps, None, cv2.CV_16SC2)  # type: ignore[call-overload]  # fixed point: the remap runs ~1.5x faster
            region = cv2.remap(state, m1, m2, cv2.INTER_CUBIC, borderMode=cv2.BORDER_CONSTANT)
            # Carry only where all four source pixels held an output: a bilinear sample that mixes in the
            # outside (black) would darken the frame's and the region's edges a little more every frame.
            held = cv2.threshold(cv2.remap(valid, m1, m2, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT), 254, 255,
                                 cv2.THRESH_BINARY)[1]  # 255 only where the sample is 255
            d = cv2.transform(cv2.absdiff(region, styled), _MEAN3)  # (h, w) uint8 mean |ΔBGR|
            wgt = cv2.multiply(cv2.LUT(d, self._lut), held, dtype=cv2.CV_32F, scale=1.0 / 255)
            out = cv2.blendLinear(region, styled, wgt, 1.0 - wgt)
        if (y0, y1, x0, x1) == (0, h, 0, w):
            self._state = out.copy() if out is styled else out  # the caller may change what it got back
            if valid is None or valid.shape != (h, w) or not valid.all():
                self._valid = np.full((h, w), 255, np.uint8)
        else:
            self._state = np.zeros((h, w, 3), np.uint8)
            self._state[y0:y1, x0:x1] = out
            self._valid = np.zeros((h, w), np.uint8)
            self._valid[y0:y1, x0:x1] = 255
        return out
