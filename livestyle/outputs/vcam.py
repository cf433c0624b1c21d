"""The virtual camera (what Zoom, Meet and OBS see), through ``pyvirtualcam.Camera``.

pyvirtualcam needs a driver: v4l2loopback on Linux, the OBS Virtual Camera
on Windows and macOS. When none is present, opening fails with one line that
holds the exact fix for the user's OS. Frames go out as I420 by default
(the native format of v4l2loopback and OBS, converted here with OpenCV); the
virtual camera needs an even width and height, so an odd size loses its
last column/row.
"""

from __future__ import annotations

import platform

import cv2
import numpy as np
import pyvirtualcam
from pyvirtualcam import PixelFormat

from livestyle.errors import SinkError
from livestyle.outputs.base import Sink

FORMATS = {"I420": PixelFormat.I420, "BGR": PixelFormat.BGR, "RGB": PixelFormat.RGB}

LINUX_FIX = (
    "sudo apt install v4l2loopback-dkms && "
    "sudo modprobe v4l2loopback devices=1 exclusive_caps=1 card_label=livestyle"
)
OBS_FIX = "install OBS Studio (https://obsproject.com), start its Virtual Camera once (Start Virtual Camera), stop it, then retry"


def driver_fix(system: str | None = None) -> str:
    """The one-line instruction that installs a virtual camera driver on ``system`` (default: this OS)."""
    system = system or platform.system()
    return LINUX_FIX if system == "Linux" else OBS_FIX


def _one_line(err: BaseException) -> str:
    return "; ".join(line.strip() for line in str(err).splitlines() if line.strip()) or type(err).__name__


def _short(reason: str) -> str:
    """pyvirtualcam's reason without the backend prefix and the advice after the first sentence."""
    text = reason.split("backend: ", 1)[-1]
    return text.split(". ", 1)[0].rstrip(".")


def _is_format_error(message: str) -> bool:
    text = message.lower()
    return "format" in text or "fourcc" in text


def _is_missing_driver(message: str) -> bool:
    text = message.lower()
    return any(key in text for key in (
        "no v4l2 loopback device", "does not exist", "not a v4l2loopback", "modprobe",
        "obs virtual camera", "not installed", "not started", "no such file",
    ))


def to_camera_format(frame_bgr: np.ndarray, fmt: str) -> np.ndarray:
    """Convert ``(H, W, 3) uint8 BGR`` (even H, W) to what ``Camera.send`` takes for ``fmt``.

    I420: ``(H * 3 / 2, W) uint8`` planar Y, U, V (BT.601, as OpenCV does);
    BGR: unchanged; RGB: channels reversed.
    """
    if fmt == "I420":
        return cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2YUV_I420)
    if fmt == "RGB":
        return np.ascontiguousarray(frame_bgr[:, :, ::-1])
    return np.ascontiguousarray(frame_bgr)


class VirtualCameraSink(Sink):
    """Sends frames to a virtual camera.

    ``device``: e.g. ``"/dev/video4"`` (Linux) or ``"OBS Virtual Camera"``;
    ``None`` = the first available. ``backend``: a pyvirtualcam backend name
    (``"v4l2loopback"``, ``"obs"``, ``"unitycapture"``, or one registered
    with ``pyvirtualcam.register_backend``); ``None`` = try all. ``fmt``:
    ``"I420"`` (default), ``"BGR"`` or ``"RGB"``; a backend that rejects it is
    retried with the others.
    """

    def __init__(self, device: str | None = None, backend: str | None = None, fmt: str = "I420") -> None:
        super().__init__()
        if fmt.upper() not in FORMATS:
            raise SinkError(f"virtual camera format {fmt!r} is not supported; use one of {', '.join(FORMATS)}")
        self.device = device
        self.backend = backend
        self.fmt = fmt.upper()
        self.name = f"vcam {device}" if device else "vcam"
        self._camera: pyvirtualcam.Camera | None = None
        self._even = (0, 0)

    @property
    def camera(self) -> pyvirtualcam.Camera | None:
        """The open ``pyvirtualcam.Camera`` (its ``device``, ``backend``, ``native_fmt``)."""
        return self._camera

    def _open(self, width: int, height: int, fps: float) -> None:
        if self.backend is not None and self.backend not in pyvirtualcam.camera.BACKENDS:
            known = ", ".join(pyvirtualcam.camera.BACKENDS) or "none on this system"
            raise SinkError(f"virtual camera backend {self.backend!r} does not exist; available: {known}")
        even = (width - width % 2, height - height % 2)
        tried = []
        for fmt in [self.fmt, *(f for f in FORMATS if f != self.fmt)]:
            try:
                camera = pyvirtualcam.Camera(even[0], even[1], fps, fmt=FORMATS[fmt],
                                             device=self.device, backend=self.backend)
            except Exception as err:  # pyvirtualcam raises RuntimeError; native backends may raise others
                reason = _one_line(err)
                tried.append(f"{fmt}: {reason}")
                if _is_format_error(reason):
                    continue
                if _is_missing_driver(reason) or not pyvirtualcam.camera.BACKENDS:
                    where = f" at {self.device}" if self.device else ""
                    raise SinkError(f"no virtual camera{where} ({_short(reason)}); fix: {driver_fix()}") from err
                raise SinkError(f"virtual camera: cannot open it ({reason})") from err
            self._camera, self.fmt, self._even = camera, fmt, even
            self.name = f"vcam {camera.device}"
            return
        raise SinkError(f"virtual camera: no pixel format accepted ({'; '.join(tried)})")

    def _send(self, frame_bgr: np.ndarray, original: np.ndarray | None) -> None:
        assert self._camera is not None
        w, h = self._even
        if frame_bgr.shape[:2] != (h, w):
            frame_bgr = frame_bgr[:h, :w]  # odd size: drop the last column/row
        self._camera.send(to_camera_format(np.ascontiguousarray(frame_bgr), self.fmt))

    def _close(self) -> None:
        if self._camera is not None:
            camera, self._camera = self._camera, None
            camera.close()


def vcam_available(backend: str | None = None) -> str | None:
    """None when a virtual camera opens here, else why not (one line).

    ``backend``: a pyvirtualcam backend name (one registered with
    ``pyvirtualcam.register_backend`` included); None tries them all.
    """
    if not pyvirtualcam.camera.BACKENDS:
        return "no virtual camera backend on this system"
    if backend is not None and backend not in pyvirtualcam.camera.BACKENDS:
        return f"virtual camera backend {backend!r} does not exist; available: {', '.join(pyvirtualcam.camera.BACKENDS)}"
    try:
        with pyvirtualcam.Camera(width=64, height=64, fps=30, backend=backend):
            return None
    except Exception as e:  # pyvirtualcam raises RuntimeError/ValueError/OSError by backend
        return str(e).splitlines()[0] if str(e) else type(e).__name__
