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
full, file-size limit, no permission) is a one-line ``WriteError``. Recordings
(``keep_partial``) are written fragmented instead and keep what plays when they
fail (``files.recovery``).
"""

from __future__ import annotations

import logging
import os
from fractions import Fraction
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn

import cv2
import numpy as np

from livestyle.errors import WriteError
from livestyle.files.recovery import RECORDING, clock, is_complete, keep, lock
from livestyle.files.safepaths import finish_file, make_folder, partial_name, write_error

log = logging.getLogger(__name__)

H264_EXTS = (".mp4", ".m4v", ".mov", ".mkv")
"""Containers written as H.264 when PyAV with libx264 is installed."""
CV_FOURCC = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".mkv": "XVID", ".avi": "MJPG", ".webm": "VP80"}
"""OpenCV's codec per extension: the fallback, and ``.avi``/``.webm`` always."""
VIDEO_EXTS = tuple(CV_FOURCC)
FRAGMENTED = {"movflags": "frag_keyframe+empty_moov+default_base_moof", "frag_duration": "1000000",
              "flush_packets": "1"}
"""MP4/MOV muxer options for a file that plays when cut off: a header with no samples, then one
self-contained fragment per second (or keyframe), each handed to the OS at once (not kept in FFmpeg's
32 KB write buffer); at most the last second is lost."""


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

    def __init__(self, tmp: Path, width: int, height: int, fps: float, preset: str, threads: int,
                 fragmented: bool = False) -> None:
        import av

        self._av = av
        mp4 = tmp.suffix.lower() in (".mp4", ".m4v", ".mov")  # faststart: index first, browsers play while loading
        self.fragmented = fragmented and mp4
        options = FRAGMENTED if self.fragmented else {"movflags": "+faststart"} if mp4 else {}
        if fragmented and not mp4:  # a Matroska recording: each cluster to the OS when complete
            options = {"flush_packets": "1"}
        self.container: Any = av.open(str(tmp), "w", options=options)
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


def remux(src: Path, dst: Path, packets: int) -> None:
    """Copy the fragmented video ``src`` into a plain MP4/MOV ``dst`` (one index, at the front: the
    space for it is reserved from the packet count, so the file is written once, not shifted after);
    no re-encoding. Raises ``OSError`` (disk full...) or PyAV's errors."""
    import av

    # moov: at most ~44 bytes per sample (stts, ctts, stsz, stss, stsc, stco entries) plus the headers
    with av.open(str(src)) as inp, av.open(str(dst), "w", options={"moov_size": str(48 * packets + 8192)}) as out:
        vin = inp.streams.video[0]
        vout = out.add_stream_from_template(vin)
        for packet in inp.demux(vin):
            if packet.dts is None:  # the demuxer's end-of-stream packet
                continue
            packet.stream = vout
            out.mux(packet)


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

    ``keep_partial`` (recordings): the temporary file is ``.NAME.xxxx.recording.EXT``, written as
    fragmented MP4/MOV (Matroska for ``.mkv``) so that it plays when cut off; ``commit`` rewrites it as
    a plain MP4/MOV. A write or commit that fails keeps what was recorded as ``NAME.partial.EXT``
    (``recovery.keep``; ``kept`` says where and how long) instead of removing it.
    """

    def __init__(self, path: str | Path, fps: float = 30.0, preset: str = "medium", threads: int = 0,
                 keep_partial: bool = False) -> None:
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
        self.keep_partial = keep_partial
        self.kept: tuple[Path, float] | None = None
        """Where a failed recording's frames were kept and how many seconds they play."""
        self._lock_fd = -1
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
        # named before it exists: abort() always finds it
        self.tmp = partial_name(self.path, f"{RECORDING}{self.path.suffix}" if self.keep_partial else None)
        try:
            # Created here: both encoders hide why a file cannot be (FFmpeg opens it only at the first packet,
            # often at the end: a recording in a read-only folder failed when it was stopped, a render at its end)
            fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except OSError as err:
            self.tmp = None  # never created (and a name too long cannot even be removed)
            raise write_error(self.path, err) from None
        if self.keep_partial and lock(fd):  # held while recording: recovery.adopt_orphans leaves it alone
            self._lock_fd = fd
        else:
            os.close(fd)
        try:
            if self.codec == "h264":
                self._enc = _AvEncoder(self.tmp, w, h, self.fps, self.preset, self.threads, self.keep_partial)
            else:
                self._enc = _CvEncoder(self.tmp, w, h, self.fps, self.codec)
        except OSError as err:
            self._unlock()
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
            self._fail(err)
        self.frames += 1

    def commit(self) -> None:
        """Finish the video and rename it to ``path``; ``WriteError`` (old file kept) if that fails.
        With no frame written nothing is created and an old file stays."""
        if self._done:
            return
        self._done = True
        enc, tmp = self._enc, self.tmp
        if enc is None or tmp is None:
            return
        try:
            enc.finish()
            if isinstance(enc, _AvEncoder) and enc.fragmented and not is_complete(tmp):
                raise OSError(0, "its end could not be written; is the disk full?")
        except OSError as err:
            self._fail(err)
        except BaseException:
            self.abort()
            raise
        self._enc = None
        if isinstance(enc, _AvEncoder) and enc.fragmented:
            tmp = self._plain(tmp, enc.n)
        self._unlock()
        finish_file(tmp, self.path)

    def _plain(self, tmp: Path, packets: int) -> Path:
        """The finished fragmented recording ``tmp`` rewritten as a plain MP4/MOV (what editors expect);
        where that fails (no room for a second copy) ``tmp`` itself, complete and playable, with a note."""
        plain = partial_name(self.path)
        try:
            remux(tmp, plain, packets)
        except BaseException as err:  # OSError for a full disk, PyAV's errors otherwise: tmp is complete anyway
            plain.unlink(missing_ok=True)
            if not isinstance(err, Exception):  # Ctrl-C while rewriting: the complete take goes to its name
                self._unlock()
                finish_file(tmp, self.path)
                raise
            log.warning("livestyle: note: %s is kept as a fragmented %s (it could not be rewritten as a plain one: "
                        "%s); players open it, an editor that does not can convert it", self.path,
                        self.path.suffix[1:].upper(), getattr(err, "strerror", None) or err)
            return tmp
        tmp.unlink(missing_ok=True)
        return plain

    def _fail(self, err: OSError) -> NoReturn:
        """A write or the finish failed: drop the file, or with ``keep_partial`` keep what plays."""
        if not self.keep_partial or self.tmp is None:
            self.abort()
            raise write_error(self.path, err) from None
        self._done = True
        enc, self._enc = self._enc, None
        if enc is not None:
            enc.discard()
        self._unlock()
        self.kept = keep(self.tmp, self.path)
        error = write_error(self.path, err)
        if self.kept is not None:
            raise WriteError(f"{error}; kept the first {clock(self.kept[1])} as {self.kept[0]}") from None
        raise error from None

    def _unlock(self) -> None:
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    def abort(self) -> None:
        """Drop what was written: the temporary file is removed and ``path`` is left as it was."""
        self._done = True
        enc, self._enc = self._enc, None
        if enc is not None:
            enc.discard()
        self._unlock()
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
