"""The per-frame work of the live pipeline, in two threads that overlap.

    prepare (thread "style-prep"):  latest camera frame -> causal denoise -> segmentation -> blob guide ->
        network input (the person's box in masked mode); when the keyframe carry is due, its flow frame ->
        key starts on thread "style-carry" (``live.carrying``)
    finish (thread "style-net"):    U-Net, or its last output moved here (``live.skipping``) (meanwhile, on
        "style-carry", the carry's checks) -> keyframe carry blend -> output stabiliser -> composite -> output

While the network works on frame t, the next frame is already being prepared: on two cores the
stylized rate is set by the slower half, not by the sum. The hand-over holds one job, so a slow
network makes ``prepare`` wait (the camera's newest frame wins the input slot): lag never builds up.

A failure in any step of one frame is reported and that frame goes out
unstylized: the live output never stops. New weights and new keyframes are
swapped in between frames.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from livestyle.capture import Frame
from livestyle.engine.infer import Stylizer, batch_to_frames, frames_to_batch
from livestyle.live.carrying import Ahead, CarryRunner
from livestyle.live.composite import background, blend, person_box
from livestyle.live.keyed import Keyed
from livestyle.live.mix import Crossfade, apply_strength
from livestyle.live.skipping import NetSchedule, region_of
from livestyle.live.slot import LatestSlot
from livestyle.live.stats import StageTimer
from livestyle.live.upscale import to_full_size
from livestyle.outputs import OutFrame
from livestyle.temporal import (
    CARRY_LIVE,
    STEADY_FLOW,
    STEADY_LIVE,
    FlowEstimator,
    KeyCarry,
    OutputStabilizer,
)
from livestyle.temporal.flow import to_gray


@dataclass
class StageSettings:
    """Settings the UI may change at any time (read once per frame)."""

    masked: bool = False
    background: str = "keep"  # keep | blur | solid | stylized
    enabled: bool = True  # False: pass frames through unstylized
    steady: float = STEADY_LIVE  # output stabiliser strength (guides.OutputStabilizer; 0 = off)
    carry: float = CARRY_LIVE  # keyframe carry strength (guides.KeyCarry; 0 = off)
    strength: float = 1.0  # blend of the camera frame (0: exactly it) and the stylized frame (1) (live.mix)
    transition: float = 0.5  # crossfade seconds when the model changes to another style's (0 = cut)
    cycle: bool = False  # one network pass per frame at the next of 4 phases; the stabiliser averages them


@dataclass
class Job:
    """One frame between the two halves: either ``ready`` (nothing to stylize) or a network input."""

    frame: Frame
    img: np.ndarray  # (H, W, 3) uint8 BGR, denoised
    ready: np.ndarray | None = None  # the finished output when there is nothing to stylize
    stylizer: Stylizer | None = None
    batch: torch.Tensor | None = None  # (1, C, h, w) network input
    size: tuple[int, int] = (0, 0)  # (h, w) of the stylized region before padding
    mask: np.ndarray | None = None  # (H, W) float32 person probability (masked mode)
    box: tuple[int, int, int, int] | None = None  # (y0, y1, x0, x1) stylized region; None = whole frame
    bg: str = "keep"
    flow: np.ndarray | None = None  # (H, W, 2) float32 flow of ``img`` to the previous frame
    carrier: KeyCarry | None = None  # the keyframe carry to run on ``img`` (beside the network, in finish)
    ahead: Ahead | None = None  # its plan for this frame, key flow started (``CarryRunner.plan``)
    reset_carrier: KeyCarry | None = None  # a carry to reset (nothing stylized in this frame)
    guides: list[np.ndarray] | None = None  # the region's guide frames (a job the network skips: live.skipping)
    error: str = ""


class Handoff:
    """One job from the prep thread to the net thread; ``put`` returns once the job was taken.

    Waiting until the network *takes* the job (not until there is room) makes the prep
    thread start its next camera frame exactly when the network starts this one, so a
    prepared frame never sits waiting for a whole network pass: lag stays one prep plus
    one network time.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._job: Job | None = None

    def put(self, job: Job, halt: threading.Event) -> None:
        with self._cond:
            self._job = job
            self._cond.notify_all()
            while self._job is job and not halt.is_set():
                self._cond.wait(0.1)

    def take(self, timeout: float) -> Job | None:
        with self._cond:
            self._cond.wait_for(lambda: self._job is not None, timeout)
            job, self._job = self._job, None
            self._cond.notify_all()
            return job


