"""Reading clips (video file or folder of frames) and writing results (PNG folder or video)."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from .errors import ImageError, LivestyleError
from .imageio import IMAGE_EXTS, read_image, write_image

VIDEO_EXTS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")
FOURCC = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "MJPG", ".webm": "VP80"}


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
    """Writes frames to a PNG folder (named like the input) or a video file (by extension)."""

    def __init__(self, path: str | Path, fps: float = 30.0):
        self.path = Path(path)
        self.fps = fps
        self.is_video = self.path.suffix.lower() in VIDEO_EXTS
        self._writer: cv2.VideoWriter | None = None
        self._tmp = self.path.with_name(f".{self.path.stem}.partial{self.path.suffix}")
        if not self.is_video:
            if self.path.suffix and not self.path.is_dir():
                raise LivestyleError(f"{self.path}: unknown output type {self.path.suffix!r}; give a folder "
                                     f"for PNGs or a video file ({', '.join(VIDEO_EXTS)})")
            self.path.mkdir(parents=True, exist_ok=True)

    def write(self, name: str, frame: np.ndarray) -> None:
        if not self.is_video:
            write_image(self.path / f"{name}.png", frame)
            return
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            h, w = frame.shape[:2]
            fourcc = cv2.VideoWriter.fourcc(*FOURCC[self.path.suffix.lower()])
            self._writer = cv2.VideoWriter(str(self._tmp), fourcc, self.fps, (w, h))
            if not self._writer.isOpened():
                raise LivestyleError(f"{self.path}: OpenCV cannot write this video format here; "
                                     "try .avi or a folder of PNGs")
        self._writer.write(frame)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None
            os.replace(self._tmp, self.path)
