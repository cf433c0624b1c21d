"""Keyframe carry: the painting itself, moved onto the frame by optical flow where it fits.

Within seconds of training the network re-creates a style from each frame's
colours, but not all of the painting's fine structure (thin ink lines, the
exact strokes): after 15 s it reproduces even its own keyframe at only 0.84
SSIM on the quality benchmark's chelsea stylize scene. Where the current frame shows what a keyframe
showed, that keyframe's painting, moved by optical flow, is the better answer.

``KeyCarry`` computes DIS flow from the frame to the keyframe's photo and warps
the painting and the photo along it. The carried painting is trusted where the
carried photo matches the frame: the photometric error is blurred and mapped to
``exp(-(e / tolerance)^2)``, and zeroed outside the keyframe (and outside its
mask, where the painting is not a painting). Given the frame-to-frame flow,
trust also falls where the carried painting jumps between consecutive frames
instead of moving with them (the same mapping of its change, with a looser tolerance): there the key ->
frame flow is a guess, and blending it in flickers. The output is
``styled + strength * conf * (carried - styled)``. Wherever the keyframe never
showed the content, the pose changed, or the light did, the confidence falls
and the network's output stays. It runs after the network and before the output
stabiliser (``OutputStabilizer``), in ``livestyle render`` and in the live
pipeline; ``strength`` 0 turns it off.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from livestyle.keymatch import most_similar, thumbnail
from livestyle.temporal.flow import FlowEstimator, pixel_grid, warp
from livestyle.temporal.light import gains, photo_error, relit

CARRY = 1.0  # default strength (render and live); 0 = off
# Live it is on: without it the live output scored 2.0-6.0 dB below render on the same snapshot, with it within
# 0.2-0.4 dB on average (calibration/live_gap.py).
CARRY_LIVE = 1.0
CARRY_TOLERANCE = 8.0  # photometric error (0..255, mean over channels) at which trust falls to 1/e
# The temporal check's change (0..255) at which trust falls to 1/e: a painting's strokes change more under a
# resampling than a photo does; 16 against 8: PSNR up on 6 of 8 benchmark scenes (quality-2026-12-01-v9-*.md).
CARRY_JUMP_TOLERANCE = 16.0
# Trust rises at most this share of the way to its new value per (fresh) frame, and falls at once: trust
# that blinks on for a frame flickers. On saved 15 s benchmark snapshots the warping error fell by 10-33% on
# 5 of 6 scenes (brush on the pan clip 0.66 -> 0.50, under the ground truth's own 0.58), PSNR -0.15..+0.03 dB.
CARRY_RISE = 0.5
# Live, with the key flow afresh on every ``every``-th frame (live.carrying), the rise per fresh frame is
# 1 - (1 - CARRY_RISE) ** every: trust comes back at the same pace per frame whatever the schedule.
CARRY_RISE_PER_FRAME = True
# Live, a result moved onto a frame between fresh ones is checked against that frame (KeyCarry.move with the frame).
CARRY_RECHECK = True
CARRY_FLOW = ("medium", 1.0)  # offline: DIS preset and scale of the frame -> key flow
# Live: the frame -> key flow at full size with medium's finest scale (at half size, or fast, the painting lands a
# pixel or two off: 1.2-2.3 dB lower, calibration/live_gap.py). On a thread of its own (live.carrying): afresh on
# every frame with 4+ cores, else every other (``carry_every_live``; the frames between move the last result along
# the frame flow: 0.1-0.3 dB lower). The network waits for a result due on its frame (CARRY_LAG_LIVE 0): a frame
# late doubled the warping error and cost 0.1-0.4 dB (live_gap.py, "e1 lag1" against "v12 e1").
CARRY_FLOW_LIVE = ("medium-r2", 1.0)
# At a render scale of at most this, the "fine" key flow (``LiveConfig.key_flow``) matches patches on the work frame
# itself (``fine-r2``): at scale 0.5 -2.46 -> -1.34 dB to render on a moving camera (render_scale.py), at 4x the cost
# (live-2026-12-05-v16-key-flow-720.md). "auto" is fine with ``CARRY_FINE_CORES`` cores or more (not measured on
# such a machine, so kept to 8); ``livestyle calibrate`` tries fine, then coarse.
CARRY_FINE_BELOW = 0.7
CARRY_FLOW_LIVE_FINE = ("fine-r2", 1.0)
CARRY_FINE_CORES = 8
# Live, the key flow runs afresh on every ``carry_every_live()``-th frame; an int here overrides that (the
# calibration scripts' ``--live-every``).
CARRY_EVERY_LIVE: int | None = None
CARRY_LAG_LIVE = 0
_MEAN3 = np.full((1, 3), 1 / 3, np.float32)  # cv2.transform: mean over the 3 channels
# How the painting is sampled along the flow. Bicubic samples (calibration/live_gap.py "e2 cubic", 6 scenes each):
# +0.04 dB, +0.0014 SSIM on a moving camera but a 20% higher warping error, no change on a still one: not kept.
PAINTING_INTERP = cv2.INTER_LINEAR
# The photo check and the carried painting under the frame's light (``temporal.light``: per-channel gains between the
# carried key photo and the frame; a webcam's auto exposure and white balance). False: as the key was lit.
CARRY_RELIGHT = True


@dataclass
class CarryKey:
    """One keyframe for carrying: the photo the network was trained on, its painting, its mask."""

    photo: np.ndarray  # (H, W, 3) uint8 BGR
    painting: np.ndarray  # (H, W, 3) uint8 BGR
    mask: np.ndarray | None = None  # (H, W) uint8, 255 = painted subject; None = all of it


@dataclass
class Carried:
    """One frame's carry: the key's painting moved onto the frame, how far to trust it, and how it got there."""

    painting: np.ndarray  # (H, W, 3) uint8 BGR
    trust: np.ndarray  # (H, W) float32 in [0, 1]
    key: int  # which keyframe
    flow: np.ndarray  # (H, W, 2) float32 frame -> key: painting(x) = key painting(x + flow(x))
    gain: np.ndarray | None = None  # (3,) float32: the frame's light against the key's (temporal.light), None: 1


class KeyCarry:
    """Blends the painted keyframe, carried by flow, into the network's output (see module doc).

    ``keys``: the keyframes (photo, painting, mask); frames passed in later must have their
    size (keys of another size are resized to the frame on first use). ``strength`` in [0, 1];
    ``tolerance``: photometric error (0..255) at which trust falls to 1/e (``jump_tolerance``: the
    same for the temporal check's change of the carried painting); ``rise``: the share of the way
    to a higher trust taken per frame (1 = at once); ``flow``: DIS preset
    and scale; ``every``: compute the key flow and its checks on every ``every``-th frame only, and
    move the last result along the frame-to-frame flow in between (needs ``flow_to_prev``). Not
    thread-safe: one per stream.
    """

    def __init__(self, keys: Sequence[CarryKey], strength: float = CARRY, tolerance: float = CARRY_TOLERANCE,
                 flow: tuple[str, float] = CARRY_FLOW, every: int = 1,
                 jump_tolerance: float = CARRY_JUMP_TOLERANCE, rise: float = CARRY_RISE) -> None:
        if not keys:
            raise ValueError("KeyCarry needs at least one keyframe")
        if not 0.0 <= strength <= 1.0:
            raise ValueError(f"carry strength must be in [0, 1], got {strength}")
        if tolerance <= 0 or jump_tolerance <= 0:
            raise ValueError(f"carry tolerances must be > 0, got {tolerance}, {jump_tolerance}")
        if every < 1:
            raise ValueError(f"carry every must be >= 1, got {every}")
        if not 0.0 < rise <= 1.0:
            raise ValueError(f"carry rise must be in (0, 1], got {rise}")
        self.keys = list(keys)
        self.strength, self.tolerance, self.every = strength, tolerance, every
        self.jump_tolerance, self.rise = jump_tolerance, rise
        preset, self.scale = flow
        if not 0.0 < self.scale <= 1.0:
            raise ValueError(f"carry flow scale must be in (0, 1], got {self.scale}")
        self.flow = FlowEstimator(preset, 1.0)  # run on frames this class resizes itself (see confidence)
        self.active = 0
        self._thumbs: list[np.ndarray] | None = None
        self._sized: dict[tuple[int, tuple[int, int]], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self.last_confidence: np.ndarray | None = None  # (H, W) float32 of the last frame, for display and tests
        self.kept_detail: list[np.ndarray] | None = None  # per key, at a render scale: live.upscale.kept_detail
        self._prev: tuple[int, np.ndarray, np.ndarray] | None = None  # (key, carried painting, trust) of the
        # previous fresh frame, at the checks' size
        self._last: Carried | None = None  # the last frame's, at full size
        self._moved = 0  # frames since the last one computed afresh
        self._chain: np.ndarray | None = None  # flow from the last moved frame back to the last fresh one

    @classmethod
    def live(cls, keys: Sequence[CarryKey], strength: float = CARRY, scale: float = 1.0,
             fine: bool | None = None) -> KeyCarry:
        """The live pipeline's carry at render scale ``scale``: key flow ``CARRY_FLOW_LIVE`` (with ``fine``
        at a scale of ``CARRY_FINE_BELOW`` or less: ``CARRY_FLOW_LIVE_FINE``; ``fine`` None: where the
        machine has ``CARRY_FINE_CORES`` cores), afresh on each call (``live.carrying`` chooses the frames
        and moves the results between them)."""
        if fine is None:
            fine = (os.cpu_count() or 2) >= CARRY_FINE_CORES
        flow = CARRY_FLOW_LIVE_FINE if fine and scale <= CARRY_FINE_BELOW else CARRY_FLOW_LIVE
        return cls(keys, strength, tolerance=CARRY_TOLERANCE, flow=flow)

    def has_detail(self, c: Carried) -> bool:
        """True when ``c``'s keyframe is bigger than ``c`` itself (``painting_at`` a bigger size then adds
        detail; else it only interpolates)."""
        return self.keys[c.key].painting.shape[0] > c.painting.shape[0]

    def painting_at(self, c: Carried, hw: tuple[int, int]) -> np.ndarray:
        """``c``'s painting at another size ``hw`` ``(H, W)`` (live at a render scale: the camera's): the key's
        painting at that size, sampled along ``c``'s flow brought to it. Keys given at full size keep their
        own detail there."""
        h, w = hw
        sh, sw = c.flow.shape[:2]
        # The sampling map at the small size, in full-size pixel coordinates, then resized: pixel centres
        # map as X = (x + 0.5) * k - 0.5, and a bilinear resize keeps that affine map.
        kx, ky = w / sw, h / sh
        small = cv2.add(pixel_grid(sh, sw), c.flow)
        small = cv2.add(cv2.multiply(small, (kx, ky, 0.0, 0.0)), (0.5 * kx - 0.5, 0.5 * ky - 0.5, 0.0, 0.0))
        m1, m2 = cv2.convertMaps(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR), None,
                                 cv2.CV_16SC2)  # type: ignore[call-overload]  # fixed point: faster remaps
        return relit(cv2.remap(self._key_at(c.key, hw)[1], m1, m2, PAINTING_INTERP, borderMode=cv2.BORDER_REPLICATE),
                     c.gain)

    def reset(self) -> None:
        """Forget the previous frame (the stream jumped): the next one gets no temporal check."""
        self._prev = self._last = self._chain = None
        self._moved = 0

    def choose(self, frame: np.ndarray) -> int:
        """The key most like ``frame``, chosen as the blob tracker chooses (``keymatch.most_similar``)."""
        if len(self.keys) == 1:
            return 0
        if self._thumbs is None:
            self._thumbs = [thumbnail(k.photo) for k in self.keys]
        self.active = most_similar(self._thumbs, thumbnail(frame), self.active)
        return self.active

    def _key_at(self, i: int, hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Key ``i``'s photo, painting and validity (uint8, 255 = carry allowed) at size ``hw``."""
        got = self._sized.get((i, hw))
        if got is None:
            k = self.keys[i]
            h, w = hw
            valid = np.full(k.photo.shape[:2], 255, np.uint8) if k.mask is None else \
                np.where(k.mask > 127, 255, 0).astype(np.uint8)
            parts = [k.photo, k.painting, valid]
            if k.photo.shape[:2] != hw:
                parts = [cv2.resize(p, (w, h), interpolation=cv2.INTER_AREA) for p in parts]
            got = (parts[0], parts[1], parts[2])
            self._sized[(i, hw)] = got
        return got

    def confidence(self, frame: np.ndarray, key: int | None = None,
                   flow_to_prev: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(carried painting (H, W, 3) uint8, confidence (H, W) float32 in [0, 1])`` for ``frame``.

        ``key``: the keyframe to carry from (render: the nearest by frame index); ``None``
        chooses the one most like the frame (live). ``flow_to_prev``: flow ``frame`` -> the
        previous frame of the stream (``(H, W, 2)``; the stabiliser's), which turns on the
        temporal check; frames must then come in order.
        """
        c = self.carry(frame, key, flow_to_prev)
        return c.painting, c.trust

    def _small(self, frame: np.ndarray) -> tuple[np.ndarray, int, int]:
        """``frame`` at the flow's scale, its width and height."""
        h, w = frame.shape[:2]
        sw, sh = (w, h) if self.scale >= 1.0 else (max(8, round(w * self.scale)), max(8, round(h * self.scale)))
        return (frame if (sw, sh) == (w, h) else cv2.resize(frame, (sw, sh), interpolation=cv2.INTER_AREA)), sw, sh

    def key_flow(self, frame: np.ndarray, key: int, dis: FlowEstimator | None = None) -> np.ndarray:
        """The flow ``frame`` -> key ``key`` that ``carry`` computes, to run it ahead (``dis``: its own estimator)."""
        return (dis or self.flow)((s := self._small(frame))[0], self._key_at(key, (s[2], s[1]))[0])

    def carry(self, frame: np.ndarray, key: int | None = None, flow_to_prev: np.ndarray | None = None,
              key_flow: np.ndarray | None = None) -> Carried:
        """``confidence``'s result with the key and the frame -> key flow it came from (``move`` uses them).
        ``key_flow``: that flow (``self.key_flow(frame, key)``) when it was computed ahead."""
        i = self.choose(frame) if key is None else key
        h, w = frame.shape[:2]
        last = self._last
        if self._moved + 1 < self.every and flow_to_prev is not None and last is not None and last.key == i \
                and last.painting.shape[:2] == (h, w) == flow_to_prev.shape[:2]:
            here = self.move(last, flow_to_prev)
            # The next fresh frame's temporal check compares with the last fresh one (the trust moved here
            # is smoothed once more), so keep the flow from here back to it.
            self._chain = compose(flow_to_prev, self._chain)
            self._last, self._moved = here, self._moved + 1
            return here
        # The checks run at the flow's scale (live: half size, 4x fewer pixels); only the painting
        # itself is carried at full size, along the upsampled flow, so its fine detail stays.
        small, sw, sh = self._small(frame)
        photo, painting_s, valid = self._key_at(i, (sh, sw))
        if key_flow is None or key is None or key_flow.shape[:2] != (sh, sw):
            key_flow = self.flow(small, photo)
        f = key_flow  # small(x) ~ key(x + f(x))
        mx, my = cv2.split(cv2.add(pixel_grid(sh, sw), f))
        seen = cv2.remap(photo, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        inside = cv2.remap(valid, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        g = gains(seen, small, inside) if CARRY_RELIGHT else None
        seen = relit(seen, g)
        carried_s = relit(cv2.remap(painting_s, mx, my, PAINTING_INTERP, borderMode=cv2.BORDER_REPLICATE), g)
        err = cv2.transform(photo_error(seen, small, sw / w), _MEAN3)
        err = cv2.GaussianBlur(err.astype(np.float32), (0, 0), 2.0 * sw / w)
        conf = np.exp(-np.square(err * np.float32(1 / self.tolerance)))
        inside = cv2.erode(inside, np.ones((5, 5), np.uint8)).astype(np.float32) * np.float32(1 / 255)
        conf *= inside
        prev = self._prev
        if flow_to_prev is not None and self._chain is not None and self._chain.shape == flow_to_prev.shape:
            flow_to_prev = compose(flow_to_prev, self._chain)  # back to the last fresh frame
        self._chain = None
        to_prev = None
        if flow_to_prev is not None and prev is not None and prev[0] == i and prev[1].shape == carried_s.shape:
            # Temporal check: where the key -> frame flow is a guess (content the key never showed, which
            # the photo check does not always catch), the carried painting jumps from frame to frame;
            # where it is right, it moves with the frame-to-frame flow. Trust falls where it jumps.
            to_prev = flow_to_prev if (sw, sh) == (w, h) else \
                cv2.multiply(cv2.resize(flow_to_prev, (sw, sh), interpolation=cv2.INTER_AREA), (sw / w, sh / h, 0, 0))
            moved = warp(prev[1], to_prev, border="replicate")
            jump = cv2.transform(cv2.absdiff(moved, carried_s), _MEAN3)
            jump = cv2.GaussianBlur(jump.astype(np.float32), (0, 0), 2.0 * sw / w)
            conf *= np.exp(-np.square(jump * np.float32(1 / self.jump_tolerance)))
        conf = cv2.GaussianBlur(conf, (0, 0), 1.0 * sw / w)
        if to_prev is not None and prev is not None and self.rise < 1.0:
            # Trust that comes and goes from frame to frame flickers: it falls at once, but rises at
            # most ``rise`` of the way to its new value per frame, along the flow (0 where new).
            before = warp(prev[2], to_prev, border="constant")
            conf = cv2.min(conf, cv2.addWeighted(conf, self.rise, before, 1.0 - self.rise, 0.0))
        self._prev = (i, carried_s, conf)
        if (sw, sh) != (w, h):
            painting = self._key_at(i, (h, w))[1]
            f = cv2.multiply(cv2.resize(f, (w, h), interpolation=cv2.INTER_LINEAR), (w / sw, h / sh, 0, 0))
            mx, my = cv2.split(cv2.add(pixel_grid(h, w), f))
            carried_s = relit(cv2.remap(painting, mx, my, PAINTING_INTERP, borderMode=cv2.BORDER_REPLICATE), g)
            conf = cv2.resize(conf, (w, h), interpolation=cv2.INTER_LINEAR)
        self._last, self._moved = Carried(carried_s, conf, i, f, g), 0
        return self._last

    def move(self, c: Carried, flow_to_prev: np.ndarray, frame: np.ndarray | None = None) -> Carried:
        """``c`` (the previous frame's) moved onto the current frame along ``flow_to_prev`` (current ->
        previous). The painting is sampled afresh from the key along the composed flow current -> key:
        moving the carried painting itself would resample it twice, and its blur would change from
        frame to frame with the flow's fraction of a pixel (a lagged carry moved that way flickered at
        2-3x render's warping error on calibration/live_gap.py's scenes). Trust is moved as it is;
        it is 0 where the content comes from outside the previous frame.

        With ``frame`` (the current frame, ``(H, W, 3) uint8``) the moved result is checked as a fresh
        one is: two flows to the key are tried per pixel, the composed one and the last fresh one as it
        was (right where the scene holds still: content a person walked away from has no flow back to
        the previous frame, but the key shows it where it was), and the one whose carried photo matches
        the frame better is kept. Trust is the photo check's, falling at once and rising at most
        ``CARRY_RISE`` of the way from the moved trust (as a fresh carry on every frame would).
        """
        h, w = flow_to_prev.shape[:2]
        to_key = compose(flow_to_prev, c.flow)
        m1, m2 = cv2.convertMaps(cv2.add(pixel_grid(h, w), flow_to_prev), None,
                                 cv2.CV_16SC2)  # type: ignore[call-overload]  # fixed point: faster remaps
        trust = cv2.remap(c.trust, m1, m2, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        photo, painting, valid = self._key_at(c.key, (h, w))
        g = c.gain
        if frame is not None and frame.shape[:2] == (h, w) and c.flow.shape[:2] == (h, w):
            to_key, conf, g = self._recheck(frame, photo, valid, (to_key, c.flow), g)
            trust = cv2.min(conf, cv2.addWeighted(conf, CARRY_RISE, trust, 1.0 - CARRY_RISE, 0.0))
        m1, m2 = cv2.convertMaps(cv2.add(pixel_grid(h, w), to_key), None,
                                 cv2.CV_16SC2)  # type: ignore[call-overload]
        painting = relit(cv2.remap(painting, m1, m2, PAINTING_INTERP, borderMode=cv2.BORDER_REPLICATE), g)
        return Carried(painting, trust, c.key, to_key, g)

    def _recheck(self, frame: np.ndarray, photo: np.ndarray, valid: np.ndarray, flows: tuple[np.ndarray, np.ndarray],
                 g: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Of ``flows`` (frame -> key), per pixel the one whose carried photo matches ``frame`` better, the
        photo check's trust for it (``confidence``'s mapping, without the temporal check) and the light's gains
        (``g``: the last ones, kept where this frame tells too little)."""
        h, w = frame.shape[:2]
        grid = pixel_grid(h, w)
        errs: list[np.ndarray] = []
        maps: list[tuple[np.ndarray, np.ndarray]] = []
        for f in flows:
            m = cv2.convertMaps(cv2.add(grid, f), None, cv2.CV_16SC2)  # type: ignore[call-overload]  # fixed point
            seen = cv2.remap(photo, m[0], m[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            if CARRY_RELIGHT and not maps and (new := gains(seen, frame)) is not None:
                g = new
            seen = relit(seen, g)
            errs.append(cv2.GaussianBlur(cv2.transform(photo_error(seen, frame), _MEAN3), (0, 0), 2.0))
            maps.append(m)
        other = cv2.compare(errs[1], errs[0], cv2.CMP_LT)  # uint8 255 where the second flow matches better
        best, err = flows[0].copy(), errs[0].copy()
        cv2.copyTo(flows[1], other, best)
        cv2.copyTo(errs[1], other, err)
        e = err.astype(np.float32) * np.float32(1 / self.tolerance)
        conf = cv2.exp(-cv2.multiply(e, e))
        # Only from inside the key's frame (and its mask): nearest samples of its validity, eroded as a fresh one's.
        ins = [cv2.remap(valid, m[0], m[1], cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
               for m in maps]
        inside = ins[0]
        cv2.copyTo(ins[1], other, inside)
        inside = cv2.erode(inside, np.ones((5, 5), np.uint8))
        conf = cv2.multiply(conf, inside.astype(np.float32), scale=1 / 255)
        return best, cv2.GaussianBlur(conf, (0, 0), 1.0), g

    def __call__(self, frame: np.ndarray, styled: np.ndarray, key: int | None = None,
                 box: tuple[int, int, int, int] | None = None, flow_to_prev: np.ndarray | None = None) -> np.ndarray:
        """``styled`` with the carried painting blended in, ``(h, w, 3) uint8``.

        ``frame``: the network's input ``(H, W, 3) uint8 BGR`` (denoised, as trained);
        ``styled``: the network's output for all of it, or for ``box`` ``(y0, y1, x0, x1)`` of it.
        """
        if self.strength <= 0:
            return styled
        carried, conf = self.confidence(frame, key, flow_to_prev)
        self.last_confidence = conf
        if box is not None:
            y0, y1, x0, x1 = box
            carried, conf = carried[y0:y1, x0:x1], conf[y0:y1, x0:x1]
        return self.blend(styled, carried, conf, self.strength)

    @staticmethod
    def blend(styled: np.ndarray, carried: np.ndarray, conf: np.ndarray, strength: float = CARRY) -> np.ndarray:
        """``styled + strength * conf * (carried - styled)``, ``(H, W, 3) uint8``."""
        if carried.shape != styled.shape:
            raise ValueError(f"styled output {styled.shape} does not match the frame region {carried.shape}")
        w1 = conf * np.float32(strength)
        return cv2.blendLinear(carried, styled, w1, 1.0 - w1)  # per-pixel weights, uint8 out: ~1 ms at 640x360


def carry_every_live(cores: int | None = None) -> int:
    """On every how many frames the live key flow runs afresh: 1 with 4 or more ``cores`` (default: this
    machine's), else 2; ``CARRY_EVERY_LIVE`` when set (live-2026-12-05-v16-carry-every.md)."""
    if CARRY_EVERY_LIVE is not None:
        return CARRY_EVERY_LIVE
    return 1 if (cores or os.cpu_count() or 2) >= 4 else 2


def compose(a: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """The flow ``a`` then ``b``: ``a(x) + b(x + a(x))`` (``b`` None: ``a``), ``(H, W, 2) float32``."""
    return a if b is None else cv2.add(a, warp(b, a, border="replicate"))


def nearest_keys(n_frames: int, key_indices: Sequence[int]) -> list[int]:
    """For each frame of a clip, the position in ``key_indices`` of the nearest key (ties: the earlier)."""
    ks = np.asarray(sorted(key_indices))
    if len(ks) == 0:
        raise ValueError("no keyframes")
    t = np.arange(n_frames)[:, None]
    order = np.argsort(key_indices, kind="stable")
    return [int(order[j]) for j in np.argmin(np.abs(t - ks[None, :]), axis=1)]