class StyleStage(threading.Thread):
    """The "style-prep" thread; it starts and stops its "style-net" partner.

    ``scale`` < 1 ("render scale") runs denoise, segmentation, guides, the flows and the network on the
    frame resized by ``scale``; ``live.upscale`` brings the result back to full size (with the share of the
    camera frame's fine detail the style keeps, and the painting's own detail where the keyframe carry is
    trusted); the mask is upsampled and the composite is done at full size.
    """

    def __init__(self, inp: LatestSlot[Frame], out: LatestSlot[OutFrame], stop: threading.Event,
                 settings: StageSettings, denoiser=None, segmenter=None,
                 on_error: Callable[[str], None] | None = None, threads: int | None = None,
                 scale: float = 1.0, net_every: int = 1):
        super().__init__(name="style-prep", daemon=True)
        if not 0.0 < scale <= 1.0:
            raise ValueError(f"render scale must be in (0, 1], got {scale}")
        self.scale = scale  # the network and its helpers see frames resized by this
        self.schedule = NetSchedule(net_every)  # the network on every Nth frame (live.skipping)
        self.inp, self.out, self._halt = inp, out, stop
        self.settings = settings
        self.denoiser, self.segmenter = denoiser, segmenter
        self.on_error = on_error or (lambda msg: None)
        self.threads = threads
        self.timer = StageTimer()
        self._lock = threading.Lock()
        self._stylizer: Stylizer | None = None
        self._trackers: list = []
        self._carrier: KeyCarry | None = None
        self._jobs = Handoff()
        self._net = threading.Thread(target=self._net_loop, name="style-net", daemon=True)
        self.last_input: tuple[np.ndarray, np.ndarray | None] | None = None  # (denoised frame, mask)
        self.errors = 0
        self._last_error, self._last_error_t = "", 0.0
        self.processed = 0
        self._box: tuple[int, int, int, int] | None = None  # the last network box (see _steady_box)
        self._stabilizer: OutputStabilizer | None = None  # made in finish() for settings.steady
        self._own_flow: FlowEstimator | None = None  # flow for the stabiliser when there is no denoiser
        self._prev_gray: np.ndarray | None = None
        self._carry = CarryRunner(self.timer)  # the keyframe carry's flow, on its own thread (live.carrying)
        self.fade = Crossfade()  # the crossfade of a style switch (set_model with fade_s)
        self.offline = False  # True: wait for the network's runtime to be ready (render --live: output independent of timing)

    # -- control (any thread) ------------------------------------------------
    def set_model(self, stylizer: Stylizer | None, keyed: Keyed | None = None, fade_s: float = 0.0) -> None:
        """Run ``stylizer`` from the next frame on; ``fade_s`` > 0 crossfades to it from the last frame sent."""
        with self._lock:
            self._stylizer = stylizer
            self.fade.start(fade_s)
        self.set_keyed(keyed or Keyed())

    def set_keyed(self, keyed: Keyed) -> None:
        """New guide trackers and keyframe carry (the painted keyframes changed)."""
        with self._lock:
            self._trackers, self._carrier = list(keyed.trackers), keyed.carrier

    @property
    def stylizer(self) -> Stylizer | None:
        return self._stylizer

    @property
    def net_every(self) -> int:
        """The network on every Nth frame, the frames between move its last output (``live.skipping``)."""
        return self.schedule.every

    @net_every.setter
    def net_every(self, n: int) -> None:
        self.schedule.every = n

    def start(self) -> None:
        self._net.start()
        super().start()

    def join(self, timeout: float | None = None) -> None:
        super().join(timeout)
        if self._net.is_alive():
            self._net.join(timeout)

    def is_alive(self) -> bool:
        return super().is_alive() or self._net.is_alive()

    def run(self) -> None:
        """Prepare the newest camera frame, hand it to the network thread (waits while it is busy)."""
        while not self._halt.is_set():
            fr = self.inp.get(timeout=0.1)
            if fr is None:
                continue
            try:
                job = self.prepare(fr)
            except Exception as e:  # never take the output down
                job = Job(fr, fr.image, ready=fr.image, error=f"stylize failed: {type(e).__name__}: {e}")
            self._jobs.put(job, self._halt)

    def _net_loop(self) -> None:
        if self.threads:
            torch.set_num_threads(self.threads)
        with torch.inference_mode():
            while not self._halt.is_set():
                job = self._jobs.take(timeout=0.1)
                if job is None:
                    continue
                try:
                    img = self.finish(job)
                except Exception as e:  # never take the output down
                    job.error = f"stylize failed: {type(e).__name__}: {e}"
                    img = job.frame.image
                if job.error:
                    self._report(job.error)
                img = apply_strength(self.fade(img), job.frame.image, self.settings.strength)
                self.out.put(OutFrame(img, original=job.frame.image, t_capture=job.frame.t_capture))
                self.processed += 1
                self.timer.frame_done()

    def _report(self, error: str) -> None:
        self.errors += 1
        msg = error.splitlines()[0]
        now = time.monotonic()
        if msg != self._last_error or now - self._last_error_t > 10.0:  # once per 10 s, not per frame
            self._last_error, self._last_error_t = msg, now
            self.on_error(msg)

    # -- the work of one frame (callable directly, e.g. by ``livestyle calibrate``) ----
    def process(self, frame: np.ndarray) -> np.ndarray:
        """One frame, both halves in this thread: ``(H, W, 3) uint8 BGR`` in and out."""
        with torch.inference_mode():
            return apply_strength(self.finish(self.prepare(Frame(frame, time.perf_counter(), 0))), frame,
                                  self.settings.strength)

    def prepare(self, fr: Frame) -> Job:
        """Denoise, segment, carry the guides and build the network input of one frame."""
        s, t = self.settings, self.timer
        with self._lock:
            stylizer, trackers, carrier = self._stylizer, self._trackers, self._carrier
        t0 = time.perf_counter()
        img = fr.image
        if self.scale < 1.0:
            h, w = img.shape[:2]
            img = cv2.resize(img, (max(16, round(w * self.scale)), max(16, round(h * self.scale))),
                             interpolation=cv2.INTER_AREA)
        img = self.denoiser(img) if self.denoiser is not None else img
        t1 = time.perf_counter()
        t.add("denoise", 1000 * (t1 - t0))
        flow = getattr(self.denoiser, "last_flow", None)  # current -> previous: one DIS run per frame, shared
        every = self.schedule.every
        if self.denoiser is None and (s.steady > 0 or s.carry > 0 or every > 1):
            flow = self._flow_to_prev(img)
            t.add("flow", 1000 * (time.perf_counter() - t1))  # the frame -> previous frame flow, for all of them
            t1 = time.perf_counter()
        need_mask = s.masked and self.segmenter is not None
        mask = self.segmenter(img, flow_to_prev=flow) if need_mask else None  # (H, W) float32 in [0, 1]
        t2 = time.perf_counter()
        if need_mask:
            t.add("segment", 1000 * (t2 - t1))
        mask_u8 = None if mask is None else (mask > 0.5).astype(np.uint8) * 255
        self.last_input = (img, mask_u8)
        if stylizer is None or not s.enabled:
            self.schedule.restart()
            self._carry.plan_restart()
            return Job(fr, img, ready=img if self.scale == 1.0 else fr.image, reset_carrier=carrier)
        busy = need_mask and getattr(self.segmenter, "ran_network", False)  # re-anchoring may wait a frame
        guides = [tr.update(img, mask_u8, flow_to_prev=flow, busy=busy) for tr in trackers]
        t3 = time.perf_counter()
        if trackers:
            t.add("guide", 1000 * (t3 - t2))
        box = None
        if mask is not None and s.background != "stylized":
            box = self._steady_box(person_box(mask, max(32, stylizer.model.stride)))
            if box is None:  # nobody in the frame: nothing to stylize
                t.add("stylize", 0.0)
                self.schedule.restart()
                self._carry.plan_restart()
                return Job(fr, img, ready=background(img if self.scale == 1.0 else fr.image, s.background),
                           reset_carrier=carrier)
        region, g = img, guides
        if box is not None:
            y0, y1, x0, x1 = box
            region, g = img[y0:y1, x0:x1], [x[y0:y1, x0:x1] for x in guides]
        if s.carry <= 0:  # off (the UI may turn it back on at any time: it then starts afresh)
            carrier = None
            self._carry.plan_restart()
        ahead = None if carrier is None else self._carry.plan(carrier, img, flow)
        if self.schedule.skips(stylizer, box, flow, every):
            return Job(fr, img, stylizer=stylizer, size=region.shape[:2], mask=mask, box=box, bg=s.background,
                       flow=flow, carrier=carrier, ahead=ahead, guides=g)
        batch = frames_to_batch([region], [g], stylizer.model.stride)
        t4 = time.perf_counter()
        t.add("prepare", 1000 * (t4 - t3))
        return Job(fr, img, stylizer=stylizer, batch=batch, size=region.shape[:2], mask=mask, box=box,
                   bg=s.background, flow=flow, carrier=carrier, ahead=ahead)

    def _flow_to_prev(self, img: np.ndarray) -> np.ndarray | None:
        """The flow current -> previous frame when no denoiser computes it (for the stabiliser)."""
        if self._own_flow is None:
            self._own_flow = FlowEstimator(*STEADY_FLOW)
        gray = to_gray(img)
        prev, self._prev_gray = self._prev_gray, gray
        return None if prev is None or prev.shape != gray.shape else self._own_flow(gray, prev)

    def _stabilize(self, job: Job, styled: np.ndarray) -> np.ndarray:
        """The network's output of ``job`` smoothed along the flow (``settings.steady``; 0 = off)."""
        strength = self.settings.steady
        if strength <= 0:
            self._stabilizer = None
            return styled
        if self._stabilizer is None or self._stabilizer.strength != strength:
            self._stabilizer = OutputStabilizer(strength)
        return self._stabilizer(styled, job.flow, job.img.shape[:2], job.box)

    def _steady_box(self, box: tuple[int, int, int, int] | None) -> tuple[int, int, int, int] | None:
        """Keep the last network box while the new one fits inside it and is not much smaller: every new box
        size is a new input shape for the network (a slower first call, memory for new kernels), and a box
        that follows the person to the pixel makes hundreds. Boxes are snapped to 32 px; the old one stays
        while it contains the new one and is at most 64 px larger in each dimension."""
        old = self._box
        if box is not None and old is not None:
            y0, y1, x0, x1 = box
            o0, o1, p0, p1 = old
            inside = o0 <= y0 and y1 <= o1 and p0 <= x0 and x1 <= p1
            if inside and (o1 - o0) - (y1 - y0) <= 64 and (p1 - p0) - (x1 - x0) <= 64:
                box = old
        self._box = box
        return box

    def _network(self, job: Job) -> np.ndarray:
        """The network's output for ``job``'s region, ``(h, w, 3) uint8``; kept for the frames that skip it."""
        assert job.stylizer is not None
        h, w = job.size
        batch = job.batch
        if batch is None:  # a skipped frame with nothing to move (the last network frame failed)
            batch = frames_to_batch([region_of(job.img, job.box)], [job.guides or []], job.stylizer.model.stride)
        job.stylizer.cycle = self.settings.cycle and self.settings.steady > 0 and job.stylizer.phases == 1
        styled = batch_to_frames(job.stylizer.run(batch, block=self.offline)[..., :h, :w])[0]
        self.schedule.keep(styled, job.img, job.box, job.stylizer.model.cfg.residual)
        return styled

    def finish(self, job: Job) -> np.ndarray:
        """Run the network on a prepared job and composite: the output frame ``(H, W, 3) uint8 BGR``."""
        if job.ready is not None:
            if self._stabilizer is not None:
                self._stabilizer.reset()  # nothing stylized in this frame: the next one starts afresh
            if job.reset_carrier is not None:
                self._carry.reset(job.reset_carrier)
            self.schedule.clear()
            return job.ready
        assert job.stylizer is not None
        if job.carrier is not None:  # the keyframe carry's flow and checks run beside the network
            self._carry.before(job.carrier, job.img, job.flow, self.offline, job.ahead)
        t3 = time.perf_counter()
        styled = self.schedule.moved(job.img, job.flow, job.box) if job.batch is None else None
        stage = "move" if styled is not None else "stylize"  # the last network output moved here, or the network
        styled = self._network(job) if styled is None else styled
        t4 = time.perf_counter()
        self.timer.add(stage, 1000 * (t4 - t3))
        carried = self._carry.after(self.offline) if job.carrier is not None else None
        if carried is not None:
            painting, trust = carried
            t4 = time.perf_counter()
            if job.box is not None:
                y0, y1, x0, x1 = job.box
                painting, trust = painting[y0:y1, x0:x1], trust[y0:y1, x0:x1]
            styled = KeyCarry.blend(styled, painting, trust, self.settings.carry)
            t5 = time.perf_counter()
            self.timer.add("blend", 1000 * (t5 - t4))  # the carry's blend (its flow and checks: "carry")
            t4 = t5
        if self.settings.steady > 0 or self._stabilizer is not None:
            styled = self._stabilize(job, styled)
            t5 = time.perf_counter()
            self.timer.add("steady", 1000 * (t5 - t4))
            t4 = t5
        img, mask, box = job.img, job.mask, job.box
        if self.scale < 1.0:
            state = self._carry.state if carried is not None else None
            residual = job.stylizer.model.cfg.residual
            img = job.frame.image
            styled, mask, box = to_full_size(img, job.img, styled, job.box, job.mask, residual, job.carrier, state,
                                             self.settings.carry)
            t5 = time.perf_counter()
            self.timer.add("upscale", 1000 * (t5 - t4))
            t4 = t5
        if mask is None or box is None:  # whole frame (background stylized too)
            out = styled
        else:
            bg = background(img, job.bg)
            out = bg.copy() if bg is img else bg
            y0, y1, x0, x1 = box
            out[y0:y1, x0:x1] = blend(styled, out[y0:y1, x0:x1], mask[y0:y1, x0:x1])
        self.timer.add("composite", 1000 * (time.perf_counter() - t4))
        return out
