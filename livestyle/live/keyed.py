"""What the live pipeline derives from the painted keyframes: guide trackers and the keyframe carry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2

from livestyle.engine.train import make_guides
from livestyle.errors import LivestyleError
from livestyle.style import Keyframe, StyleFolder
from livestyle.temporal import CarryKey, KeyCarry


@dataclass
class Keyed:
    """Per-stream helpers built from the style's painted keyframes (at the work size)."""

    trackers: list = field(default_factory=list)  # one GuideTracker per guide, each frame follows the most similar key
    carrier: KeyCarry | None = None  # None: no painted keyframe


def keyed(style: StyleFolder | None, guide_names: tuple[str, ...], size: tuple[int, int]) -> Keyed:
    """Trackers for ``guide_names`` and a ``KeyCarry`` over every painted keyframe, at ``size`` ``(w, h)``.

    Keyframes from another resolution are resized to ours. Unreadable keyframes give an empty
    ``Keyed`` (the watcher reports them; the live output goes on unstylized by them).
    """
    if style is None:
        return Keyed()
    try:
        kfs = style.load(strict=False)
    except LivestyleError:
        return Keyed()
    return keyed_from(kfs, guide_names, size)


def keyed_from(kfs: Sequence[Keyframe], guide_names: tuple[str, ...], size: tuple[int, int]) -> Keyed:
    """``keyed`` for keyframes already loaded (``style.Keyframe``: key, painting, optional mask), at ``size`` ``(w, h)``."""
    keys = []
    for k in kfs:
        if k.key.shape[1::-1] != size:  # a keyframe from another resolution: use it at ours
            keys.append(CarryKey(cv2.resize(k.key, size, interpolation=cv2.INTER_AREA),
                                 cv2.resize(k.styled, size, interpolation=cv2.INTER_AREA),
                                 None if k.mask is None else cv2.resize(k.mask, size, interpolation=cv2.INTER_NEAREST)))
        else:
            keys.append(CarryKey(k.key, k.styled, k.mask))
    pairs = [(k.photo, k.mask) for k in keys]
    trackers = [g.tracker(pairs) for g in make_guides(guide_names)] if guide_names else []
    return Keyed(trackers, KeyCarry.live(keys) if keys else None)
