"""Sources that replay recorded material: a video file or a folder of images, looped.

Both pace themselves at their frame rate (the file's own, or the one given
for a folder) so a live pipeline sees them as it would a camera; pass
``paced=False`` to read as fast as possible (offline rendering) and
``loop=False`` to stop after the last frame (``finished`` turns True and
``read`` returns ``None``).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from livestyle.capture.base import Pacer, Source, check_fps, check_size
from livestyle.errors import ImageError, SourceError, undecodable_video
from livestyle.files.imageio import IMAGE_EXTS, list_images, read_image

VIDEO_EXTS = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".gif")

DEFAULT_FPS = 30.0


def target_size(w0: int, h0: int, width: int | None, height: int | None) -> tuple[int, int]:
    """Output size for a ``w0 x h0`` input: both given = exact; one given = keep aspect ratio."""
    if width and height:
        return int(width), int(height)
    if width:
        return int(width), max(1, round(h0 * width / w0))
    if height:
        return max(1, round(w0 * height / h0)), int(height)
    return w0, h0


def fit(img: np.ndarray, width: int, height: int) -> np.ndarray:
    """``(H, W, 3) uint8 BGR`` at ``width x height``: resized (area filter when shrinking) when it has that shape
    (within 2%), else resized to fit inside with black bars, never stretched (a phone's vertical video in a
    640x360 output)."""
    h, w = img.shape[:2]
    if (w, h) == (width, height):
        return img
    if not letterboxed(w, h, width, height):
        return _resize(img, width, height)
    scale = min(width / w, height / h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    out = np.zeros((height, width, 3), np.uint8)
    y, x = (height - nh) // 2, (width - nw) // 2
    out[y:y + nh, x:x + nw] = _resize(img, nw, nh)
    return out


def letterboxed(w: int, h: int, width: int, height: int) -> bool:
    """Whether ``fit`` puts a ``w x h`` image into ``width x height`` with bars (their shapes differ by over 2%)."""
    return abs(w / h - width / height) > 0.02 * width / height


def _resize(img: np.ndarray, width: int, height: int) -> np.ndarray:
    shrink = width * height < img.shape[0] * img.shape[1]
    return cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def bars_note(name: str, w: int, h: int, width: int, height: int) -> str | None:
    """The warning for a ``w x h`` source played at ``width x height`` with bars, or None when it has the shape."""
    if not letterboxed(w, h, width, height):
        return None
    return f"{name}: {w}x{h} is not the shape of {width}x{height}; shown whole, with black bars"


class VideoFileSource(Source):
    """Frames of a video file, looped, paced at the file's own frame rate.

    ``width``/``height`` resize every frame (one of them alone keeps the
    aspect ratio). ``fps`` overrides a missing or wrong rate in the file.
    """

    live = False

    def __init__(
        self,
        path: str | Path,
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
        *,
        loop: bool = True,
        paced: bool = True,
    ) -> None:
        super().__init__()
        self.path = Path(path)
        self.name = str(self.path)
        self.loop = loop
        self.paced = paced
        self._req_size = (width, height)
        self._req_fps = fps
        self._size = (width or 0, height or 0)
        self._fps = fps or DEFAULT_FPS
        self._cap: cv2.VideoCapture | None = None
        self._pending: np.ndarray | None = None  # the probe frame read by open(), delivered first
        self._pacer = Pacer(self._fps)
        self._finished = False

    @property
    def finished(self) -> bool:
        return self._finished

    def _open_capture(self) -> tuple[cv2.VideoCapture, np.ndarray]:
        cap = cv2.VideoCapture(str(self.path))
        ok, first = cap.read() if cap.isOpened() else (False, None)
        if not ok or first is None or first.ndim != 3 or first.shape[2] != 3:
            cap.release()
            raise SourceError(undecodable_video(self.path))
        return cap, first

    def _open(self) -> None:
        if not self.path.is_file():
            raise SourceError(f"{self.path}: no such video file")
        cap, first = self._open_capture()
        file_fps = cap.get(cv2.CAP_PROP_FPS)
        if self._req_fps:
            self._fps = check_fps(self.name, self._req_fps)
        elif 0.0 < file_fps <= 240.0:
            self._fps = float(file_fps)
        else:
            self._fps = DEFAULT_FPS
            self.warn(f"{self.path}: the file states no usable frame rate ({file_fps}); playing at {DEFAULT_FPS:g} fps")
        self._size = target_size(first.shape[1], first.shape[0], *self._req_size)
        check_size(self.name, *self._size)
        if note := bars_note(self.name, first.shape[1], first.shape[0], *self._size):
            self.warn(note)
        self._cap = cap
        self._pending = first
        self._pacer = Pacer(self._fps)
        self._finished = False

    def _read(self) -> np.ndarray | None:
        if self._finished or self._cap is None:  # None: the file went away at the loop (the capture thread reopens)
            return None
        if self.paced:
            self._pacer.wait()
        frame, self._pending = self._pending, None
        if frame is None:
            ok, frame = self._cap.read()
            if not ok:
                if not self.loop:
                    self._finished = True
                    return None
                self._cap.release()
                self._cap = None
                try:
                    self._cap, frame = self._open_capture()
                except SourceError:
                    return None  # the file went away: the capture thread reconnects
        return fit(frame, *self._size)

    def _close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class FolderSource(Source):
    """Images of a folder in natural name order, looped, paced at ``fps``.

    Every image is resized to the first image's size (or to ``width x
    height`` when given). An unreadable file is skipped with a warning.
    """

    live = False

    def __init__(
        self,
        path: str | Path,
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
        *,
        loop: bool = True,
        paced: bool = True,
    ) -> None:
        super().__init__()
        self.path = Path(path)
        self.name = str(self.path)
        self.loop = loop
        self.paced = paced
        self._req_size = (width, height)
        self._size = (width or 0, height or 0)
        self._fps = check_fps(self.name, fps or DEFAULT_FPS)
        self._files: list[Path] = []
        self._bad: set[Path] = set()
        self._pos = 0
        self._pacer = Pacer(self._fps)
        self._finished = False

    @property
    def finished(self) -> bool:
        return self._finished

    @property
    def files(self) -> list[Path]:
        """The image files played, in order (known after ``open``)."""
        return list(self._files)

    def _open(self) -> None:
        if not self.path.is_dir():
            raise SourceError(f"{self.path}: no such folder")
        self._files = list_images(self.path)
        if not self._files:
            raise SourceError(f"{self.path}: no images in this folder (looked for {', '.join(IMAGE_EXTS)})")
        try:
            first = read_image(self._files[0])
        except ImageError as err:
            raise SourceError(str(err)) from err
        self._size = target_size(first.shape[1], first.shape[0], *self._req_size)
        check_size(self.name, *self._size)
        if note := bars_note(self.name, first.shape[1], first.shape[0], *self._size):
            self.warn(note)
        self._pos = 0
        self._bad = set()
        self._pacer = Pacer(self._fps)
        self._finished = False

    def _read(self) -> np.ndarray | None:
        if self._finished:
            return None
        if self.paced:
            self._pacer.wait()
        for _ in range(len(self._files)):
            if self._pos >= len(self._files):
                if not self.loop:
                    self._finished = True
                    return None
                self._pos = 0
            path = self._files[self._pos]
            self._pos += 1
            try:
                return fit(read_image(path), *self._size)
            except ImageError as err:
                if path not in self._bad:
                    self._bad.add(path)
                    self.warn(f"{err}; skipping it")
        return None

    def _close(self) -> None:
        self._files = []
