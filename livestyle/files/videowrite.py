"""Video files that play everywhere and never replace a good file with a broken one.

``.mp4``/``.m4v``/``.mov``/``.mkv`` are written as H.264 (yuv420p) with PyAV's
FFmpeg and libx264, which its pip wheels bundle (OpenCV's pip wheel has no
H.264 encoder: ``cv2.VideoWriter`` with ``avc1``/``H264`` fails to open). Where
PyAV or its libx264 is missing, or for ``.avi`` (MJPG) and ``.webm`` (VP8),
``cv2.VideoWriter`` writes as before (``.mp4`` then gets MPEG-4 Part 2, with a
one-line note).

Frames go to a hidden temporary file in the target's folder
(``.NAME.xxxx.partial.EXT``); ``commit()`` finishes the container, flushes it to
the disk and renames it to the target, so the target is either the old file
or the complete new one. ``abort()`` (or an exception inside ``with``) removes
the temporary file and leaves the target as it was. A failed write (disk
full, file-size limit, no permission) is a one-line ``WriteError``.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Any

import cv2
import numpy as np

from livestyle.errors import WriteError
from livestyle.files.safepaths import finish_file, make_folder, partial_name, write_error

log = logging.getLogger(__name__)

H264_EXTS = (".mp4", ".m4v", ".mov", ".mkv")
"""Containers written as H.264 when PyAV with libx264 is installed."""
CV_FOURCC = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".mkv": "XVID", ".avi": "MJPG", ".webm": "VP80"}
"""OpenCV's codec per extension: the fallback, and ``.avi``/``.webm`` always."""
VIDEO_EXTS = tuple(CV_FOURCC)


@cache
def h264_unavailable() -> str | None:
    """None when PyAV can encode H.264 (libx264) here, else why not (one line)."""
    try:
        import av
    except ImportError:
        return "PyAV is not installed (pip install av)"
    try:
        av.Codec("libx264", "w")
    except Exception as err:  # av raises UnknownCodecError (a ValueError) for a codec its FFmpeg lacks
        return f"PyAV's FFmpeg has no libx264 encoder ({type(err).__name__})"
    return None


def codec_for(path: str | Path) -> str:
    """What ``VideoFileWriter`` writes for ``path``: ``"h264"`` or an OpenCV fourcc such as ``"mp4v"``."""
    ext = Path(path).suffix.lower()
    if ext in H264_EXTS and h264_unavailable() is None:
        return "h264"
    return CV_FOURCC[ext]


class _AvEncoder:
    """H.264 yuv420p through PyAV; raises ``OSError`` on a failed write (av.error.OSError is one)."""

    def __init__(self, tmp: Path, width: int, height: int, fps: float, preset: str, threads: int) -> None:
        import av

        self._av = av
        mp4 = tmp.suffix.lower() in (".mp4", ".m4v", ".mov")  # faststart: index first, browsers play while loading
        self.container: Any = av.open(str(tmp), "w", options={"movflags": "+faststart"} if mp4 else {})
        try:
            stream: Any = self.container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            # crf 18: visually lossless for this kind of picture; threads 0 = libx264's choice
            stream.options = {"preset": preset, "crf": "18", "threads": str(threads)}
            stream.codec_context.open()  # an encoder that cannot open fails here, not at the first frame
        except BaseException:
            self.container.close()
            raise
        self.stream = stream
        self.n = 0

    def write(self, frame: np.ndarray) -> None:
        vf = self._av.VideoFrame.from_ndarray(frame, format="bgr24")
        vf.pts = self.n
        self.n += 1
        self.container.mux(self.stream.encode(vf))

    def finish(self) -> None:
        try:
            self.container.mux(self.stream.encode(None))  # flush the encoder's delayed frames
        finally:
            self.container.close()  # writes the index; raises OSError if that write fails

    def discard(self) -> None:
        try:
            self.container.close()
        except Exception as err:  # already failing or interrupted: the file is removed anyway
            log.debug("closing a discarded video: %s", err)


class _CvEncoder:
    """``cv2.VideoWriter``, which reports no write errors: ``finish`` checks the file reads back."""

    def __init__(self, tmp: Path, width: int, height: int, fps: float, fourcc: str) -> None:
        self.tmp = tmp
        self.writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter.fourcc(*fourcc), fps, (width, height))
        if not self.writer.isOpened():
            self.writer.release()
            raise OSError(f"OpenCV cannot write {fourcc} video here")
        self.n = 0

    def write(self, frame: np.ndarray) -> None:
        self.writer.write(frame)
        self.n += 1

    def finish(self) -> None:
        self.writer.release()
        cap = cv2.VideoCapture(str(self.tmp))
        try:
            ok = cap.isOpened() and cap.read()[0]
        finally:
            cap.release()
        if not ok:
            raise OSError("the video did not read back (disk full or a file-size limit?)")

    def discard(self) -> None:
        self.writer.release()


