"""Dense optical flow (OpenCV DIS) and flow-based warping.

Flow convention everywhere in livestyle: a flow ``(H, W, 2) float32`` from
image ``a`` to image ``b`` holds ``(dx, dy)`` in pixels such that
``a(x) ≈ b(x + flow(x))``, pixel centres at integer coordinates.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

# name -> (OpenCV DIS preset, setters applied on top). ``medium`` matches patches at half the image's
# resolution (finest scale 1), ``fast`` and ``ultrafast`` at a quarter: for carrying a painting along
# the flow that is what counts (calibration/live_gap.py: the live carry 1.2-2.3 dB closer to render with
# medium at full size than with fast; medium at half size no better than fast). ``medium-r2`` is
# medium with 2 variational refinement iterations instead of 5: the same scores within 0.05 dB on 3 of
# 4 scenes, 14% less time (18.4 against 21.4 ms at 640x360, one thread, AMD EPYC Zen 4); a sparser
# patch grid (stride 4 or 6) lost 0.7-3 dB. ``fine-r2`` is medium-r2 with patches matched at the
# image's own resolution (finest scale 0): on a half-size frame, the same patch level as medium-r2 on
# the full-size one (live at a render scale of 0.5: the key flow as precise as at full size).
PRESETS: dict[str, tuple[int, dict[str, int]]] = {
    "ultrafast": (cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST, {}),
    "fast": (cv2.DISOPTICAL_FLOW_PRESET_FAST, {}),
    "medium": (cv2.DISOPTICAL_FLOW_PRESET_MEDIUM, {}),
    "medium-r2": (cv2.DISOPTICAL_FLOW_PRESET_MEDIUM, {"VariationalRefinementIterations": 2}),
    "fine-r2": (cv2.DISOPTICAL_FLOW_PRESET_MEDIUM, {"VariationalRefinementIterations": 2, "FinestScale": 0}),
}
BORDERS = {
    "reflect": cv2.BORDER_REFLECT,
    "replicate": cv2.BORDER_REPLICATE,
    "constant": cv2.BORDER_CONSTANT,
}

_grids: dict[tuple[int, int], np.ndarray] = {}
_grids_lock = threading.Lock()


def pixel_grid(h: int, w: int) -> np.ndarray:
    """``(H, W, 2) float32`` of pixel coordinates ``(x, y)``; cached, do not modify."""
    with _grids_lock:
        g = _grids.get((h, w))
        if g is None:
            ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
            g = np.stack([xs, ys], axis=-1)
            g.setflags(write=False)
            if len(_grids) > 16:
                _grids.clear()
            _grids[(h, w)] = g
        return g


def to_gray(img: np.ndarray) -> np.ndarray:
    """``(H, W, 3) uint8 BGR`` or ``(H, W) uint8`` -> ``(H, W) uint8`` gray."""
    if img.dtype != np.uint8:
        raise TypeError(f"flow input must be uint8, got {img.dtype}")
    if img.ndim == 2:
        return img
    if img.ndim == 3 and img.shape[2] == 3:
        return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    raise ValueError(f"flow input must be (H, W) or (H, W, 3), got {img.shape}")


class FlowEstimator:
    """DIS optical flow between two frames.

    ``preset``: ``"ultrafast"``, ``"fast"``, ``"medium"``, ``"medium-r2"`` or ``"fine-r2"`` (``PRESETS``); ``scale`` in
    (0, 1] computes flow on images resized by ``scale`` and scales the flow
    back to full resolution (cheaper, smoother, less precise).

    Thread safety: the underlying ``cv2.DISOpticalFlow`` keeps working
    buffers, so calls on one estimator are serialised by a lock. Give each
    thread its own estimator to run flows in parallel.
    """

    def __init__(self, preset: str = "fast", scale: float = 1.0) -> None:
        if preset not in PRESETS:
            raise ValueError(f"flow preset {preset!r}: expected one of {sorted(PRESETS)}")
        if not 0.0 < scale <= 1.0:
            raise ValueError(f"flow scale must be in (0, 1], got {scale}")
        self.preset = preset
        self.scale = scale
        base, setters = PRESETS[preset]
        self._dis = cv2.DISOpticalFlow_create(base)  # type: ignore[attr-defined]  # missing from cv2's stubs
        for name, value in setters.items():
            getattr(self._dis, f"set{name}")(value)
        self._lock = threading.Lock()

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Flow ``(H, W, 2) float32`` from ``a`` to ``b`` (both ``(H, W, 3)`` BGR or ``(H, W)`` gray, uint8)."""
        ga, gb = to_gray(a), to_gray(b)
        if ga.shape != gb.shape:
            raise ValueError(f"flow inputs differ in size: {ga.shape} vs {gb.shape}")
        h, w = ga.shape
        if self.scale < 1.0:
            sw, sh = max(8, round(w * self.scale)), max(8, round(h * self.scale))
            ga = cv2.resize(ga, (sw, sh), interpolation=cv2.INTER_AREA)
            gb = cv2.resize(gb, (sw, sh), interpolation=cv2.INTER_AREA)
        with self._lock:
            flow = self._dis.calc(ga, gb, None)
        if self.scale < 1.0:
            sw, sh = ga.shape[1], ga.shape[0]
            cv2.multiply(flow, (w / sw, h / sh, 0.0, 0.0), dst=flow)  # scale vectors at low res: cheaper
            flow = cv2.resize(flow, (w, h), interpolation=cv2.INTER_LINEAR)
        return flow


