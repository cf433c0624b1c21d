"""Guides: extra input channels that tell the network *where* it is on the subject.

The network stylizes each frame independently from its colours; a guide
adds channels computed from the keyframe and carried to the current frame
(``BlobGuide``: a smooth random colour field glued to the person by
optical flow), so texture on flat regions stays put.

Guides are a list of objects. The trainer, the offline renderer and the live
pipeline loop over ``guides: list[Guide]`` and concatenate, in list order,
the frame's 3 channels with each guide's ``channels`` channels:

* training:  ``g.key(key_bgr, mask)`` for every keyframe;
* offline:   ``g.sequence(frames, {index: mask_or_None})`` once per clip;
* live:      ``tr = g.tracker([(key_bgr, mask), ...])`` then
  ``tr.update(frame_bgr, mask)`` per frame.

``field.py`` draws the colour field, ``blobs.py`` is the guide, ``tracker.py``
carries it live. The filters that run along the same flow (denoiser, output
stabiliser, keyframe carry) are not guides: they live in ``livestyle.temporal``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from livestyle.guides.blobs import BlobGuide
from livestyle.guides.field import KeyInput, poisson_disk, render_blobs
from livestyle.guides.tracker import BlobTracker


@runtime_checkable
class GuideTracker(Protocol):
    """Live state of one guide for one stream."""

    def update(self, frame: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """Guide ``(H, W, channels) uint8`` for the next frame ``(H, W, 3) uint8 BGR``;
        ``mask`` ``(H, W) uint8`` (255 = subject) or ``None``."""
        ...


@runtime_checkable
class Guide(Protocol):
    """A source of extra input channels, drawn on keys and carried to other frames."""

    name: str
    channels: int

    def key(self, key_bgr: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """Guide ``(H, W, channels) uint8`` for a keyframe ``(H, W, 3) uint8 BGR`` (deterministic)."""
        ...

    def sequence(self, frames: Sequence[np.ndarray], keys: dict[int, np.ndarray | None]) -> list[np.ndarray]:
        """Guides for every frame of a clip; ``keys`` maps frame index -> key mask or ``None``."""
        ...

    def tracker(self, keys: Sequence[KeyInput]) -> GuideTracker:
        """Live tracker for the given ``(key_bgr, mask_or_None)`` pairs."""
        ...


__all__ = ["BlobGuide", "BlobTracker", "Guide", "GuideTracker", "KeyInput", "poisson_disk", "render_blobs"]
