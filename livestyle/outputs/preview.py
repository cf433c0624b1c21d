"""An OpenCV preview window, optionally mirrored and side by side with the camera frame.

Mirroring happens here only: people expect to see themselves as in a
mirror, but the virtual camera must send the true image (text would read
backwards to the others in the call). All OpenCV GUI calls happen in the
thread that calls ``send`` (the sender thread): ``open`` only checks that a
display exists, the window is created on the first frame.
"""

from __future__ import annotations

import os
import platform

import cv2
import numpy as np

from livestyle.errors import SinkError
from livestyle.outputs.base import Sink

ESC = 27


def has_display() -> bool:
    """Whether a GUI window can be shown (on Linux: DISPLAY or WAYLAND_DISPLAY is set)."""
    if platform.system() != "Linux":
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def compose_preview(frame_bgr: np.ndarray, original: np.ndarray | None, mirror: bool,
                    side_by_side: bool) -> np.ndarray:
    """The image to show, ``(H, W or 2W, 3) uint8 BGR``: [camera | stylized] when side by side."""
    image = frame_bgr
    if side_by_side and original is not None:
        if original.shape != frame_bgr.shape:
            original = cv2.resize(original, (frame_bgr.shape[1], frame_bgr.shape[0]))
        image = np.hstack([original, frame_bgr])
        if mirror:  # mirror each half in place so the camera stays on the left
            w = frame_bgr.shape[1]
            image = np.hstack([image[:, :w][:, ::-1], image[:, w:][:, ::-1]])
        return np.ascontiguousarray(image)
    return np.ascontiguousarray(image[:, ::-1]) if mirror else image


class PreviewSink(Sink):
    """Shows frames in a window (``cv2.imshow`` + ``cv2.waitKey(1)``).

    Closing the window or pressing Esc/q sets ``quit_requested`` and turns the
    sink off; the UI decides whether that ends the session.
    """

    def __init__(self, mirror: bool = False, side_by_side: bool = False, title: str = "livestyle") -> None:
        super().__init__()
        self.name = "preview"
        self.mirror = mirror
        self.side_by_side = side_by_side
        self.title = title
        self.quit_requested = False
        self._window = False

    def _open(self, width: int, height: int, fps: float) -> None:
        if not has_display():
            raise SinkError("preview: no display here (DISPLAY is not set); use --output vcam or record:out.mp4 instead")
        if not hasattr(cv2, "imshow"):
            raise SinkError("preview: this OpenCV build has no GUI (opencv-python-headless?); install opencv-contrib-python")
        self.quit_requested = False

    def _send(self, frame_bgr: np.ndarray, original: np.ndarray | None) -> None:
        image = compose_preview(frame_bgr, original, self.mirror, self.side_by_side)
        try:
            if not self._window:
                cv2.namedWindow(self.title, cv2.WINDOW_NORMAL)
                cv2.resizeWindow(self.title, image.shape[1], image.shape[0])
                self._window = True
            cv2.imshow(self.title, image)
            key = cv2.waitKey(1) & 0xFF
            visible = cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE)
        except cv2.error as err:
            raise SinkError(f"preview: cannot show a window ({str(err).strip().splitlines()[-1]})") from err
        if key in (ESC, ord("q")) or visible < 1:
            self.quit_requested = True
            self._close()
            self._state = "off"

    def _close(self) -> None:
        if self._window:
            self._window = False
            try:
                cv2.destroyWindow(self.title)
                cv2.waitKey(1)
            except cv2.error:
                pass  # the user closed it already
