"""Random patch sampling from keyframe pairs, constrained to the (eroded) mask.

Every batch mixes all keyframes (the reference does so): the batch is split as
evenly as possible between them.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from livestyle.errors import ImageError


def valid_centres(mask: np.ndarray | None, shape: tuple[int, int], patch: int, erode: int = 7) -> np.ndarray:
    """Top-left corners ``(N, 2) int64 [y, x]`` of patches whose centre lies in the eroded mask.

    ``mask``: ``(H, W) uint8`` (255 = stylize) or None for the whole frame.
    """
    h, w = shape
    if h < patch or w < patch:
        raise ImageError(f"keyframe {w}x{h} is smaller than a {patch}x{patch} training patch; use a larger image")
    m = np.full((h, w), 255, np.uint8) if mask is None else mask
    m = cv2.erode(m, np.ones((erode, erode), np.uint8))
    half = patch // 2
    allowed = np.zeros_like(m, dtype=bool)
    allowed[half:h - patch + half + 1, half:w - patch + half + 1] = True
    ys, xs = np.nonzero((m > 0) & allowed)
    if ys.size == 0:
        raise ImageError("the mask leaves no room for a training patch (after a 7x7 erosion); "
                         "paint a larger white area in the mask")
    return np.stack([ys - half, xs - half], axis=1).astype(np.int64)


class PatchSampler:
    """Samples aligned (input, target) patches.

    ``inputs[i]``: ``(C, H_i, W_i)`` float in [-1, 1] (RGB + guides); ``targets[i]``:
    ``(3, H_i, W_i)`` float RGB in [-1, 1]; ``masks[i]``: ``(H_i, W_i) uint8`` or None.

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
        self.corners = [valid_centres(m, (t.shape[-2], t.shape[-1]), patch) for m, t in zip(masks, targets, strict=True)]
        self.rng = np.random.default_rng(seed)

    def _take(self, k: int, n: int, src: list[torch.Tensor]) -> torch.Tensor:
        p = self.patch
        idx = self.rng.integers(0, len(self.corners[k]), n)
        img = src[k]
        return torch.stack([img[:, y:y + p, x:x + p] for y, x in self.corners[k][idx]])

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
            idx = self.rng.integers(0, len(self.corners[k]), n)
            for y, x in self.corners[k][idx]:
                xs.append(self.inputs[k][:, y:y + p, x:x + p])
                ys.append(self.targets[k][:, y:y + p, x:x + p])
        x_batch = torch.stack(xs)
        if self.guide_dropout > 0 and x_batch.shape[1] > 3:
            self._drop_guides(x_batch)
        return x_batch, torch.stack(ys)

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
