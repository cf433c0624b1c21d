"""Reading clips (video file or folder of frames) and writing results (PNG folder or video)."""

from __future__ import annotations

import sys
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np

from livestyle.errors import ImageError, LivestyleError
from livestyle.files.imageio import IMAGE_EXTS, read_image, write_image
from livestyle.files.safepaths import make_folder
from livestyle.files.videowrite import VIDEO_EXTS, VideoFileWriter


def read_clip(path: str | Path, max_frames: int | None = None) -> tuple[list[np.ndarray], list[str], float]:
    """Frames ``(H, W, 3) uint8 BGR``, their names (file stems, or zero-padded indices) and fps."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_EXTS and not p.name.startswith("."))
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
    cap = cv2.VideoCapture(str(path))
    frames = []
    try:
        if not cap.isOpened():
            raise LivestyleError(f"{path}: unreadable video (unknown codec or corrupt file); "
                                 "convert it to MP4/H.264 or extract frames to a folder")
        fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
        while max_frames is None or len(frames) < max_frames:
            ok, f = cap.read()
            if not ok:
                break
            frames.append(f)
    finally:
        cap.release()
    if not frames:
        raise LivestyleError(f"{path}: no frames could be decoded; convert it to MP4/H.264 or a folder of PNGs")
    digits = max(3, len(str(len(frames) - 1)))
    return frames, [f"{i:0{digits}d}" for i in range(len(frames))], float(fps if 0 < fps < 1000 else 30.0)


class ClipWriter:
    """Writes frames to a PNG folder (named like the input) or a video file (by extension), so that
    nothing the user had is lost.

    A video goes to a temporary file renamed over ``path`` only by a ``close()`` after every frame
    (``videowrite.VideoFileWriter``: H.264 for .mp4/.m4v/.mov/.mkv). Each PNG is written atomically.
    ``abort()``, an exception inside ``with``, or a ``close()`` reached while an exception raised
    since the writer was made is propagating (the ``finally`` of an interrupted render) drops the
    unfinished video and leaves an old file at ``path`` untouched. A write that fails is a one-line
    ``WriteError`` naming the path and the cause.
    """

    def __init__(self, path: str | Path, fps: float = 30.0):
        self.path = Path(path)
        self.fps = fps
        self.is_video = self.path.suffix.lower() in VIDEO_EXTS
        self._video: VideoFileWriter | None = None
        self._outer_exc = sys.exc_info()[1]  # an exception already being handled by our caller's caller
        if not self.is_video:
            if self.path.suffix and not self.path.is_dir():
                raise LivestyleError(f"{self.path}: unknown output type {self.path.suffix!r}; give a folder "
                                     f"for PNGs or a video file ({', '.join(VIDEO_EXTS)})")
            make_folder(self.path)
        else:
            self._video = VideoFileWriter(self.path, fps)

    @property
    def codec(self) -> str:
        """``"png"``, ``"h264"`` or the OpenCV fourcc the video is written with."""
        return self._video.codec if self._video is not None else "png"

    def write(self, name: str, frame: np.ndarray) -> None:
        """One ``(H, W, 3) uint8 BGR`` frame: ``PATH/NAME.png``, or the next frame of the video."""
        if self._video is None:
            write_image(self.path / f"{name}.png", frame)
        else:
            self._video.write(frame)

    def close(self) -> None:
        """Finish: rename the complete video into place, unless an exception is on its way up, in
        which case the unfinished video is dropped (see the class docstring)."""
        if self._video is None:
            return
        exc = sys.exc_info()[1]
        if exc is not None and exc is not self._outer_exc:
            self.abort()
        else:
            self._video.commit()

    def abort(self) -> None:
        """Drop the unfinished video; an old file at ``path`` stays as it was (PNGs already written stay)."""
        if self._video is not None:
            self._video.abort()

    def __enter__(self) -> ClipWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
