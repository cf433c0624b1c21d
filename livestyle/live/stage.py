"""The per-frame work of the live pipeline, in its own thread.

latest camera frame -> causal denoise -> segmentation -> blob guide -> U-Net
(on the person's box in masked mode) -> composite -> latest output slot.

A failure in any step of one frame is reported and that frame goes out
unstylized: the live output never stops. New weights and new keyframes are
swapped in between frames.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..capture import Frame
from ..infer import Stylizer
from ..outputs import OutFrame
from ..slot import LatestSlot
from .composite import background, blend, person_box
from .stats import StageTimer


@dataclass
class StageSettings:
    """Settings the UI may change at any time (read once per frame)."""

    masked: bool = False
    background: str = "keep"  # keep | blur | solid | stylized
    enabled: bool = True  # False: pass frames through unstylized


class StyleStage(threading.Thread):
    def __init__(self, inp: LatestSlot[Frame], out: LatestSlot[OutFrame], stop: threading.Event,
                 settings: StageSettings, denoiser=None, segmenter=None,
                 on_error: Callable[[str], None] | None = None, threads: int | None = None):
        super().__init__(name="style-stage", daemon=True)
        self.inp, self.out, self._halt = inp, out, stop
        self.settings = settings
        self.denoiser, self.segmenter = denoiser, segmenter
        self.on_error = on_error or (lambda msg: None)
        self.threads = threads
        self.timer = StageTimer()
        self._lock = threading.Lock()
        self._stylizer: Stylizer | None = None
        self._trackers: list = []
        self.last_input: tuple[np.ndarray, np.ndarray | None] | None = None  # (denoised frame, mask)
        self.errors = 0
        self._last_error, self._last_error_t = "", 0.0
        self.processed = 0

    # -- control (any thread) ------------------------------------------------
    def set_model(self, stylizer: Stylizer | None, trackers: list | None = None) -> None:
        with self._lock:
            self._stylizer = stylizer
            self._trackers = list(trackers or [])

    def set_trackers(self, trackers: list) -> None:
        with self._lock:
            self._trackers = list(trackers)

    @property
    def stylizer(self) -> Stylizer | None:
        return self._stylizer

    # -- the loop -------------------------------------------------------------
    def run(self) -> None:
        if self.threads:
            torch.set_num_threads(self.threads)
        with torch.inference_mode():
            while not self._halt.is_set():
                fr = self.inp.get(timeout=0.1)
                if fr is None:
                    continue
                try:
                    img = self.process(fr.image)
                except Exception as e:  # never take the output down
                    self.errors += 1
                    msg = f"stylize failed: {type(e).__name__}: {e}".splitlines()[0]
                    now = time.monotonic()
                    if msg != self._last_error or now - self._last_error_t > 10.0:  # once per 10 s, not per frame
                        self._last_error, self._last_error_t = msg, now
                        self.on_error(msg)
                    img = fr.image
                self.out.put(OutFrame(img, original=fr.image, t_capture=fr.t_capture))
                self.processed += 1
                self.timer.frame_done()

    def process(self, frame: np.ndarray) -> np.ndarray:
        """One frame: ``(H, W, 3) uint8 BGR`` in and out."""
        s, t = self.settings, self.timer
        with self._lock:
            stylizer, trackers = self._stylizer, self._trackers
        t0 = time.perf_counter()
        img = self.denoiser(frame) if self.denoiser is not None else frame
        t1 = time.perf_counter()
        t.add("denoise", 1000 * (t1 - t0))
        need_mask = s.masked and self.segmenter is not None
        mask = self.segmenter(img) if need_mask else None  # (H, W) float32 in [0, 1]
        t2 = time.perf_counter()
        if need_mask:
            t.add("segment", 1000 * (t2 - t1))
        mask_u8 = None if mask is None else (mask > 0.5).astype(np.uint8) * 255
        self.last_input = (img, mask_u8)
        if stylizer is None or not s.enabled:
            return img
        flow = getattr(self.denoiser, "last_flow", None)  # reuse the denoiser's flow: one DIS run per frame
        guides = [tr.update(img, mask_u8, flow_to_prev=flow) for tr in trackers]
        t3 = time.perf_counter()
        if trackers:
            t.add("guide", 1000 * (t3 - t2))
        box = None
        if mask is not None and s.background != "stylized":
            box = person_box(mask, stylizer.model.stride)
            if box is None:  # nobody in the frame: nothing to stylize
                t.add("stylize", 0.0)
                return background(img, s.background)
        if box is None:
            styled = stylizer([img], [guides])[0]
        else:
            y0, y1, x0, x1 = box
            crop = np.ascontiguousarray(img[y0:y1, x0:x1])
            g = [np.ascontiguousarray(x[y0:y1, x0:x1]) for x in guides]
            styled_crop = stylizer([crop], [g])[0]
        t4 = time.perf_counter()
        t.add("stylize", 1000 * (t4 - t3))
        if mask is None:
            out = styled
        elif box is None:  # background stylized too
            out = styled
        else:
            bg = background(img, s.background)
            out = bg.copy() if bg is img else bg
            y0, y1, x0, x1 = box
            out[y0:y1, x0:x1] = blend(styled_crop, out[y0:y1, x0:x1], mask[y0:y1, x0:x1])
        t.add("composite", 1000 * (time.perf_counter() - t4))
        return out
