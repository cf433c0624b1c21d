"""Synthetic clips with exact ground-truth motion, made from real photos.

A photo is enlarged into a *canvas*; each frame is a window onto that canvas
seen through a smooth, known homography (pan, zoom, rotation, shake). Because
the window moves over a canvas larger than one frame, later frames reveal
content that frame 0 never showed, so carrying frame 0 by flow is not
trivially right over long clips.

Conventions: frames are ``(H, W, 3) uint8 BGR``; pixel centres sit at integer
coordinates (OpenCV's convention); homographies are ``(3, 3) float64``; a
flow ``(H, W, 2) float32`` holds ``(dx, dy)`` such that frame ``a`` at ``x``
shows the same scene point as frame ``b`` at ``x + flow(x)``.

Used by tests, by ``calibration/`` benchmarks and by the synthetic live
camera (``SyntheticScene``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from livestyle.errors import ImageError, LivestyleError
from livestyle.files.imageio import read_image
from livestyle.paths import asset

MOTIONS = ("shake", "zoom", "rotate", "pan", "mixed")

# Motion presets as data: parameter -> (amplitude, lowest freq, highest freq).
# tx/ty amplitudes are fractions of the frame width/height (or pixels when
# the key ends in "_px"); rot in degrees; logs = log of the zoom factor.
# Frequencies are cycles per time unit (per frame for clips, per second for
# the live scene).
_CLIP_MOTIONS: dict[str, dict[str, tuple[float, float, float]]] = {
    "shake": {"tx_px": (6.0, 0.05, 0.25), "ty_px": (6.0, 0.05, 0.25), "rot": (0.4, 0.05, 0.2)},
    "zoom": {"logs": (0.2, 1 / 200, 1 / 60)},
    "rotate": {"rot": (12.0, 1 / 200, 1 / 60)},
    "pan": {"tx": (0.25, 1 / 300, 1 / 80), "ty": (0.12, 1 / 300, 1 / 80)},
    "mixed": {
        "tx": (0.15, 1 / 300, 1 / 80), "ty": (0.08, 1 / 300, 1 / 80),
        "logs": (0.12, 1 / 250, 1 / 70), "rot": (5.0, 1 / 250, 1 / 70),
        "tx_px": (2.0, 0.05, 0.2), "ty_px": (2.0, 0.05, 0.2),
    },
}
_SCENE_MOTION: dict[str, tuple[float, float, float]] = {
    "tx": (0.06, 0.02, 0.08), "ty": (0.03, 0.02, 0.08),
    "logs": (0.06, 0.01, 0.05), "rot": (2.0, 0.01, 0.05),
    "tx_px": (1.0, 0.5, 2.0), "ty_px": (1.0, 0.5, 2.0),
}


def load_photo(name: str = "astronaut") -> np.ndarray:
    """A real photo as ``(H, W, 3) uint8 BGR``.

    ``"astronaut"`` (a person, 512x512) ships in ``livestyle/assets/demo``; other names
    (``"chelsea"``, ``"coffee"``, ``"rocket"``, ...) come from
    ``skimage.data`` (scikit-image is a test dependency, imported here only).
    """
    if name == "astronaut":
        return read_image(asset("demo/astronaut.jpg"))  # a broken install says so, never "install scikit-image"
    try:
        import skimage.data
    except ImportError as err:
        raise LivestyleError(
            f"photo {name!r} comes from scikit-image, which is not installed; "
            "run `pip install scikit-image` or use name='astronaut'"
        ) from err
    loader = getattr(skimage.data, name, None)
    if loader is None or not callable(loader):
        raise ImageError(f"photo {name!r}: skimage.data has no such image; try 'astronaut', 'chelsea' or 'coffee'")
    img = np.asarray(loader())
    if img.ndim == 2:
        return cv2.cvtColor(img.astype(np.uint8), cv2.COLOR_GRAY2BGR)
    return np.ascontiguousarray(cv2.cvtColor(img[:, :, :3].astype(np.uint8), cv2.COLOR_RGB2BGR))


def warp_photo(photo: np.ndarray, homography: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Warp ``photo`` by ``homography`` (photo pixel -> output pixel) into ``size=(W, H)``.

    Bilinear, reflected border (``cv2.warpPerspective``). Returns the same dtype
    and channel count as ``photo``.
    """
    return cv2.warpPerspective(photo, homography, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def homography_flow(homography: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Flow ``(H, W, 2) float32`` of a homography: ``flow(x) = homography(x) - x``, ``size=(W, H)``."""
    w, h = size
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    pts = np.stack([xs, ys], axis=-1).reshape(-1, 1, 2)
    mapped = cv2.perspectiveTransform(pts, homography).reshape(h, w, 2)
    return (mapped - np.stack([xs, ys], axis=-1)).astype(np.float32)


def map_points(homography: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a homography to ``(N, 2)`` points ``(x, y)``; returns ``(N, 2) float64``."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 1, 2)
    if pts.shape[0] == 0:
        return np.zeros((0, 2), np.float64)
    return cv2.perspectiveTransform(pts, homography).reshape(-1, 2)


class _Motion:
    """Smooth random camera motion: each parameter a sum of three sinusoids.

    ``view(t)`` is the ``(3, 3)`` matrix mapping canvas pixels to frame pixels
    at time ``t`` (continuous; unit is whatever the frequencies are per).
    """

    def __init__(self, spec: dict[str, tuple[float, float, float]], size: tuple[int, int],
                 canvas_size: tuple[int, int], seed: int, amplitude: float) -> None:
        rng = np.random.default_rng(seed)
        self.size = size
        self.terms: dict[str, np.ndarray] = {}
        for name in ("tx", "ty", "tx_px", "ty_px", "rot", "logs"):
            amp, flo, fhi = spec.get(name, (0.0, 1.0, 1.0))
            freqs = np.exp(rng.uniform(math.log(flo), math.log(fhi), 3))
            phases = rng.uniform(0, 2 * math.pi, 3)
            weights = rng.uniform(0.5, 1.0, 3)
            weights = weights / weights.sum() * amp * amplitude
            self.terms[name] = np.stack([weights, freqs, phases])  # (3, 3): weight, freq, phase
        w, h = size
        cw, ch = canvas_size
        self.base = np.array([[1, 0, w / 2 - cw / 2], [0, 1, h / 2 - ch / 2], [0, 0, 1]], np.float64)

    def _p(self, name: str, t: float) -> float:
        wgt, f, ph = self.terms[name]
        return float(np.sum(wgt * np.sin(2 * math.pi * f * t + ph)))

    def view(self, t: float) -> np.ndarray:
        w, h = self.size
        tx = self._p("tx", t) * w + self._p("tx_px", t)
        ty = self._p("ty", t) * h + self._p("ty_px", t)
        s = math.exp(self._p("logs", t))
        a = math.radians(self._p("rot", t))
        c, si = s * math.cos(a), s * math.sin(a)
        cx, cy = w / 2, h / 2
        m = np.array([[c, -si, cx + tx - c * cx + si * cy],
                      [si, c, cy + ty - si * cx - c * cy],
                      [0, 0, 1]], np.float64)
        return m @ self.base


def _grid(size: tuple[int, int]) -> np.ndarray:
    w, h = size
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    return np.stack([xs, ys], axis=-1)


@dataclass
class Clip:
    """A synthetic clip and its exact motion.

    ``frames[t]``: ``(H, W, 3) uint8 BGR``. ``homographies[t]``: ``(3, 3)
    float64`` mapping frame-0 pixels to frame-t pixels. ``views[t]``: canvas
    pixels to frame-t pixels. ``masks[t]``: optional ``(H, W) uint8`` (255 =
    the subject), ``None`` when the clip has no subject mask.
    """

    frames: list[np.ndarray]
    homographies: list[np.ndarray]
    views: list[np.ndarray]
    canvas_size: tuple[int, int]
    masks: list[np.ndarray] | None = None
    size: tuple[int, int] = field(init=False)

    def __post_init__(self) -> None:
        h, w = self.frames[0].shape[:2]
        self.size = (w, h)

    def __len__(self) -> int:
        return len(self.frames)

    def homography(self, a: int, b: int) -> np.ndarray:
        """``(3, 3) float64`` mapping frame-``a`` pixels to frame-``b`` pixels."""
        return self.views[b] @ np.linalg.inv(self.views[a])

    def flow(self, a: int, b: int) -> np.ndarray:
        """Exact flow ``(H, W, 2) float32``: frame ``a`` at ``x`` is frame ``b`` at ``x + flow(x)``."""
        return homography_flow(self.homography(a, b), self.size)

    def valid(self, a: int, b: int) -> np.ndarray:
        """``(H, W) bool``: pixels of frame ``a`` that show real photo (not the
        reflected border) and stay inside frame ``b``."""
        g = _grid(self.size).reshape(-1, 1, 2)
        w, h = self.size
        cw, ch = self.canvas_size
        on_canvas = cv2.perspectiveTransform(g, np.linalg.inv(self.views[a])).reshape(h, w, 2)
        in_b = cv2.perspectiveTransform(g, self.homography(a, b)).reshape(h, w, 2)
        ok = (on_canvas[..., 0] >= 0) & (on_canvas[..., 0] <= cw - 1)
        ok &= (on_canvas[..., 1] >= 0) & (on_canvas[..., 1] <= ch - 1)
        ok &= (in_b[..., 0] >= 0) & (in_b[..., 0] <= w - 1) & (in_b[..., 1] >= 0) & (in_b[..., 1] <= h - 1)
        return ok


def _cover(photo: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize ``photo`` (keeping aspect) so it covers ``size=(W, H)``."""
    ph, pw = photo.shape[:2]
    k = max(size[0] / pw, size[1] / ph)
    return cv2.resize(photo, (math.ceil(pw * k), math.ceil(ph * k)), interpolation=cv2.INTER_CUBIC)


def homography_clip(photo: np.ndarray, n_frames: int, size: tuple[int, int] = (320, 240), seed: int = 0,
                    motion: str = "mixed", amplitude: float = 1.0) -> Clip:
    """A clip of ``n_frames`` windows onto ``photo`` moving by ``motion``.

    ``photo``: ``(h, w, 3) uint8 BGR``; ``size=(W, H)`` of the frames;
    ``motion`` one of ``MOTIONS``; ``amplitude`` scales every motion
    parameter (0 = static clip). Deterministic for a given ``seed``.
    """
    if motion not in _CLIP_MOTIONS:
        raise ValueError(f"motion {motion!r}: expected one of {MOTIONS}")
    if n_frames < 1:
        raise ValueError(f"n_frames must be >= 1, got {n_frames}")
    w, h = size
    canvas = _cover(photo, (round(1.9 * w), round(1.9 * h)))
    canvas_size = (canvas.shape[1], canvas.shape[0])
    mot = _Motion(_CLIP_MOTIONS[motion], size, canvas_size, seed, amplitude)
    views = [mot.view(float(t)) for t in range(n_frames)]
    inv0 = np.linalg.inv(views[0])
    frames = [warp_photo(canvas, v, size) for v in views]
    return Clip(frames=frames, homographies=[v @ inv0 for v in views], views=views, canvas_size=canvas_size)


def _background(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A textured 'room' ``(H, W, 3) uint8 BGR``: smooth colour field, boxes, fine grain."""
    w, h = size
    low = rng.uniform(60, 200, (max(2, h // 64), max(2, w // 64), 3)).astype(np.float32)
    img = cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC)
    for _ in range(14):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        x1, y1 = x0 + int(rng.integers(w // 20, w // 4)), y0 + int(rng.integers(h // 20, h // 4))
        colour = tuple(float(c) for c in rng.uniform(30, 230, 3))
        cv2.rectangle(img, (x0, y0), (x1, y1), colour, -1 if rng.random() < 0.6 else 3)
    grain = cv2.GaussianBlur(rng.normal(0, 14, (h, w)).astype(np.float32), (0, 0), 1.2)
    return np.clip(img + grain[:, :, None], 0, 255).astype(np.uint8)


class SyntheticScene:
    """An endless, smoothly moving scene with a real person in it.

    The person photo is composited into a wider textured background; a
    camera moves over it by smooth random similarity transforms (pan, zoom,
    rotation, slight shake), lighting drifts slowly per channel, and mild
    Gaussian sensor noise (σ≈3) is added. ``frame(t)`` is deterministic for
    a given ``seed`` and time ``t`` (seconds). The mask is the person photo's
    rectangle (not a silhouette).
    """

    NOISE_BANK = 8

    def __init__(self, size: tuple[int, int] = (640, 360), seed: int = 0, person: str = "astronaut",
                 noise_sigma: float = 3.0) -> None:
        w, h = size
        self.size = size
        rng = np.random.default_rng(seed)
        cw, ch = round(1.6 * w), round(1.6 * h)
        self.canvas = _background((cw, ch), rng)
        photo = load_photo(person)
        ph = round(0.85 * h)
        pw = round(photo.shape[1] * ph / photo.shape[0])
        photo = cv2.resize(photo, (pw, ph), interpolation=cv2.INTER_AREA)
        x0, y0 = (cw - pw) // 2, ch // 2 + h // 2 - ph
        self.canvas[y0:y0 + ph, x0:x0 + pw] = photo
        self.canvas_mask = np.zeros((ch, cw), np.uint8)
        self.canvas_mask[y0:y0 + ph, x0:x0 + pw] = 255
        self.person_box = (x0, y0, pw, ph)
        self._motion = _Motion(_SCENE_MOTION, size, (cw, ch), seed + 1, 1.0)
        lt = rng.uniform(0, 2 * math.pi, (4, 2))
        self._light = (lt, rng.uniform(0.01, 0.04, (4, 2)))
        noise = rng.normal(0, noise_sigma, (self.NOISE_BANK, h, w, 3))
        self._noise_pos = np.clip(noise, 0, 255).round().astype(np.uint8)
        self._noise_neg = np.clip(-noise, 0, 255).round().astype(np.uint8)
        self._seed = seed
        self._ramp = np.arange(256, dtype=np.float32)[:, None]  # (256, 1) for the lighting LUT

    def view(self, t: float) -> np.ndarray:
        """``(3, 3) float64`` mapping canvas pixels to frame pixels at time ``t`` (s)."""
        return self._motion.view(t)

    def homography(self, t: float, t0: float = 0.0) -> np.ndarray:
        """``(3, 3) float64`` mapping frame pixels at time ``t0`` to frame pixels at ``t``."""
        return self.view(t) @ np.linalg.inv(self.view(t0))

    def flow(self, t_a: float, t_b: float) -> np.ndarray:
        """Exact flow ``(H, W, 2) float32`` from the frame at ``t_a`` to the frame at ``t_b``."""
        return homography_flow(self.homography(t_b, t_a), self.size)

    def gains(self, t: float) -> tuple[float, float, float]:
        """Per-channel lighting gains ``(b, g, r)`` at time ``t``, each within 1 ± 0.15."""
        ph, fr = self._light
        glob = 0.1 * math.sin(2 * math.pi * fr[3, 0] * t + ph[3, 0])
        return tuple(1.0 + glob + 0.05 * math.sin(2 * math.pi * fr[c, 0] * t + ph[c, 0]) for c in range(3))  # type: ignore[return-value]

    def clean_frame(self, t: float) -> np.ndarray:
        """The frame at ``t`` without lighting drift or noise, ``(H, W, 3) uint8 BGR``."""
        return cv2.warpPerspective(self.canvas, self.view(t), self.size, flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_REFLECT)

    def frame(self, t: float) -> np.ndarray:
        """The camera frame at time ``t`` seconds: ``(H, W, 3) uint8 BGR``, deterministic."""
        img = self.clean_frame(t)
        lut = np.clip(self._ramp * np.asarray(self.gains(t), np.float32), 0, 255).astype(np.uint8)
        img = cv2.LUT(img, lut.reshape(256, 1, 3))  # per-channel gain, faster than cv2.multiply
        k = hash((self._seed, round(t * 1000))) % self.NOISE_BANK
        cv2.add(img, self._noise_pos[k], dst=img)
        cv2.subtract(img, self._noise_neg[k], dst=img)
        return img

    def mask(self, t: float) -> np.ndarray:
        """Where the person photo is at time ``t``: ``(H, W) uint8``, 255 = person."""
        return cv2.warpPerspective(self.canvas_mask, self.view(t), self.size, flags=cv2.INTER_NEAREST,
                                   borderMode=cv2.BORDER_CONSTANT, borderValue=0)
