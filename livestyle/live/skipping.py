"""The network on every Nth frame (``StyleStage.net_every``): the frames between move its last output along the flow.

Where the network is the largest cost of a frame (a slow CPU, a big frame: 1280x720 takes it ~30 ms on both cores
of the 2-core AMD EPYC dev CPU, against a few ms to move an output), ``every`` N > 1 runs it on one frame in N;
on the others the last network output is moved onto the frame along the flow to it (the stabiliser's flow,
composed back to the network's frame: one resampling, however many frames went by). Presets that predict a
change of their input (``residual``) move that change and add it to the frame: the frame's own detail and light
stay, only the style's change is a frame old. The keyframe carry and the output stabiliser still run on every
frame. On calibration/live_gap.py's 4 mixed scenes (moving camera) every 2nd frame cost 0.07 dB against every
frame (-0.38 against -0.31 dB to render, warping error lower), but on a still camera with someone walking
through it 0.45 dB (-0.87 against -0.42; worst scene -1.58): what the walker uncovers was never seen by the
last network pass. So it is off (1) by default; ``livestyle calibrate`` takes it where one pass per frame
does not keep up, before it turns the keyframe carry off (2-6 dB).

The schedule is decided in the prep thread (``skips``: nothing is prepared for the network on a skipped frame)
and the output moved in the net thread (``keep`` after each network pass, ``moved`` on a skipped frame).
"""

from __future__ import annotations

import cv2
import numpy as np

from livestyle.temporal.carry import compose
from livestyle.temporal.flow import pixel_grid

_MEAN3 = np.full((1, 3), 1 / 3, np.float32)  # cv2.transform: mean over the 3 channels

Box = tuple[int, int, int, int]  # (y0, y1, x0, x1)

def region_of(img: np.ndarray, box: Box | None) -> np.ndarray:
    if box is None:
        return img
    y0, y1, x0, x1 = box
    return img[y0:y1, x0:x1]


class NetSchedule:
    """Which frames the network runs on, and the last output to move onto the others. ``every``: 1 = all.

    ``stagger``: after a fresh start the next frame runs the network too, so that the frames that skip it are the
    ones where the keyframe carry runs afresh (its schedule, every 2nd frame on 2-3 cores, starts with the stream
    as well), not the others: the work per frame evens out (within noise of aligned in quality).
    """

    def __init__(self, every: int = 1, stagger: bool = True) -> None:
        if every < 1:
            raise ValueError(f"net every must be >= 1, got {every}")
        self.every, self.stagger = every, stagger
        self._n = 0  # frames since the last network frame (prep thread)
        self._box: Box | None = None  # the box of the last network frame (prep thread)
        self._model: object | None = None  # the stylizer of the last network frame (prep thread)
        self._last: tuple[np.ndarray, Box | None, np.ndarray] | None = None  # (change or output, box, its input)
        self.check = True
        self._since: np.ndarray | None = None  # flow from the current frame back to the last network frame

    # -- prep thread -------------------------------------------------------------------------
    def skips(self, model: object, box: Box | None, flow: np.ndarray | None, every: int) -> bool:
        """True when this frame moves the last network output instead of running the network: all but every
        ``every``-th frame of a run with the same model and box, given a flow to the previous frame."""
        same = model is self._model and box == self._box and flow is not None
        if every > 1 and same and self._n + 1 < every:
            self._n += 1
            return True
        self._n = 0 if same or not self.stagger else every - 1
        self._box, self._model = box, model
        return False

    def restart(self) -> None:
        """Nothing stylized in this frame: the next one runs the network."""
        self._model = None

    # -- net thread --------------------------------------------------------------------------
    def keep(self, styled: np.ndarray, img: np.ndarray, box: Box | None, residual: bool) -> None:
        """After a network pass: its output ``styled`` for ``box`` of ``img`` (the work-size frame)."""
        self._last, self._since = None, None
        if self.every != 1:
            r = region_of(img, box)
            kept = cv2.subtract(styled, r, dtype=cv2.CV_16S) if residual else styled
            self._last = (kept, box, r)

    def moved(self, img: np.ndarray, flow: np.ndarray | None, box: Box | None) -> np.ndarray | None:
        """The last network output moved onto ``box`` of ``img`` along ``flow`` (``img`` -> the previous frame), or
        None when there is none to move (the network then runs)."""
        last = self._last
        cur = region_of(img, box)
        if last is None or flow is None or last[1] != box or last[2].shape != cur.shape:
            return None
        self._since = compose(flow, self._since)
        kept, _, before = last
        h, w = cur.shape[:2]
        m1, m2 = cv2.convertMaps(cv2.add(pixel_grid(h, w), region_of(self._since, box)), None,
                                 cv2.CV_16SC2)  # type: ignore[call-overload]  # fixed point: faster remaps
        moved = cv2.remap(kept, m1, m2, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        if self.check:
            # Where the scene holds still beside something moving, the flow drags the mover's output over it:
            # per pixel, the output moved along the flow or left where it was, whichever's input matches this
            # frame's better.
            seen = cv2.remap(before, m1, m2, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            e_moved = cv2.GaussianBlur(cv2.transform(cv2.absdiff(seen, cur), _MEAN3), (0, 0), 1.5)
            e_still = cv2.GaussianBlur(cv2.transform(cv2.absdiff(before, cur), _MEAN3), (0, 0), 1.5)
            cv2.copyTo(kept, cv2.compare(e_still, e_moved, cv2.CMP_LT), moved)
        return moved if moved.dtype == np.uint8 else cv2.add(cur, moved, dtype=cv2.CV_8U)

    def clear(self) -> None:
        """Nothing stylized in this frame (net thread): nothing to move onto the next."""
        self._last = self._since = None