class VideoFileWriter:
    """Writes ``(H, W, 3) uint8 BGR`` frames to ``path``, renamed into place only by ``commit()``.

    The size comes from the first frame; later frames of another size are
    resized to it. For H.264 an odd width or height is padded by one
    replicated pixel (yuv420p needs even sizes). ``preset``: libx264's speed
    preset (``"veryfast"`` for live recording, ``"medium"`` offline);
    ``threads``: libx264 threads (0 = its choice). Use as a context manager:
    a clean exit commits, an exception aborts.
    """

    def __init__(self, path: str | Path, fps: float = 30.0, preset: str = "medium", threads: int = 0) -> None:
        self.path = Path(path)
        ext = self.path.suffix.lower()
        if ext not in CV_FOURCC:
            raise WriteError(f"{self.path}: cannot write '{ext or 'no extension'}' video; use one of "
                             f"{', '.join(VIDEO_EXTS)}")
        if self.path.is_dir():
            raise WriteError(f"{self.path}: is a folder; give a video file name, or a folder name without an "
                             "extension for PNGs")
        self.fps = float(fps) if 0 < fps <= 1000 else 30.0
        self.codec = codec_for(self.path)
        self.preset, self.threads = preset, threads
        self.frames = 0
        self.size: tuple[int, int] | None = None
        """``(width, height)`` of the written video, once the first frame came."""
        self.tmp: Path | None = None
        self._enc: _AvEncoder | _CvEncoder | None = None
        self._done = False
        if ext in H264_EXTS and self.codec != "h264":
            log.warning("livestyle: note: %s is written as MPEG-4 Part 2, which browsers and some editors do "
                        "not play: %s", self.path, h264_unavailable())

    def start(self, width: int, height: int) -> None:
        """Create the temporary file and the encoder for ``width x height`` frames now (a folder that
        cannot hold the video fails here, with ``WriteError``), rather than at the first frame."""
        if self._done or self._enc is not None:
            raise WriteError(f"{self.path}: the video was already started")
        self._open(width, height)

    def _open(self, w: int, h: int) -> None:
        if self.codec == "h264" and (w % 2 or h % 2):
            log.warning("livestyle: note: %s: the frames are %dx%d; H.264 needs an even width and height, so the "
                        "video is %dx%d (the edge pixels repeated); write PNGs (an output folder) for the exact size",
                        self.path, w, h, w + w % 2, h + h % 2)
            w, h = w + w % 2, h + h % 2
        make_folder(self.path.parent, for_file=self.path)
        self.tmp = partial_name(self.path)  # kept before the file exists: abort() always finds it
        try:
            # Created here: both encoders hide why a file cannot be (FFmpeg opens it only at the first packet,
            # often at the end: a recording in a read-only folder failed when it was stopped, a render at its end)
            open(self.tmp, "xb").close()
        except OSError as err:
            self.tmp = None  # never created (and a name too long cannot even be removed)
            raise write_error(self.path, err) from None
        try:
            if self.codec == "h264":
                self._enc = _AvEncoder(self.tmp, w, h, self.fps, self.preset, self.threads)
            else:
                self._enc = _CvEncoder(self.tmp, w, h, self.fps, self.codec)
        except OSError as err:
            self.tmp.unlink(missing_ok=True)
            raise write_error(self.path, err) from None
        self.size = (w, h)

    def write(self, frame: np.ndarray) -> None:
        """Append one ``(H, W, 3) uint8 BGR`` frame; ``WriteError`` if it cannot be written."""
        if self._done:
            raise WriteError(f"{self.path}: write after the video was finished")
        if self._enc is None:
            self._open(frame.shape[1], frame.shape[0])
        assert self._enc is not None and self.size is not None
        w, h = self.size
        fh, fw = frame.shape[:2]
        if (fw, fh) != (w, h):
            if fw in (w, w - 1) and fh in (h, h - 1):  # odd size padded to even for yuv420p
                frame = cv2.copyMakeBorder(frame, 0, h - fh, 0, w - fw, cv2.BORDER_REPLICATE)
            else:
                frame = cv2.resize(frame, (w, h), interpolation=cv2.INTER_LINEAR)
        try:
            self._enc.write(np.ascontiguousarray(frame))
        except OSError as err:
            self.abort()
            raise write_error(self.path, err) from None
        self.frames += 1

    def commit(self) -> None:
        """Finish the video and rename it to ``path``; ``WriteError`` (old file kept) if that fails.
        With no frame written nothing is created and an old file stays."""
        if self._done:
            return
        self._done = True
        enc, tmp = self._enc, self.tmp
        self._enc = None
        if enc is None or tmp is None:
            return
        try:
            enc.finish()
        except OSError as err:
            tmp.unlink(missing_ok=True)
            raise write_error(self.path, err) from None
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        finish_file(tmp, self.path)

    def abort(self) -> None:
        """Drop what was written: the temporary file is removed and ``path`` is left as it was."""
        self._done = True
        enc, self._enc = self._enc, None
        if enc is not None:
            enc.discard()
        if self.tmp is not None:
            self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> VideoFileWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()
