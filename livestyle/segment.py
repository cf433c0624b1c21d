"""Person segmentation for live frames: mediapipe's selfie model, smoothed in time.

``Segmenter()(frame)`` returns the probability that each pixel shows a
person. It runs mediapipe Tasks' ``ImageSegmenter`` in VIDEO mode (which
wants strictly increasing millisecond timestamps), then

- smooths the confidence in time with an exponential moving average
  (``smooth`` is the weight of the past), which removes edge flicker;
- feathers the edges with a small Gaussian blur;
- optionally runs the network only every ``every`` frames and, in between,
  carries the last mask along with the motion so it does not trail behind a
  moving person: along the caller's flow (current -> previous frame, e.g. the
  live denoiser's, free) when given, else DIS optical flow on a small grey
  copy (~0.3 ms).

The models ``livestyle/assets/models/selfie_segmentation.tflite`` (256x256 input) and
``selfie_segmentation_landscape.tflite`` (144x256, about twice as fast) are
Apache-2.0, from the mediapipe 0.10.21 wheel; :func:`default_model` picks the
landscape one for wide frames (see ``calibration/bench_segment.py``).
"""

from __future__ import annotations

import time
from pathlib import Path
from types import TracebackType

import cv2
import mediapipe as mp
import numpy as np
from mediapipe.tasks.python import vision
from mediapipe.tasks.python.core.base_options import BaseOptions

from livestyle.errors import ModelError
from livestyle.paths import ASSETS, asset
from livestyle.quiet import native_stderr_silenced
from livestyle.temporal.flow import pixel_grid

DEFAULT_MODEL = ASSETS / "models" / "selfie_segmentation.tflite"
LANDSCAPE_MODEL = ASSETS / "models" / "selfie_segmentation_landscape.tflite"
FLOW_WIDTH = 160
"""Width of the grey copies used to carry the mask between network runs."""
WORK_WIDTH = 640
"""Masks are computed, smoothed and feathered at most this wide, then resized to the frame.
The network sees 256x256 (144x256 landscape) anyway; this keeps 720p cheap."""


def default_model(width: int, height: int) -> Path:
    """The shipped model for frames of this size: landscape (144x256 input) when at least 3:2 wide."""
    return LANDSCAPE_MODEL if width >= 1.5 * height else DEFAULT_MODEL


