"""Recording the output to a video file with ``cv2.VideoWriter``.

The video is written under a hidden temporary name next to the target
(``.NAME.partial.EXT``) and renamed to ``NAME.EXT`` on close, so a crash
never leaves a truncated file under the name the user asked for. The codec
follows the extension: .mp4/.mov mp4v, .avi MJPG, .mkv XVID.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import cv2
import numpy as np

from ..errors import SinkError
from .base import Sink

log = logging.getLogger(__name__)

FOURCC_BY_EXT = {".mp4": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "XVID"}


def fourcc_for(path: str | Path) -> str:
    """The four-character codec for ``path``'s extension; ``SinkError`` for an unknown one."""
    ext = Path(path).suffix.lower()
    if ext not in FOURCC_BY_EXT:
        raise SinkError(f"{path}: cannot record to '{ext or 'no extension'}'; use one of {', '.join(FOURCC_BY_EXT)}")
    return FOURCC_BY_EXT[ext]


class RecordSink(Sink):
    """Writes every frame sent to ``path`` (a video file, codec from the extension)."""

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)
        self.fourcc = fourcc_for(self.path)
        self.name = f"record {self.path}"
        self._writer: cv2.VideoWriter | None = None

    @property
    def partial_path(self) -> Path:
        """Where frames go until ``close`` renames the file to ``path``."""
        return self.path.with_name(f".{self.path.stem}.partial{self.path.suffix}")

    def _open(self, width: int, height: int, fps: float) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise SinkError(f"{self.path}: cannot create its folder ({err.strerror})") from err
        writer = cv2.VideoWriter(str(self.partial_path), cv2.VideoWriter.fourcc(*self.fourcc), fps, (width, height))
        if not writer.isOpened():
            writer.release()
            self.partial_path.unlink(missing_ok=True)
            raise SinkError(f"{self.path}: OpenCV cannot write {self.fourcc} video here; check the folder is writable or record to .avi")
        self._writer = writer

    def _send(self, frame_bgr: np.ndarray, original: np.ndarray | None) -> None:
        assert self._writer is not None
        self._writer.write(np.ascontiguousarray(frame_bgr))

    def _close(self) -> None:
        if self._writer is None:
            return
        writer, self._writer = self._writer, None
        writer.release()  # flushes and writes the container index
        if self.frames == 0:
            self.partial_path.unlink(missing_ok=True)  # nothing recorded: leave no empty file
            return
        try:
            os.replace(self.partial_path, self.path)
        except OSError as err:
            log.error("%s: could not rename %s into place: %s", self.name, self.partial_path, err)
            raise SinkError(f"{self.path}: recording kept as {self.partial_path} (rename failed: {err.strerror})") from err
