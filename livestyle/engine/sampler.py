"""Random patch sampling from keyframe pairs, constrained to the (eroded) mask.

Every batch mixes all keyframes (the reference does so): the batch is split as
evenly as possible between them. Keyframes are kept as ``uint8`` (a quarter of
float32: a 4000x3000 keyframe with its guide and painting is 108 MB, not 432)
and only the patches taken are converted; where patches may start is kept as
flat indices, and not at all without a mask.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from livestyle.errors import ImageError

EVAL_PIXELS = 640 * 360
"""A keyframe larger than this is evaluated on ``EVAL_TILES`` tiles of it (``eval_tiles``), not whole: an
evaluation costs at most what a 640x360 keyframe's does (a whole 3840x2160 one took 18 s, and training
evaluates every 2 s)."""
EVAL_TILES = 6


def unit(t: torch.Tensor) -> torch.Tensor:
    """``uint8`` values -> float32 in [-1, 1] (``imageio.bgr_to_tensor``'s scale); a float tensor as it is."""
    return t.float().div_(127.5).sub_(1.0) if t.dtype == torch.uint8 else t


def valid_centres(mask: np.ndarray | None, shape: tuple[int, int], patch: int, erode: int = 7) -> np.ndarray:
    """Top-left corners ``(N, 2) int64 [y, x]`` of patches whose centre lies in the eroded mask.

    ``mask``: ``(H, W) uint8`` (255 = stylize) or None for the whole frame.
    """
    flat = _valid_flat(mask, shape, patch, erode)
    return np.stack(np.divmod(flat, shape[1]), axis=1).astype(np.int64)


def _check_size(shape: tuple[int, int], patch: int) -> None:
    h, w = shape
    if h < patch or w < patch:
        raise ImageError(f"keyframe {w}x{h} is smaller than a {patch}x{patch} training patch; use a larger image")


def _valid_flat(mask: np.ndarray | None, shape: tuple[int, int], patch: int, erode: int = 7) -> np.ndarray:
    """``valid_centres`` as flat indices ``y * W + x`` (int32 where they fit: 4 bytes per place)."""
    h, w = shape
    _check_size(shape, patch)
    m = np.full((h, w), 255, np.uint8) if mask is None else mask
    m = cv2.erode(m, np.ones((erode, erode), np.uint8))
    half = patch // 2
    allowed = np.zeros_like(m, dtype=bool)
    allowed[half:h - patch + half + 1, half:w - patch + half + 1] = True
    allowed &= m > 0
    flat = np.flatnonzero(allowed)
    if flat.size == 0:
        raise ImageError("the mask leaves no room for a training patch (after a 7x7 erosion); "
                         "paint a larger white area in the mask")
    flat = flat.astype(np.int32 if h * w < 2**31 else np.int64)
    flat -= half * w + half  # centre -> top-left corner
    return flat


def eval_tiles(shape: tuple[int, int], mask: np.ndarray | None, pixels: int = EVAL_PIXELS,
               tiles: int = EVAL_TILES) -> list[tuple[int, int, int, int]]:
    """Where to evaluate a keyframe of ``shape`` ``(H, W)``: ``[(y, x, h, w)]``, the whole of it when it has
    at most ``pixels``, else ``tiles`` square tiles of ``pixels / tiles`` spread on a grid over the mask's
    bounding box (the whole frame without a mask). Fixed per keyframe, so evaluations compare."""
    h, w = shape
    if h * w <= pixels:
        return [(0, 0, h, w)]
    side = min(h, w, int((pixels / tiles) ** 0.5) // 4 * 4)
    y0, x0, y1, x1 = 0, 0, h, w
    if mask is not None and (mask > 0).any():
        ys, xs = np.nonzero(np.asarray(mask[::4, ::4]) > 0)  # subsampled: the box of a 12 MP mask in ms
        y0, y1, x0, x1 = 4 * ys.min(), min(h, 4 * ys.max() + 4), 4 * xs.min(), min(w, 4 * xs.max() + 4)
    cols = 3 if (x1 - x0) >= (y1 - y0) else 2
    rows = -(-tiles // cols)
    out = []
    for i in range(tiles):
        cy = y0 + (i // cols + 0.5) * (y1 - y0) / rows
        cx = x0 + (i % cols + 0.5) * (x1 - x0) / cols
        y = int(min(max(cy - side / 2, 0), h - side))
        x = int(min(max(cx - side / 2, 0), w - side))
        out.append((y, x, side, side))
    return out


class PatchSampler:
    """Samples aligned (input, target) patches.

    ``inputs[i]``: ``(C, H_i, W_i)`` float in [-1, 1] (RGB + guides) or ``uint8`` (0..255, converted
    per patch, ``unit``); ``targets[i]``: ``(3, H_i, W_i)`` RGB, float in [-1, 1] or ``uint8`` likewise;
    ``masks[i]``: ``(H_i, W_i) uint8`` or None. Patches are float32 in [-1, 1] either way.

    ``guide_dropout``: the share of patches whose guide channels (those after RGB) lose a strip
    from one side (a quarter to all of the patch) to -1, the guide's "no guide here" value. On
    new frames, content the keyframe never showed (a camera pan, a person turning) has no
    guide; a network that never saw that during training paints artefacts there.
    """

    def __init__(self, inputs: list[torch.Tensor], targets: list[torch.Tensor],
                 masks: list[np.ndarray | None], patch: int = 32, seed: int = 0,
                 guide_dropout: float = 0.0):
        if not inputs:
            raise ValueError("PatchSampler needs at least one keyframe")
        self.inputs, self.targets, self.patch = inputs, targets, patch
        self.guide_dropout = guide_dropout
        # where patches may start: flat indices inside a mask; None = anywhere (a range, no array)
        self.places: list[np.ndarray | None] = []
        for m, t in zip(masks, targets, strict=True):
            _check_size((t.shape[-2], t.shape[-1]), patch)
            self.places.append(None if m is None else _valid_flat(m, (t.shape[-2], t.shape[-1]), patch))
        self.rng = np.random.default_rng(seed)

    def _corners(self, k: int, n: int) -> np.ndarray:
        """``n`` random top-left corners ``(n, 2) [y, x]`` of patches of keyframe ``k``."""
        h, w = self.targets[k].shape[-2:]
        places = self.places[k]
        if places is None:  # the same draws as over the list of every corner, in row order
            cols = w - self.patch + 1
            return np.stack(np.divmod(self.rng.integers(0, (h - self.patch + 1) * cols, n), cols), axis=1)
        return np.stack(np.divmod(places[self.rng.integers(0, len(places), n)].astype(np.int64), w), axis=1)

    def _take(self, k: int, n: int, src: list[torch.Tensor]) -> torch.Tensor:
        p = self.patch
        img = src[k]
        return unit(torch.stack([img[:, y:y + p, x:x + p] for y, x in self._corners(k, n)]))

    def _split(self, batch: int) -> list[int]:
        n = len(self.inputs)
        return [batch // n + (1 if i < batch % n else 0) for i in range(n)]

    def sample(self, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Aligned patches: inputs ``(B, C, p, p)``, targets ``(B, 3, p, p)``."""
        xs, ys = [], []
        p = self.patch
        for k, n in enumerate(self._split(batch)):
            if n == 0:
                continue
            for y, x in self._corners(k, n):
                xs.append(self.inputs[k][:, y:y + p, x:x + p])
                ys.append(self.targets[k][:, y:y + p, x:x + p])
        x_batch = unit(torch.stack(xs))
        if self.guide_dropout > 0 and x_batch.shape[1] > 3:
            self._drop_guides(x_batch)
        return x_batch, unit(torch.stack(ys))

    def _drop_guides(self, x: torch.Tensor) -> None:
        """Blank a strip of the guide channels of some patches of ``x`` ``(B, C, p, p)``, in place."""
        p = self.patch
        for i in np.flatnonzero(self.rng.random(len(x)) < self.guide_dropout):
            width = int(self.rng.integers(p // 4, p + 1))
            side = int(self.rng.integers(4))
            g = x[i, 3:]
            if side == 0:
                g[:, :, :width] = -1.0
            elif side == 1:
                g[:, :, p - width:] = -1.0
            elif side == 2:
                g[:, :width, :] = -1.0
            else:
                g[:, p - width:, :] = -1.0

    def sample_real(self, batch: int) -> torch.Tensor:
        """Random patches of the stylized keyframes (the discriminator's "real"), ``(B, 3, p, p)``."""
        return torch.cat([self._take(k, n, self.targets) for k, n in enumerate(self._split(batch)) if n])
