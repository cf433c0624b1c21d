"""The keyframe carry in the live pipeline: its key flow on a thread of its own, beside the network.

A fresh carry (``KeyCarry.carry``: the frame -> key flow and its checks, ~23 ms per 640x360 frame on
one core of the 2-core AMD EPYC dev CPU, the flow 15 of them) runs on thread "style-carry" on every
``every``-th frame: its key flow starts when the frame is prepared (``plan``, from the prep thread,
while the network still works on the frame before), its checks when the network starts on the frame
(``before``): the same frames bit for bit; on 2 cores 1280x720 at render scale 0.5 went from 23.3-27.9
to 26.3-29.9 fps (``live-2026-12-05-v17-key-flow-ahead.md``). On the frames between, the last result is moved onto
the frame along the frame-to-frame flow and checked against it (``KeyCarry.move`` with the frame: the
painting sampled afresh from the key along the better of two flows per pixel, trust from the photo
check, ~5 ms at 640x360; ``temporal.carry.CARRY_RECHECK``), also on the carry's thread while the network
runs (with ``lag`` 0; it was on the network's, before it: 640x360 latency p95 79-91 against 95-108 ms on the Xeon). Trust rises per frame at the same pace
whatever ``every`` is (``CARRY_RISE_PER_FRAME``). With ``lag`` 0 (the default) the network's output waits for a result
due on its own frame, so live and its offline replay (``render --live``, the quality benchmark) give
the same frames. With ``lag`` >= 1 the network never waits: live uses the newest finished result,
moved onto the frame, and the offline replay uses each result ``lag`` frames after its own (a frame
late doubled the warping error on calibration/live_gap.py's scenes: see ``temporal.carry``).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

from livestyle.live.stats import StageTimer
from livestyle.temporal import carry as carry_mod
from livestyle.temporal.carry import Carried, KeyCarry, compose
from livestyle.temporal.flow import FlowEstimator


@dataclass
class Ahead:
    """The prep thread's plan for the next frame (``CarryRunner.plan``): whether it gets a fresh carry, and
    then its key and the frame -> key flow, started on the carry's thread before the network takes the frame."""

    due: bool
    key: int = 0
    flow: Future[np.ndarray] | None = None
    small: tuple[np.ndarray, np.ndarray | None] | None = None  # the frame and its flow at the carry's size (``shrink``)


# Key flows computed at once. 1: on the carry's own thread, in order with its checks (measured on 2 cores).
# N > 1: on N threads of their own, each with its own DIS, so the next frame's key flow runs beside this one's
# (for many cores, where one key flow per frame may set the rate, e.g. 1280x720 beside a GPU; not measured yet:
# calibration/bench_live.py --flow-workers).
FLOW_WORKERS = 1
# Frames with more pixels than this (a 1280x720 camera: 921,600) are carried on a copy at half size: the key flow
# matched at the same patch level as at full size (``FINER``: fine-r2 on the half-size copy matches patches where
# medium-r2 does on the full-size frame), its checks and the moved results at half size, and only the painting itself
# carried at full size, along the upsampled flow (``KeyCarry.painting_at``), with the trust upsampled.
REDUCE_ABOVE = 2 * 640 * 480
FINER = {"medium-r2": "fine-r2"}  # the live key flow preset -> the same DIS work at half size


