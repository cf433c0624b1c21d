"""Guides: extra input channels that tell the network *where* it is on the subject.

The network stylizes each frame independently from its colours; a guide
adds channels computed from the keyframe and carried to the current frame
(e.g. ``BlobGuide``: a smooth random colour field glued to the person by
optical flow), so texture on flat, ambiguous regions stays put.

Guides are a list of objects. The trainer, the offline renderer and the live
pipeline loop over ``guides: list[Guide]`` and concatenate, in list order,
the frame's 3 channels with each guide's ``channels`` channels:

* training:  ``g.key(key_bgr, mask)`` for every keyframe;
* offline:   ``g.sequence(frames, {index: mask_or_None})`` once per clip;
* live:      ``tr = g.tracker([(key_bgr, mask), ...])`` then
  ``tr.update(frame_bgr, mask)`` per frame.

The temporal denoiser (``CausalDenoiser``, ``denoise_sequence``) is a frame
filter, not a guide: run it before the guides and the network, and train on
the filtered keyframe. ``OutputStabilizer`` is its counterpart on the
network's output (along the same flow). ``KeyCarry`` is not a guide either: it
blends the painted keyframe, carried by flow, into the network's output where
the frame shows what the keyframe showed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from .blobs import BlobGuide, KeyInput, poisson_disk, render_blobs
from .carry import (
    CARRY,
    CARRY_EVERY_LIVE,
    CARRY_FLOW,
    CARRY_FLOW_LIVE,
    CARRY_LIVE,
    CarryKey,
    KeyCarry,
    nearest_keys,
)
from .denoise import (
    STEADY,
    STEADY_FLOW,
    STEADY_FLOW_RENDER,
    CausalDenoiser,
    OutputStabilizer,
    denoise_sequence,
)
from .flow import FlowEstimator, forward_backward_consistency, points_consistent, sample_at, warp
from .tracker import BlobTracker


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


__all__ = [
    "BlobGuide", "BlobTracker", "CARRY", "CARRY_EVERY_LIVE", "CARRY_FLOW", "CARRY_FLOW_LIVE", "CARRY_LIVE", "CarryKey", "KeyCarry", "nearest_keys", "CausalDenoiser", "FlowEstimator", "Guide", "GuideTracker", "KeyInput", "OutputStabilizer",
    "denoise_sequence", "forward_backward_consistency", "points_consistent", "poisson_disk",
    "render_blobs", "sample_at", "warp", "STEADY", "STEADY_FLOW", "STEADY_FLOW_RENDER",
]
