"""A real camera through OpenCV, chosen by index, device path, or (on Linux) by name.

Requested width/height/fps are asked for with ``CAP_PROP_*``; cameras
answer with what they can do, so the actual values are read back (from the
first frame for the size) and a mismatch becomes a warning, not a crash.
The driver buffer is set to one frame so ``read`` returns a fresh frame
rather than a stale one (OpenCV issue #13145). When several OpenCV backends
are tried, the error names why each one failed.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

import cv2
import numpy as np

from livestyle.capture.base import Source, check_fps, check_size
from livestyle.errors import SourceError

SYSFS_V4L = Path("/sys/class/video4linux")
READ_TIMEOUT_MS = 2000
"""Longest a ``read`` may block where the backend honours CAP_PROP_READ_TIMEOUT_MSEC (V4L2, MSMF)."""


def list_linux_cameras(sysfs: Path = SYSFS_V4L) -> list[tuple[str, str]]:
    """``[(device_path, name), ...]`` of the video nodes that Linux reports, capture nodes first.

    A camera often exposes two nodes (frames and metadata); the one whose
    ``index`` attribute is 0 carries the frames, so it sorts first.
    """
    if not sysfs.is_dir():
        return []
    found = []
    for node in sysfs.iterdir():
        match = node.name.removeprefix("video")
        if not match.isdigit():
            continue
        try:
            name = (node / "name").read_text().strip()
        except OSError:
            continue
        try:
            index = int((node / "index").read_text().strip())
        except (OSError, ValueError):
            index = 0
        found.append((index, int(match), f"/dev/{node.name}", name))
    found.sort()
    return [(dev, name) for _, _, dev, name in found]


def find_camera_by_name(name: str, sysfs: Path = SYSFS_V4L) -> str:
    """Device path (``/dev/videoN``) of the first camera whose name contains ``name`` (case-insensitive).

    Raises ``SourceError`` listing the cameras present when none matches, and
    on systems other than Linux, where OpenCV cannot see camera names.
    """
    if platform.system() != "Linux":
        answering = [str(i) for i in range(10) if _index_answers(i)]
        found = ", ".join(answering) if answering else "none"
        raise SourceError(
            f"camera names can only be looked up on Linux; use an index instead (--source 0); cameras answering at indices 0..9: {found}"
        )
    cameras = list_linux_cameras(sysfs)
    for dev, cam_name in cameras:
        if name.lower() in cam_name.lower():
            return dev
    listing = ", ".join(f"{dev} '{n}'" for dev, n in cameras) or "none (is a camera plugged in?)"
    raise SourceError(f"no camera named '{name}'; cameras found: {listing}")


def _index_answers(index: int) -> bool:
    cap = cv2.VideoCapture(index)
    try:
        return bool(cap.isOpened())
    finally:
        cap.release()


def _backends() -> list[tuple[str, int]]:
    """OpenCV capture backends to try, best first, for this OS."""
    system = platform.system()
    if system == "Linux":
        preferred = [("V4L2", cv2.CAP_V4L2)]
    elif system == "Windows":
        preferred = [("DSHOW", cv2.CAP_DSHOW), ("MSMF", cv2.CAP_MSMF)]
    elif system == "Darwin":
        preferred = [("AVFOUNDATION", cv2.CAP_AVFOUNDATION)]
    else:
        preferred = []
    return [*preferred, ("ANY", cv2.CAP_ANY)]


class WebcamSource(Source):
    """A camera: ``device`` is an index (``0`` or ``"0"``), a path (``"/dev/video0"``) or a name.

    ``"name:Some Camera"``, or any ``device`` that is neither a number nor a
    path, is looked up by name
    (Linux: ``/sys/class/video4linux/*/name``, case-insensitive substring).
    ``width``/``height``/``fps`` are requests; the camera decides.
    """

    live = True

    def __init__(
        self,
        device: int | str,
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
    ) -> None:
        super().__init__()
        self.device = device
        self.name = f"camera {device}"
        self._req = (width, height, check_fps(self.name, fps) if fps else None)
        self._size = (width or 0, height or 0)
        self._fps = fps or 0.0
        self._cap: cv2.VideoCapture | None = None
        self.backend: str | None = None
        """Name of the OpenCV backend that opened the camera (after ``open``)."""

    def _target(self) -> int | str:
        """What to hand to ``cv2.VideoCapture``: an int index or a device path."""
        dev = self.device
        if isinstance(dev, int):
            return dev
        if dev.startswith("name:"):
            return find_camera_by_name(dev.removeprefix("name:").strip())
        if dev.isdigit():
            return int(dev)
        if dev.startswith("/dev/") or Path(dev).exists():
            if platform.system() == "Linux" and not Path(dev).exists():
                listing = ", ".join(f"{d} '{n}'" for d, n in list_linux_cameras()) or "none"
                raise SourceError(f"{dev}: no such camera device; cameras found: {listing}")
            if platform.system() == "Linux" and not os.access(dev, os.R_OK | os.W_OK):
                raise SourceError(f"{dev}: permission denied; add yourself to the 'video' group (sudo usermod -aG video $USER) and log in again")
            return dev
        return find_camera_by_name(dev)

    def _open(self) -> None:
        target = self._target()
        reasons = []
        for api_name, api in _backends():
            try:
                cap, frame = self._try_backend(target, api)
            except (cv2.error, SourceError) as err:
                reasons.append(f"{api_name}: {str(err).strip().splitlines()[-1]}")
                continue
            self.backend = api_name
            self._cap = cap
            self._finish_open(cap, frame)
            return
        hint = "is another program using it?"
        if platform.system() == "Linux":
            listing = ", ".join(f"{d} '{n}'" for d, n in list_linux_cameras()) or "none"
            hint += f" cameras found: {listing}"
        raise SourceError(f"camera {target}: could not open it ({'; '.join(reasons)}); {hint}")

    def _try_backend(self, target: int | str, api: int) -> tuple[cv2.VideoCapture, np.ndarray]:
        cap = cv2.VideoCapture(target, api)
        if not cap.isOpened():
            cap.release()
            raise SourceError("not opened")
        width, height, fps = self._req
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        cap.set(cv2.CAP_PROP_READ_TIMEOUT_MSEC, READ_TIMEOUT_MS)
        if width and height and width * height > 640 * 480:
            # Uncompressed YUYV over USB 2 cannot carry 720p at 30 fps; MJPG can.
            cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*"MJPG"))
        if width:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        if height:
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        if fps:
            cap.set(cv2.CAP_PROP_FPS, fps)
        ok, frame = cap.read()
        if not ok or frame is None:
            cap.release()
            raise SourceError(f"opened but delivered no frame within {READ_TIMEOUT_MS} ms")
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        return cap, frame

    def _finish_open(self, cap: cv2.VideoCapture, frame: np.ndarray) -> None:
        """Read back what the camera actually gives and warn about mismatches."""
        req_w, req_h, req_fps = self._req
        self._size = (frame.shape[1], frame.shape[0])
        if (req_w and req_w != self._size[0]) or (req_h and req_h != self._size[1]):
            self.warn(f"{self.name}: asked for {req_w or '?'}x{req_h or '?'}, the camera gives {self._size[0]}x{self._size[1]}")
        try:
            check_size(self.name, *self._size)
        except SourceError:
            self._close()
            raise
        got_fps = cap.get(cv2.CAP_PROP_FPS)
        self._fps = float(got_fps) if 0.0 < got_fps <= 240.0 else float(req_fps or 30.0)
        if req_fps and abs(self._fps - req_fps) > 1.0:
            self.warn(f"{self.name}: asked for {req_fps:g} fps, the camera gives {self._fps:g} fps")

    def _read(self) -> np.ndarray | None:
        if self._cap is None:
            return None
        ok, frame = self._cap.read()
        if not ok or frame is None:
            return None
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        return frame

    def _close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
