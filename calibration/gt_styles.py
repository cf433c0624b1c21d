"""Ground-truth styles of the quality benchmark (``quality.py``): local filters applied to each frame,
and textures drawn on the photo itself and moved with it (what the blob guide is for).

``calibration/pretrain.py`` keeps these styles (and the benchmark's photos) out of its tasks.
"""

from __future__ import annotations

import cv2
import numpy as np

from livestyle.capture.synthclip import Clip, warp_photo


def _posterize(f: np.ndarray) -> np.ndarray:
    smooth = cv2.edgePreservingFilter(f, flags=cv2.RECURS_FILTER, sigma_s=60, sigma_r=0.4)
    step = 256 // 6
    return (smooth // step * step + step // 2).astype(np.uint8)


LOCAL_STYLES = {
    "stylize": lambda f: cv2.stylization(f, sigma_s=60, sigma_r=0.45),
    "oil": lambda f: cv2.xphoto.oilPainting(f, 7, 1),
    "posterize": _posterize,
    "pencil": lambda f: cv2.pencilSketch(f, sigma_s=60, sigma_r=0.07, shade_factor=0.05)[1],
}
ATTACHED_STYLES = ("texture", "brush")  # drawn on the photo itself and moved with it
STYLES = (*LOCAL_STYLES, *ATTACHED_STYLES)


def stroke_texture(canvas: np.ndarray, seed: int = 7) -> np.ndarray:
    """The ``texture`` style of a whole canvas: ``(h, w, 3) uint8 BGR`` in and out.

    Warm colour grade plus ~1 dark-blue hatching stroke per 40 px (length 4-9 px,
    orientation from a smooth random field), all in canvas coordinates.
    """
    h, w = canvas.shape[:2]
    rng = np.random.default_rng(seed)
    theta = cv2.resize(rng.uniform(0, np.pi, (h // 48 + 2, w // 48 + 2)).astype(np.float32), (w, h),
                       interpolation=cv2.INTER_CUBIC)
    strokes = np.zeros((h, w), np.float32)
    n = h * w // 40
    ys, xs = rng.integers(0, h, n), rng.integers(0, w, n)
    lengths, values = rng.uniform(4, 9, n), rng.uniform(0.4, 1.0, n)
    for y, x, ln, v in zip(ys, xs, lengths, values, strict=True):
        a = theta[y, x] + rng.normal(0, 0.15)
        dx, dy = 0.5 * ln * np.cos(a), 0.5 * ln * np.sin(a)
        cv2.line(strokes, (int(x - dx), int(y - dy)), (int(x + dx), int(y + dy)), float(v), 1, cv2.LINE_AA)
    alpha = 0.6 * np.clip(strokes, 0, 1)[:, :, None]
    base = np.clip(canvas.astype(np.float32) * np.array([0.85, 1.0, 1.12], np.float32) + 10, 0, 255)
    ink = np.array([90, 40, 20], np.float32)  # BGR dark blue
    return np.clip(base * (1 - alpha) + ink * alpha, 0, 255).round().astype(np.uint8)


def brush_texture(canvas: np.ndarray, seed: int = 11) -> np.ndarray:
    """The ``brush`` style of a whole canvas: ``(h, w, 3) uint8 BGR`` in and out.

    Impressionist dabs at the scale of a painted brush stroke, as the blob guide can place them:
    on a slightly smoothed, warmer base, ~1 dab per 60 px^2 (ellipses with half-axes 3-7 x 1.5-3
    px, orientation from a smooth random field, drawn in random order), each dab the base colour
    under its centre times a random brightness (0.7-1.3) and a small tint (+-10% per channel). On flat regions
    only the position of a dab, not the photo, tells its colour: what the blob guide is for.
    """
    h, w = canvas.shape[:2]
    rng = np.random.default_rng(seed)
    base = cv2.bilateralFilter(canvas, 7, 40, 5).astype(np.float32) * np.array([0.9, 1.0, 1.08], np.float32)
    base = np.clip(base + 6, 0, 255)
    theta = cv2.resize(rng.uniform(0, np.pi, (h // 64 + 2, w // 64 + 2)).astype(np.float32), (w, h),
                       interpolation=cv2.INTER_CUBIC)
    out = base.copy()
    n = h * w // 60
    ys, xs = rng.integers(0, h, n), rng.integers(0, w, n)
    major, minor = rng.uniform(3, 7, n), rng.uniform(1.5, 3, n)
    gains = rng.uniform(0.7, 1.3, (n, 1)) * rng.uniform(0.9, 1.1, (n, 3))
    for y, x, a, b, g in zip(ys, xs, major, minor, gains, strict=True):
        colour = tuple(float(c) for c in np.clip(base[y, x] * g, 0, 255))
        angle = float(np.degrees(theta[y, x]))
        cv2.ellipse(out, (int(x), int(y)), (int(round(a)), int(round(b))), angle, 0, 360, colour, -1, cv2.LINE_AA)
    return np.clip(out, 0, 255).round().astype(np.uint8)


ATTACHED_TEXTURES = {"texture": stroke_texture, "brush": brush_texture}


def style_clip(clip: Clip, photo: np.ndarray, style: str) -> list[np.ndarray]:
    """Ground-truth frames ``(H, W, 3) uint8 BGR`` of ``clip`` in ``style``."""
    if style in LOCAL_STYLES:
        return [LOCAL_STYLES[style](f) for f in clip.frames]
    canvas = cv2.resize(photo, clip.canvas_size, interpolation=cv2.INTER_CUBIC)  # what homography_clip moves
    if not np.array_equal(warp_photo(canvas, clip.views[0], clip.size), clip.frames[0]):
        raise RuntimeError("synthclip's canvas changed; update style_clip to rebuild it the same way")
    styled = ATTACHED_TEXTURES[style](canvas)
    return [warp_photo(styled, v, clip.size) for v in clip.views]
