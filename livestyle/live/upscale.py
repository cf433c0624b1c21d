"""Render scale below 1: the work-size result brought back to the camera's size (``StyleStage``).

Where the keyframe carry is not trusted, the network's work-size result is upsampled, plus the share of the
camera frame's own fine detail (what the work size cannot hold) that the style keeps: a colour grade keeps all
of it, a painting that smooths the photo none. That share is measured once per keyframe, per colour channel,
from the full-size keyframe and its painting (``kept_detail``). On the quality benchmark's ground-truth styles
themselves, brought to half size and back (15 photo-style pairs at 640x480, the share fitted on another view
of the photo), it scored 28.54 dB against 27.69 for all the frame's detail (what the change of the frame
upsampled and added to it gives) and 28.20 for none. Where the carry is trusted, the keyframe's painting itself
comes in, carried at full size.
"""

from __future__ import annotations

import cv2
import numpy as np

from livestyle.temporal.carry import Carried, KeyCarry

Box = tuple[int, int, int, int]  # (y0, y1, x0, x1)


def kept_detail(photo: np.ndarray, painting: np.ndarray, mask: np.ndarray | None, work: tuple[int, int]) -> np.ndarray:
    """``(3,) float32`` in [0, 1]: per channel, the share of ``photo``'s fine detail that ``painting`` keeps
    (both ``(H, W, 3) uint8``, full size; ``mask`` (H, W) uint8 or None: where the painting is one), the
    detail being what a resize to ``work`` ``(w, h)`` and back loses: the least-squares slope of the
    painting's detail on the photo's."""
    h, w = photo.shape[:2]

    def detail(x: np.ndarray) -> np.ndarray:
        small = cv2.resize(x, work, interpolation=cv2.INTER_AREA)
        return x.astype(np.float32) - cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)

    dp, ds = detail(photo), detail(painting)
    weight = np.ones((h, w, 1), np.float32) if mask is None else (mask > 127).astype(np.float32)[..., None]
    num, den = (dp * ds * weight).sum(axis=(0, 1)), (dp * dp * weight).sum(axis=(0, 1))
    return np.clip(num / np.maximum(den, 1e-6), 0.0, 1.0).astype(np.float32)


def to_full_size(full: np.ndarray, img: np.ndarray, styled: np.ndarray, box: Box | None, mask: np.ndarray | None,
                 residual: bool, carrier: KeyCarry | None = None, carried: Carried | None = None, carry: float = 0.0
                 ) -> tuple[np.ndarray, np.ndarray | None, Box | None]:
    """Bring a render-scaled result back to the camera's size: ``(styled region, mask, box)`` at full size.

    ``full``: the camera's frame; ``img``: the frame at the work size; ``styled``: the work-size result
    for ``box`` of it (None: all of it); ``mask``: the work-size person mask or None; ``residual``: the
    network predicts a change of its input; ``carrier``, ``carried``, ``carry``: the keyframe carry,
    its result for this frame (at the work size) and its strength.

    The work-size result is upsampled and the full-size frame's own fine detail added (frame - its
    work-size copy upsampled): all of it for presets that predict a change of their input (their change,
    upsampled, added to the frame), none for the others, or, where the carry has full-size keyframes, the
    share their paintings keep (``carrier.kept_detail``, see the module doc). Where the
    keyframe carry is trusted and the keyframe is bigger than the work size, the carried painting
    itself at full size comes in: ``t P + (1 - t) base``, ``t`` the carry's trust times its strength,
    ``P`` the painting carried at full size (``KeyCarry.painting_at``), ``base`` the upsampled result
    above. ``P`` plus the upsampled difference of the work-size result to the work-size carried
    painting, as until v16, pulled the output away from ``P`` where ``P`` was better than both live
    outputs (calibration/render_scale_where.py): -1.26 / -1.59 dB to render against -0.83 / -1.37 now
    (``render-scale-2026-12-05-v17-own-painting-*.md``).
    """
    fh, fw = full.shape[:2]
    sh, sw = img.shape[:2]
    y0, y1, x0, x1 = box if box is not None else (0, sh, 0, sw)
    fbox = (round(y0 * fh / sh), round(y1 * fh / sh), round(x0 * fw / sw), round(x1 * fw / sw))
    fy0, fy1, fx0, fx1 = fbox
    size = (fx1 - fx0, fy1 - fy0)
    region = full[fy0:fy1, fx0:fx1]
    keep: tuple[float, ...] = (1.0 if residual else 0.0,) * 3
    if carried is not None and carrier is not None and carrier.kept_detail is not None and carrier.has_detail(carried):
        keep = tuple(float(k) for k in carrier.kept_detail[carried.key])
    small = img[y0:y1, x0:x1]
    if min(keep) >= 1.0:  # all of the frame's detail: the style's change, upsampled, added to the frame
        change = cv2.subtract(styled, small, dtype=cv2.CV_16S)
        out = cv2.add(region, cv2.resize(change, size, interpolation=cv2.INTER_LINEAR), dtype=cv2.CV_8U)
    elif max(keep) <= 0.0:
        out = cv2.resize(styled, size, interpolation=cv2.INTER_LINEAR)
    else:  # up(styled) + k (frame - up(img)) = k frame + up(styled - k img), k x as a per-channel lookup table
        lut = np.clip(np.arange(256, dtype=np.float32)[:, None] * np.asarray(keep, np.float32) + 0.5, 0, 255)
        lut = lut.astype(np.uint8).reshape(256, 1, 3)
        change = cv2.subtract(styled, cv2.LUT(small, lut), dtype=cv2.CV_16S)
        out = cv2.add(cv2.LUT(region, lut), cv2.resize(change, size, interpolation=cv2.INTER_LINEAR), dtype=cv2.CV_8U)
    if carried is not None and carrier is not None and carry > 0 and carrier.has_detail(carried):
        painting = carrier.painting_at(carried, (fh, fw))[fy0:fy1, fx0:fx1]
        trust = carried.trust if carried.trust.shape == (sh, sw) else \
            cv2.resize(carried.trust, (sw, sh), interpolation=cv2.INTER_LINEAR)  # carried at half the work size
        t = cv2.resize(trust[y0:y1, x0:x1], size, interpolation=cv2.INTER_LINEAR)
        t = cv2.multiply(t, carry)
        out = cv2.blendLinear(painting, out, t, 1.0 - t)
    full_mask = None
    if mask is not None:  # only the box is blended: upsample just that part
        full_mask = np.zeros((fh, fw), np.float32)
        full_mask[fy0:fy1, fx0:fx1] = cv2.resize(mask[y0:y1, x0:x1], size, interpolation=cv2.INTER_LINEAR)
    return out, full_mask, (fbox if box is not None else None)
