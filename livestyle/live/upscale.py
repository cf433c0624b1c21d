"""Render scale below 1: the work-size result brought back to the camera's size (``StyleStage``)."""

from __future__ import annotations

import cv2
import numpy as np

from livestyle.temporal.carry import Carried, KeyCarry

Box = tuple[int, int, int, int]  # (y0, y1, x0, x1)


def to_full_size(full: np.ndarray, img: np.ndarray, styled: np.ndarray, box: Box | None, mask: np.ndarray | None,
                 residual: bool, carrier: KeyCarry | None = None, carried: Carried | None = None, carry: float = 0.0
                 ) -> tuple[np.ndarray, np.ndarray | None, Box | None]:
    """Bring a render-scaled result back to the camera's size: ``(styled region, mask, box)`` at full size.

    ``full``: the camera's frame; ``img``: the frame at the work size; ``styled``: the work-size result
    for ``box`` of it (None: all of it); ``mask``: the work-size person mask or None; ``residual``: the
    network predicts a change of its input; ``carrier``, ``carried``, ``carry``: the keyframe carry,
    its result for this frame (at the work size) and its strength.

    For presets that predict a change of their input, the work-size change (stylized - input) is
    upsampled and added to the full-size frame, so the frame's own detail stays sharp. Where the
    keyframe carry is trusted and the keyframe is bigger than the work size, the painting's own
    detail is carried in at full size instead: ``t (P + up(styled - p)) + (1 - t) (frame +
    up(styled - img))``, ``t`` the carry's trust times its strength, ``P`` and ``p`` the carried
    painting at full and work size (``KeyCarry.painting_at``).
    """
    fh, fw = full.shape[:2]
    sh, sw = img.shape[:2]
    y0, y1, x0, x1 = box if box is not None else (0, sh, 0, sw)
    fbox = (round(y0 * fh / sh), round(y1 * fh / sh), round(x0 * fw / sw), round(x1 * fw / sw))
    fy0, fy1, fx0, fx1 = fbox
    size = (fx1 - fx0, fy1 - fy0)
    region = full[fy0:fy1, fx0:fx1]
    if residual:
        change = cv2.subtract(styled, img[y0:y1, x0:x1], dtype=cv2.CV_16S)  # what the style did
        out = cv2.add(region, cv2.resize(change, size, interpolation=cv2.INTER_LINEAR), dtype=cv2.CV_8U)
    else:
        out = cv2.resize(styled, size, interpolation=cv2.INTER_LINEAR)
    if carried is not None and carrier is not None and carry > 0 and carrier.has_detail(carried):
        painting = carrier.painting_at(carried, (fh, fw))[fy0:fy1, fx0:fx1]
        rest = cv2.subtract(styled, carried.painting[y0:y1, x0:x1], dtype=cv2.CV_16S)  # styled - p
        own = cv2.add(painting, cv2.resize(rest, size, interpolation=cv2.INTER_LINEAR), dtype=cv2.CV_8U)
        t = cv2.resize(carried.trust[y0:y1, x0:x1], size, interpolation=cv2.INTER_LINEAR)
        t = cv2.multiply(t, carry)
        out = cv2.blendLinear(own, out, t, 1.0 - t)
    full_mask = None
    if mask is not None:  # only the box is blended: upsample just that part
        full_mask = np.zeros((fh, fw), np.float32)
        full_mask[fy0:fy1, fx0:fx1] = cv2.resize(mask[y0:y1, x0:x1], size, interpolation=cv2.INTER_LINEAR)
    return out, full_mask, (fbox if box is not None else None)