class CarryRunner:
    """Runs one stream's ``KeyCarry`` beside the network. Call ``before`` then ``after`` per frame,
    in frame order, from one thread (the network's); ``reset`` when a frame is not stylized."""

    def __init__(self, timer: StageTimer, every: int | None = None, lag: int | None = None,
                 flow_workers: int | None = None) -> None:
        self.timer = timer
        n = FLOW_WORKERS if flow_workers is None else flow_workers
        if n < 1:
            raise ValueError(f"key flow workers must be >= 1, got {n}")
        self._flows = ThreadPoolExecutor(max_workers=n, thread_name_prefix="style-keyflow") if n > 1 else None
        self._local = threading.local()  # each key flow thread's own DIS
        self.every = carry_mod.carry_every_live() if every is None else every
        self.lag = carry_mod.CARRY_LAG_LIVE if lag is None else lag
        if self.every < 1 or self.lag < 0:
            raise ValueError(f"carry every must be >= 1 and lag >= 0, got {self.every}, {self.lag}")
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="style-carry")
        self._carrier: KeyCarry | None = None
        self._state: Carried | None = None  # the newest result, moved onto the last frame
        self._pending: Future[Carried] | None = None
        self._since: np.ndarray | None = None  # flow from the current frame back to the last submitted one
        self._chain_ok = False  # _since is known (no frame without a flow since the submission)
        self._n = 0  # frames since the carrier was set or reset
        self._submitted = -1  # frame number of the last submission
        self._plan: tuple[KeyCarry | None, tuple[int, ...], int] = (None, (), 0)  # prep thread: carrier, shape, frames
        self._moving: Future[Carried] | None = None  # the last result being moved onto this frame (``before``)
        self._full: tuple[int, ...] = ()  # (H, W) of the frame given to ``before`` (the carry may work at half size)

    def reset(self, carrier: KeyCarry | None = None) -> None:
        """Forget the stream (nothing stylized in this frame, or a new carrier): the next frame starts afresh."""
        self._state, self._pending, self._since, self._chain_ok = None, None, None, False
        self._moving = None
        self._n, self._submitted = 0, -1
        target = carrier or self._carrier
        if target is not None:  # on the carry's own thread, after any job still running
            self._pool.submit(target.reset)

    def plan(self, carrier: KeyCarry, img: np.ndarray, flow: np.ndarray | None) -> Ahead | None:
        """From the thread that prepares the frames, for each one that goes to ``before`` next, in order:
        whether it will get a fresh carry (``before``'s rule: the first after a restart, then every
        ``every``-th) and, if so, its key chosen and its key flow started now, on the carry's thread, while
        the network still works on the frame before (the key flow no longer waits for the network to take
        the frame). None with ``lag`` >= 1 (``before`` decides)."""
        last, shape, n = self._plan
        if carrier is not last or flow is None or img.shape != shape:
            n = 0
        self._plan = (carrier, img.shape, n + 1)
        if self.lag:
            return None
        small = self.shrink(carrier, img, flow)
        if n % self.every:
            return Ahead(False, small=small)
        key = carrier.choose(small[0])
        finer = small[0] is not img
        return Ahead(True, key, (self._flows or self._pool).submit(self._key_flow, carrier, small[0], key, finer), small)

    def shrink(self, carrier: KeyCarry, img: np.ndarray, flow: np.ndarray | None
               ) -> tuple[np.ndarray, np.ndarray | None]:
        """``img`` and its flow at the size the carry works at: half size above ``REDUCE_ABOVE`` pixels where the
        carrier's key flow has a finer preset for it, else as they are."""
        h, w = img.shape[:2]
        if h * w <= REDUCE_ABOVE or getattr(carrier.flow, "preset", None) not in FINER:
            return img, flow
        sw, sh = (w + 1) // 2, (h + 1) // 2
        small = cv2.resize(img, (sw, sh), interpolation=cv2.INTER_AREA)
        if flow is not None:
            flow = cv2.multiply(cv2.resize(flow, (sw, sh), interpolation=cv2.INTER_AREA), (sw / w, sh / h, 0.0, 0.0))
        return small, flow

    def plan_restart(self) -> None:
        """The prep thread's side of ``reset``: the frame is not stylized, the next one starts afresh."""
        self._plan = (None, (), 0)

    def before(self, carrier: KeyCarry, img: np.ndarray, flow: np.ndarray | None, offline: bool,
               ahead: Ahead | None = None) -> None:
        """Frame ``img`` is about to go through the network: move the last result onto it and
        start a fresh one when it is due (``ahead``: ``plan``'s for it). ``flow``: ``img`` -> the previous
        frame, or None. Frames above ``REDUCE_ABOVE`` pixels are carried at half size (``shrink``; ``after``
        brings the result back)."""
        self._full = img.shape[:2]
        full = img
        img, flow = ahead.small if ahead is not None and ahead.small is not None else self.shrink(carrier, img, flow)
        finer = img.shape != full.shape
        if carrier is not self._carrier:
            self.reset(self._carrier)
            self._carrier = carrier
            if carry_mod.CARRY_RISE_PER_FRAME:  # trust rises at the same pace per frame, fresh or moved
                carrier.rise = 1.0 - (1.0 - carry_mod.CARRY_RISE) ** self.every
        elif flow is None or (self._state is not None and self._state.trust.shape != img.shape[:2]):
            self.reset()  # no way to move the past onto this frame
        n = self._n
        due = self._submitted < 0 or (n - self._submitted >= self.every if ahead is None else ahead.due)
        if carrier is self._carrier and flow is not None and self._state is not None:
            if due and self.lag == 0:
                self._state = None  # a fresh result replaces it on this very frame: no need to move it
            elif carry_mod.CARRY_RECHECK and self.lag == 0:  # on the carry's thread, beside the network: ``after``
                self._moving = self._pool.submit(carrier.move, self._state, flow, img)  # takes it (its frame's own)
            elif carry_mod.CARRY_RECHECK:
                self._state = carrier.move(self._state, flow, img)
            else:
                self._state = carrier.move(self._state, flow)
        if carrier is self._carrier and flow is not None and (self._pending is not None or self._chain_ok):
            self._since = compose(flow, self._since)
        if due and (offline or self.lag == 0 or self._pending is None or self._pending.done()):
            if self._pending is not None:  # offline: its frame's result is about to be superseded
                self._collect(wait=True)
            chain = self._since if self._chain_ok else None  # back to the last fresh frame: the temporal check
            self._pending = self._pool.submit(self._fresh, carrier, img, chain, ahead, finer)
            self._since, self._chain_ok, self._submitted = None, True, n

    @property
    def state(self) -> Carried | None:
        """The result ``after`` returned last (with its key and flow), or None."""
        return self._state

    def after(self, offline: bool) -> tuple[np.ndarray, np.ndarray] | None:
        """``(painting (H, W, 3) uint8, trust (H, W) float32)`` for the frame given to ``before`` (after
        the network ran), or None while there is none."""
        if self._moving is not None:  # the last result moved onto this frame, on the carry's thread
            moving, self._moving = self._moving, None
            self._state = moving.result()
        if self._pending is not None:
            if offline or self.lag == 0:
                if self._n - self._submitted >= self.lag:
                    self._collect(wait=True)
            elif self._pending.done():
                self._collect(wait=False)
        self._n += 1
        c = self._state
        if c is None or self._carrier is None:
            return None
        if c.trust.shape == self._full:
            return c.painting, c.trust
        h, w = self._full  # carried at half size (``shrink``): the painting itself at full size, along the flow
        return self._carrier.painting_at(c, (h, w)), cv2.resize(c.trust, (w, h), interpolation=cv2.INTER_LINEAR)

    def _collect(self, wait: bool) -> None:
        pending, self._pending = self._pending, None  # a failed result is reported once (the frame's error), not forever
        assert pending is not None
        result = pending.result() if wait else pending.result(timeout=0)
        if self._since is not None and self._carrier is not None:  # frames went by since its own: move it here
            result = self._carrier.move(result, self._since)
        self._state = result

    def _key_flow(self, carrier: KeyCarry, img: np.ndarray, key: int, finer: bool = False) -> np.ndarray:
        """The frame -> key flow; ``finer``: ``img`` is a half-size copy (``shrink``), matched with ``FINER``'s preset."""
        t0 = time.perf_counter()
        dis: FlowEstimator | None = carrier.flow
        preset = base = getattr(carrier.flow, "preset", "")
        if finer:
            preset = FINER[base]
        if self._flows is not None or preset != base:  # one DIS per thread: a DIS runs one flow at a time
            mine: FlowEstimator | None = getattr(self._local, "dis", None)
            if mine is None or mine.preset != preset:
                mine = self._local.dis = FlowEstimator(preset)
            dis = mine
        out = carrier.key_flow(img, key, dis)
        self.timer.add("key flow", 1000 * (time.perf_counter() - t0))
        return out

    def _fresh(self, carrier: KeyCarry, img: np.ndarray, chain: np.ndarray | None, ahead: Ahead | None,
               finer: bool = False) -> Carried:
        t0 = time.perf_counter()
        if ahead is not None and ahead.flow is not None:  # started before this (one worker: on this thread, done)
            out = carrier.carry(img, ahead.key, chain, key_flow=ahead.flow.result())
        elif finer:  # the finer preset's key flow on the half-size copy
            key = carrier.choose(img)
            out = carrier.carry(img, key, chain, key_flow=self._key_flow(carrier, img, key, True))
        else:
            out = carrier.carry(img, flow_to_prev=chain)
        self.timer.add("carry", 1000 * (time.perf_counter() - t0))
        return out

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._flows is not None:
            self._flows.shutdown(wait=False, cancel_futures=True)
