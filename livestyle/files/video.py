"""Reading clips (video file or folder of frames) and writing results (PNG folder or video)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np

from livestyle.errors import ImageError, LivestyleError, WriteError, undecodable_video
from livestyle.files.imageio import IMAGE_EXTS, list_images, read_image
from livestyle.files.safepaths import make_folder, partial_name, write_error
from livestyle.files.videowrite import VIDEO_EXTS, VideoFileWriter


def read_clip(path: str | Path, max_frames: int | None = None) -> tuple[list[np.ndarray], list[str], float]:
    """Frames ``(H, W, 3) uint8 BGR``, their names (file stems, or zero-padded indices) and fps."""
    path = Path(path)
    if path.is_dir():
        files = list_images(path)
        if not files:
            raise LivestyleError(f"{path}: no images in this folder; give a folder of PNG/JPG frames or a video file")
        files = files[:max_frames] if max_frames else files
        frames: list[np.ndarray] = [read_image(p) for p in files]
        shape = frames[0].shape
        for p, f in zip(files, frames, strict=True):
            if f.shape != shape:
                raise ImageError(f"{p}: size {f.shape[1]}x{f.shape[0]} differs from the first frame "
                                 f"({shape[1]}x{shape[0]}); all frames must have one size")
        return frames, [p.stem for p in files], 30.0
    if not path.is_file():
        raise LivestyleError(f"{path}: no such video file or folder")
    return _read_video(path, max_frames)


def _read_video(path: Path, max_frames: int | None) -> tuple[list[np.ndarray], list[str], float]:
    cap = cv2.VideoCapture(str(path))
    frames: list[np.ndarray] = []
    try:
        if not cap.isOpened():
            raise LivestyleError(_unreadable(path))
        fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
        while max_frames is None or len(frames) < max_frames:
            ok, f = cap.read()
            if not ok:
                break
            frames.append(f)
    finally:
        cap.release()
    if not frames:
        raise LivestyleError(_unreadable(path))
    digits = max(3, len(str(len(frames) - 1)))
    return frames, [f"{i:0{digits}d}" for i in range(len(frames))], float(fps if 0 < fps < 1000 else 30.0)


def _unreadable(path: Path) -> str:
    """What to say of a file OpenCV read nothing from: a video that cannot be decoded (as ``live`` says it), or a
    file that is neither a video nor an image."""
    from livestyle.capture.files import VIDEO_EXTS as READ_EXTS  # what live plays

    ext = path.suffix.lower()
    if ext in READ_EXTS or ext in IMAGE_EXTS:
        return undecodable_video(path)
    return (f"{path}: not a video or an image ('{ext or 'no extension'}'); give a video file "
            f"({', '.join(READ_EXTS)}), an image or a folder of frames")


class ClipWriter:
    """Writes frames to a PNG folder (named like the input) or a video file (by extension), so that
    nothing the user had is lost.

    A video goes to a temporary file renamed over ``path`` only by a ``close()`` after every frame
    (``videowrite.VideoFileWriter``: H.264 for .mp4/.m4v/.mov/.mkv). PNGs go to a hidden folder beside
    ``path`` (``.NAME.xxxx.partial``) that ``close()`` renames to ``path`` or, when ``path`` is a folder
    already, whose frames it moves into it: a render that stops half way never leaves a mix of new
    frames and an older render's. ``abort()``, an exception inside ``with``, or a ``close()`` reached
    while an exception raised since the writer was made is propagating (the ``finally`` of an
    interrupted render) drops the unfinished video or frames and leaves what was at ``path`` untouched.
    A write that fails is a one-line ``WriteError`` naming the path and the cause.
    """

    def __init__(self, path: str | Path, fps: float = 30.0):
        self.path = Path(path)
        self.fps = fps
        self.is_video = self.path.suffix.lower() in VIDEO_EXTS
        self._video: VideoFileWriter | None = None
        self._final = self.path  # PNGs: the output folder, resolved
        self._stage: Path | None = None  # PNGs: the hidden folder they are written to until close()
        self._outer_exc = sys.exc_info()[1]  # an exception already being handled by our caller's caller
        if not self.is_video:
            if self.path.suffix and not self.path.is_dir():
                raise LivestyleError(f"{self.path}: unknown output type {self.path.suffix!r}; give a folder "
                                     f"for PNGs or a video file ({', '.join(VIDEO_EXTS)})")
            self._open_stage()
        else:
            self._video = VideoFileWriter(self.path, fps)

    def _open_stage(self) -> None:
        final = self.path.resolve()  # "." or "out/..": a real name to put the hidden folder beside
        make_folder(final.parent, for_file=self.path)
        if final.exists() and not final.is_dir():
            raise WriteError(f"{self.path}: is a file, not a folder for PNGs; give a folder name or a video file "
                             f"name ({', '.join(VIDEO_EXTS)}); nothing there was changed")
        stage = partial_name(final, ".partial")
        try:
            stage.mkdir()
        except OSError as err:
            raise write_error(self.path, err) from None
        self._final, self._stage = final, stage

    @property
    def codec(self) -> str:
        """``"png"``, ``"h264"`` or the OpenCV fourcc the video is written with."""
        return self._video.codec if self._video is not None else "png"

    def write(self, name: str, frame: np.ndarray) -> None:
        """One ``(H, W, 3) uint8 BGR`` frame: ``PATH/NAME.png``, or the next frame of the video."""
        if self._video is not None:
            self._video.write(frame)
            return
        assert self._stage is not None, "write() after close()"
        ok, buf = cv2.imencode(".png", frame)
        if not ok:
            raise ImageError(f"{self.path / f'{name}.png'}: cannot encode the frame as PNG")
        try:
            with open(self._stage / f"{name}.png", "wb") as f:
                f.write(buf.tobytes())
                f.flush()
                os.fsync(f.fileno())
        except OSError as err:  # named by where the frame was going, not the hidden folder
            raise write_error(self.path / f"{name}.png", err) from None

    def close(self) -> None:
        """Finish: rename the complete video into place, unless an exception is on its way up, in
        which case the unfinished video is dropped (see the class docstring)."""
        exc = sys.exc_info()[1]
        if exc is not None and exc is not self._outer_exc:
            self.abort()
        elif self._video is not None:
            self._video.commit()
        elif self._stage is not None:
            self._commit_frames()

    def _commit_frames(self) -> None:
        """The staged PNGs into place: the whole folder renamed to ``path`` when there is none, else each
        frame moved into the existing folder (files of it that this render did not write stay)."""
        stage, final = self._stage, self._final
        assert stage is not None
        try:
            if not final.exists():
                os.replace(stage, final)
            else:
                for f in sorted(stage.iterdir()):
                    os.replace(f, final / f.name)
                stage.rmdir()
        except OSError as err:
            self.abort()
            raise write_error(self.path, err) from None
        except BaseException:
            self.abort()
            raise
        self._stage = None

    def abort(self) -> None:
        """Drop the unfinished video or frames; what was at ``path`` before stays as it was."""
        if self._video is not None:
            self._video.abort()
        if self._stage is not None:
            shutil.rmtree(self._stage, ignore_errors=True)
            self._stage = None

    def __enter__(self) -> ClipWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