def feather_mask(mask: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian-blur a ``(H, W) float32`` mask by ``sigma`` px (0 = unchanged); stays in [0, 1]."""
    if sigma <= 0.0:
        return mask
    return cv2.GaussianBlur(mask, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REPLICATE)


class Segmenter:
    """Person probability for ``(H, W, 3) uint8 BGR`` frames, as ``(H, W) float32`` in [0, 1].

    ``model_path``: a mediapipe segmentation ``.tflite`` (default: the
    shipped selfie model); for multi-class models the person probability is
    1 - background. ``every``: run the network on every N-th frame and warp
    the last mask on the others. ``smooth`` in [0, 1): EMA weight of the
    previous mask (0 = no temporal smoothing). ``feather``: edge blur sigma in
    pixels at 640 px width, scaled with the frame width. Frames wider than
    640 px are processed at 640 px and the mask is resized back (the network's
    input is 256 px anyway). ``input_width``: frames are shrunk to this width before the
    network (the shipped models take 256 px; raise it for a model with larger inputs). Use from one thread;
    ``close()`` (or ``with``) frees the mediapipe graph.
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        every: int = 1,
        smooth: float = 0.6,
        feather: float = 2.0,
        input_width: int = 256,
    ) -> None:
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        if not 0.0 <= smooth < 1.0:
            raise ValueError(f"smooth must be in [0, 1), got {smooth}")
        if feather < 0.0:
            raise ValueError(f"feather must be >= 0, got {feather}")
        self.model_path = Path(model_path) if model_path is not None else DEFAULT_MODEL
        self.every = every
        self.smooth = smooth
        self.feather = feather
        self.input_width = int(input_width)
        self._segmenter: vision.ImageSegmenter | None = self._create(self.model_path)
        self._last_ts = -1
        self._count = 0
        self._mask: np.ndarray | None = None  # (H, W) float32, smoothed, before feathering
        self._key_gray: np.ndarray | None = None  # small grey copy of the last segmented frame
        self._key_mask: np.ndarray | None = None  # raw network mask at that frame
        self._prev_raw: np.ndarray | None = None  # raw mask of the previous frame (every > 1)
        self.ran_network = False
        """Whether the last call ran the network (not a flow-carried mask): a heavier frame."""
        self._flow = cv2.DISOpticalFlow.create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
        self._ran_once = False

    @staticmethod
    def _create(path: Path) -> vision.ImageSegmenter:
        if path in (DEFAULT_MODEL, LANDSCAPE_MODEL):
            asset(f"models/{path.name}")  # a shipped model missing is a broken install, not a bad --segment-model
        if not path.is_file():
            raise ModelError(f"{path}: no such segmentation model; pass the path of a mediapipe .tflite segmenter or omit it to use the shipped one")
        options = vision.ImageSegmenterOptions(
            base_options=BaseOptions(model_asset_path=str(path)),
            running_mode=vision.RunningMode.VIDEO,
            output_confidence_masks=True,
            output_category_mask=False,
        )
        try:
            with native_stderr_silenced():  # mediapipe's INFO/WARNING lines would land on the TUI
                return vision.ImageSegmenter.create_from_options(options)
        except (ValueError, RuntimeError, OSError) as err:
            raise ModelError(f"{path}: not a usable mediapipe segmentation model ({err})") from err

    def _timestamp_ms(self) -> int:
        """Milliseconds of the monotonic clock, forced strictly increasing (VIDEO mode needs it)."""
        ts = max(int(time.monotonic() * 1000), self._last_ts + 1)
        self._last_ts = ts
        return ts

    def _run_network(self, frame_bgr: np.ndarray) -> np.ndarray:
        """Raw person confidence ``(H, W) float32`` in [0, 1] from the network."""
        if self._segmenter is None:
            raise RuntimeError("Segmenter used after close()")
        h, w = frame_bgr.shape[:2]
        small = frame_bgr
        if w > self.input_width:  # mediapipe would shrink it anyway; doing it here saves ~4 ms CPU per run
            small = cv2.resize(frame_bgr, (self.input_width, max(8, round(h * self.input_width / w))),
                               interpolation=cv2.INTER_AREA)
        rgb = cv2.cvtColor(small, cv2.COLOR_BGR2RGB)
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
        if self._ran_once:
            result = self._segmenter.segment_for_video(image, self._timestamp_ms())
        else:  # the first run prints the XNNPACK delegate line
            with native_stderr_silenced():
                result = self._segmenter.segment_for_video(image, self._timestamp_ms())
            self._ran_once = True
        masks = result.confidence_masks or []
        if not masks:
            raise ModelError(f"{self.model_path}: the model gave no confidence mask; use a segmentation model")
        if len(masks) == 1:
            conf = masks[0].numpy_view()
        else:  # multi-class models put the background first
            conf = 1.0 - masks[0].numpy_view()
        conf = np.asarray(conf, dtype=np.float32).reshape(small.shape[:2])
        if small is not frame_bgr:
            conf = cv2.resize(conf, (w, h), interpolation=cv2.INTER_LINEAR)
        return np.clip(conf, 0.0, 1.0)

    @staticmethod
    def _small_gray(frame_bgr: np.ndarray) -> np.ndarray:
        h, w = frame_bgr.shape[:2]
        size = (FLOW_WIDTH, max(8, round(h * FLOW_WIDTH / w)))
        return cv2.cvtColor(cv2.resize(frame_bgr, size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)

    def _warp_key_mask(self, frame_bgr: np.ndarray) -> np.ndarray:
        """The last network mask carried to ``frame_bgr`` along DIS flow (current -> key frame)."""
        assert self._key_gray is not None and self._key_mask is not None
        gray = self._small_gray(frame_bgr)
        flow = self._flow.calc(gray, self._key_gray, None)  # type: ignore[call-overload]  # (h, w, 2): where each pixel was; the stubs reject flow=None
        h, w = frame_bgr.shape[:2]
        sh, sw = gray.shape
        flow = cv2.resize(flow, (w, h), interpolation=cv2.INTER_LINEAR)
        flow[..., 0] *= w / sw
        flow[..., 1] *= h / sh
        flow += pixel_grid(h, w)  # absolute source positions in the key frame
        return cv2.remap(self._key_mask, flow, None, interpolation=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)

    def __call__(self, frame_bgr: np.ndarray, flow_to_prev: np.ndarray | None = None) -> np.ndarray:
        """Person probability of a ``(H, W, 3) uint8 BGR`` frame: ``(H, W) float32`` in [0, 1].

        ``flow_to_prev``: optional ``(H, W, 2) float32`` flow from this frame to the previous
        one (already computed by the caller); between network runs the mask follows it.
        """
        if frame_bgr.dtype != np.uint8 or frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3:
            raise ValueError(f"expected an (H, W, 3) uint8 BGR frame, got {frame_bgr.dtype} {frame_bgr.shape}")
        h, w = frame_bgr.shape[:2]
        if flow_to_prev is not None and flow_to_prev.shape[:2] != (h, w):
            flow_to_prev = None  # not this frame's flow: fall back to our own
        if w <= WORK_WIDTH:
            return self._process(frame_bgr, flow_to_prev)
        work = (WORK_WIDTH, max(8, round(h * WORK_WIDTH / w)))
        small = cv2.resize(frame_bgr, work, interpolation=cv2.INTER_LINEAR)
        if flow_to_prev is not None and self._count % self.every != 0:
            flow_to_prev = cv2.resize(flow_to_prev, work, interpolation=cv2.INTER_LINEAR) * (work[0] / w)
        return np.clip(cv2.resize(self._process(small, flow_to_prev), (w, h), interpolation=cv2.INTER_LINEAR), 0.0, 1.0)

    def _warp_prev_raw(self, flow_to_prev: np.ndarray) -> np.ndarray:
        """The previous frame's raw mask carried to this frame along ``flow_to_prev``."""
        assert self._prev_raw is not None
        h, w = flow_to_prev.shape[:2]
        return cv2.remap(self._prev_raw, cv2.add(pixel_grid(h, w), flow_to_prev), None,
                         interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    def _process(self, frame_bgr: np.ndarray, flow_to_prev: np.ndarray | None = None) -> np.ndarray:
        """``__call__`` at the working resolution."""
        if self._mask is not None and self._mask.shape != frame_bgr.shape[:2]:
            self.reset()  # the source changed size: old masks mean nothing here
        self.ran_network = self._count % self.every == 0 or self._key_mask is None
        if self.ran_network:
            raw = self._run_network(frame_bgr)
            if self.every > 1:
                self._key_mask = raw
                self._key_gray = None if flow_to_prev is not None else self._small_gray(frame_bgr)
        elif flow_to_prev is not None and self._prev_raw is not None:
            raw = self._warp_prev_raw(flow_to_prev)
        else:
            if self._key_gray is None:  # the caller's flow stopped coming: restart from the network
                self._key_mask = None
                return self._process(frame_bgr, None)
            raw = self._warp_key_mask(frame_bgr)
        self._prev_raw = raw if self.every > 1 else None
        self._count += 1
        if self._mask is None or self.smooth == 0.0:
            self._mask = raw
        else:
            self._mask = cv2.addWeighted(self._mask, self.smooth, raw, 1.0 - self.smooth, 0.0)
        return feather_mask(self._mask, self.feather * frame_bgr.shape[1] / 640.0)

    def reset(self) -> None:
        """Forget the temporal state (call after a cut or a source switch)."""
        self._mask = None
        self._key_mask = None
        self._key_gray = None
        self._prev_raw = None
        self._count = 0

    def close(self) -> None:
        """Free the mediapipe graph; safe to call twice."""
        if self._segmenter is not None:
            self._segmenter.close()
            self._segmenter = None

    def __enter__(self) -> Segmenter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
