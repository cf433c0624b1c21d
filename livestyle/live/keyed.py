"""What the live pipeline derives from the painted keyframes: guide trackers and the keyframe carry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2

from livestyle.engine.train import make_guides
from livestyle.errors import LivestyleError
from livestyle.live.upscale import kept_detail
from livestyle.style import Keyframe, StyleFolder
from livestyle.temporal import CarryKey, KeyCarry

FINE = {"fine": True, "coarse": False, "auto": None}  # LiveConfig.key_flow -> KeyCarry.live's ``fine``


@dataclass
class Keyed:
    """Per-stream helpers built from the style's painted keyframes (at the work size)."""

    trackers: list = field(default_factory=list)  # one GuideTracker per guide, each frame follows the most similar key
    carrier: KeyCarry | None = None  # None: no painted keyframe


def keyed(style: StyleFolder | None, guide_names: tuple[str, ...], size: tuple[int, int],
          scale: float = 1.0, key_flow: str = "auto") -> Keyed:
    """Trackers for ``guide_names`` and a ``KeyCarry`` over every painted keyframe, for frames of ``size``
    ``(w, h)`` (the camera's), a render scale ``scale`` and the carry's ``key_flow`` (see ``keyed_from``).

    Keyframes from another resolution are resized to ours. Unreadable keyframes give an empty
    ``Keyed`` (the watcher reports them; the live output goes on unstylized by them).
    """
    if style is None:
        return Keyed()
    try:
        kfs = style.load(strict=False)
    except LivestyleError:
        return Keyed()
    return keyed_from(kfs, guide_names, size, scale, key_flow)


def work_size(size: tuple[int, int], scale: float) -> tuple[int, int]:
    """``(w, h)`` the network and the guides work at for frames of ``size`` and render scale ``scale``."""
    w, h = size
    return (w, h) if scale == 1.0 else (max(16, round(w * scale)), max(16, round(h * scale)))


def keyed_from(kfs: Sequence[Keyframe], guide_names: tuple[str, ...], size: tuple[int, int],
               scale: float = 1.0, key_flow: str = "auto") -> Keyed:
    """``keyed`` for keyframes already loaded (``style.Keyframe``: key, painting, optional mask).

    The guide trackers and the keyframe carry work at the work size (``size`` times ``scale``), as the
    network does; the carry keeps the keyframes at ``size``, so that at a render scale below 1 the
    painting's own full-size detail is carried in wherever it is trusted (``KeyCarry.painting_at``,
    ``live.upscale.to_full_size``). ``key_flow`` ``"fine"``: the carry's key flow as precise as at full size,
    ``"coarse"``: matched on the work-size frame, ``"auto"``: ``KeyCarry.live``'s choice (``LiveConfig.key_flow``;
    all the same at scale 1).
    """
    work = work_size(size, scale)
    small = [_at(CarryKey(k.key, k.styled, k.mask), work) for k in kfs]
    # the carry's copy: at full size where the keyframe is bigger than the work size (it has detail to give)
    keys = [_at(CarryKey(k.key, k.styled, k.mask), size) if k.key.shape[0] > work[1] else s
            for k, s in zip(kfs, small, strict=True)]
    pairs = [(k.photo, k.mask) for k in small]
    trackers = [g.tracker(pairs) for g in make_guides(guide_names)] if guide_names else []
    carrier = KeyCarry.live(keys, scale=scale, fine=FINE[key_flow]) if keys else None
    if carrier is not None and work != size:  # what of the frame's fine detail each painting keeps (live.upscale)
        carrier.kept_detail = [kept_detail(k.photo, k.painting, k.mask, work) for k in keys]
    return Keyed(trackers, carrier)


def _at(k: CarryKey, size: tuple[int, int]) -> CarryKey:
    """``k`` at ``size`` ``(w, h)`` (a keyframe from another resolution is resized)."""
    if k.photo.shape[1::-1] == size:
        return k
    return CarryKey(cv2.resize(k.photo, size, interpolation=cv2.INTER_AREA),
                    cv2.resize(k.painting, size, interpolation=cv2.INTER_AREA),
                    None if k.mask is None else cv2.resize(k.mask, size, interpolation=cv2.INTER_NEAREST))
