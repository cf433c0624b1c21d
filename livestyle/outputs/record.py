"""Recording the output to a video file (``videowrite.VideoFileWriter``).

``.mp4``/``.mov``/``.mkv`` are H.264 (PyAV's libx264, ``veryfast``, one
encoder thread so the network keeps the other cores: ~3 ms per 640x360 frame),
``.avi`` MJPG; without PyAV's libx264, ``.mp4`` falls back to OpenCV's MPEG-4
Part 2 with a note. The video is written under a hidden temporary name next to
the target (``.NAME.xxxx.recording.mp4``) and renamed to it on close, so a crash or
a full disk never leaves a truncated file under the name the user asked for, nor
touches an older file of that name. That temporary file is fragmented MP4 (one
fragment a second; Matroska for ``.mkv``), which plays when cut off, and is
rewritten as a plain MP4 on close. A recording that cannot be finished keeps what
was recorded as ``NAME.partial.mp4`` (``files.recovery``) and raises ``SinkError``
saying so: the sender marks the sink errored, the session reports it, ``live``
exits non-zero. One that a killed process left is kept the same way when the
next recording starts in its folder.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from livestyle.errors import SinkError, WriteError
from livestyle.files.recovery import adopt_orphans, clock
from livestyle.files.videowrite import VideoFileWriter, codec_for
from livestyle.outputs.base import Sink

log = logging.getLogger(__name__)

RECORD_EXTS = (".mp4", ".mov", ".mkv", ".avi")


def fourcc_for(path: str | Path) -> str:
    """The codec ``path``'s extension records with (``"h264"``, ``"mp4v"``, ``"MJPG"``); ``SinkError``
    for an extension that cannot be recorded."""
    ext = Path(path).suffix.lower()
    if ext not in RECORD_EXTS:
        raise SinkError(f"{path}: cannot record to '{ext or 'no extension'}'; use one of {', '.join(RECORD_EXTS)}")
    return codec_for(path)


class RecordSink(Sink):
    """Writes every frame sent to ``path`` (a video file, codec from the extension)."""

    close_anywhere = True  # stopping a long take rewrites it (seconds): off the sender's thread

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)
        self.fourcc = fourcc_for(self.path)
        self.name = f"record {self.path}"
        self._video: VideoFileWriter | None = None
        self._tmp: Path | None = None

    @property
    def partial_path(self) -> Path | None:
        """Where frames go until ``close`` renames the file to ``path`` (None before ``open``)."""
        return self._tmp

    def _open(self, width: int, height: int, fps: float) -> None:
        if self.path.parent.is_dir():
            for kept, seconds in adopt_orphans(self.path.parent):
                log.warning("livestyle: note: a recording that was cut off earlier (livestyle was killed or the "
                            "power went) is kept as %s (%s)", kept, clock(seconds))
        try:
            video = VideoFileWriter(self.path, fps, preset="veryfast", threads=1, keep_partial=True)
            video.start(width, height)
        except WriteError as err:
            raise SinkError(f"cannot record: {err}") from None
        self._video, self._tmp = video, video.tmp

    def _send(self, frame_bgr: np.ndarray, original: np.ndarray | None) -> None:
        video = self._video
        assert video is not None
        try:
            video.write(frame_bgr)
        except WriteError as err:  # what was recorded is kept beside path (the error says where); path is intact
            self._video = None
            raise SinkError(f"recording stopped{_saved(video)}: {err}") from None

    def _close(self) -> None:
        video, self._video = self._video, None
        if video is None:
            return
        if self.frames == 0:
            video.abort()  # nothing recorded: leave no empty file
            return
        try:
            video.commit()
        except WriteError as err:
            raise SinkError(f"recording could not be finished{_saved(video)}: {err}") from None


def _saved(video: VideoFileWriter) -> str:
    return "" if video.kept is not None else ", nothing saved"