def warp(img: np.ndarray, flow: np.ndarray, border: str = "reflect", border_value: float = 0.0,
         interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    """Backward warp: ``out(x) = img(x + flow(x))``, bilinear by default.

    ``img``: ``(H, W)`` or ``(H, W, C)`` of any dtype OpenCV remaps (uint8,
    float32, ...); ``flow``: ``(H, W, 2) float32``. ``border``: one of
    ``"reflect"``, ``"replicate"``, ``"constant"`` (filled with
    ``border_value``). Returns the same shape and dtype as ``img``.
    """
    h, w = flow.shape[:2]
    if img.shape[:2] != (h, w):
        raise ValueError(f"warp: image {img.shape[:2]} and flow {flow.shape[:2]} differ in size")
    if border not in BORDERS:
        raise ValueError(f"warp border {border!r}: expected one of {sorted(BORDERS)}")
    maps = pixel_grid(h, w) + flow.astype(np.float32, copy=False)
    value = (border_value,) * 4
    return cv2.remap(img, maps, None, interpolation, borderMode=BORDERS[border], borderValue=value)


def sample_at(field: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Bilinear samples of ``field`` (``(H, W, C)`` float32) at ``(N, 2)`` points ``(x, y)``.

    Returns ``(N, C) float32``; points outside the image take the nearest edge value.
    """
    pts = np.asarray(points, np.float32).reshape(1, -1, 2)
    if pts.shape[1] == 0:
        return np.zeros((0, field.shape[2] if field.ndim == 3 else 1), np.float32)
    out = cv2.remap(field, pts, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(pts.shape[1], -1)


def forward_backward_consistency(f_ab: np.ndarray, f_ba: np.ndarray, tol: float = 1.0,
                                 rel: float = 0.01) -> np.ndarray:
    """``(H, W) bool``: pixels of ``a`` whose round trip ``a -> b -> a`` returns within tolerance.

    A pixel ``x`` is consistent when ``x + f_ab(x)`` lies inside ``b`` and
    ``|f_ab(x) + f_ba(x + f_ab(x))|² <= tol² + rel·(|f_ab|² + |f_ba|²)``
    (Sundaram et al. 2010). Both flows ``(H, W, 2) float32``.
    """
    h, w = f_ab.shape[:2]
    back = warp(f_ba, f_ab, border="replicate")
    ones = np.ones((1, 2), np.float32)
    loop = cv2.add(f_ab, back)
    err = cv2.transform(cv2.multiply(loop, loop), ones)  # (H, W) squared round-trip error
    mag = cv2.transform(cv2.multiply(f_ab, f_ab), ones) + cv2.transform(cv2.multiply(back, back), ones)
    target = cv2.add(pixel_grid(h, w), f_ab)
    inside = cv2.inRange(target, (0.0, 0.0), (w - 1.0, h - 1.0)) > 0
    return (err <= tol * tol + rel * mag) & inside


def points_consistent(f_ab: np.ndarray, f_ba: np.ndarray, points: np.ndarray, tol: float = 1.0,
                      rel: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    """Move ``(N, 2)`` points of ``a`` to ``b`` and check the round trip at those points only.

    Returns ``(moved (N, 2) float32, ok (N,) bool)``; ``ok`` is False where the
    round trip misses by more than the tolerance or the point leaves ``b``.
    """
    fwd = sample_at(f_ab, points)
    moved = np.asarray(points, np.float32) + fwd
    back = sample_at(f_ba, moved)
    err = np.square(fwd + back).sum(axis=1)
    mag = np.square(fwd).sum(axis=1) + np.square(back).sum(axis=1)
    h, w = f_ab.shape[:2]
    inside = (moved[:, 0] >= 0) & (moved[:, 0] <= w - 1) & (moved[:, 1] >= 0) & (moved[:, 1] <= h - 1)
    return moved, (err <= tol * tol + rel * mag) & inside
