"""Capture sources (webcam, video file, image folder, synthetic) and the capture thread.

``open_source(spec)`` turns a ``--source`` string into an opened ``Source``;
``CaptureThread`` feeds its frames into a ``LatestSlot[Frame]``.
"""

from __future__ import annotations

import re
from pathlib import Path

from livestyle.capture.base import MIN_SIZE, Frame, Pacer, Source
from livestyle.capture.files import VIDEO_EXTS, FolderSource, VideoFileSource
from livestyle.capture.ndi import NdiSource
from livestyle.capture.synthetic import SyntheticSource
from livestyle.capture.thread import CaptureStats, CaptureThread
from livestyle.capture.webcam import WebcamSource, find_camera_by_name, list_linux_cameras
from livestyle.errors import SourceError
from livestyle.files.imageio import IMAGE_EXTS

__all__ = [
    "MIN_SIZE", "CaptureStats", "CaptureThread", "FolderSource", "Frame", "NdiSource", "Pacer", "Source",
    "SyntheticSource", "VideoFileSource", "WebcamSource", "find_camera_by_name",
    "list_linux_cameras", "make_source", "open_source",
]

ACCEPTED = (
    "'synthetic', a camera index (0, 1, ...), /dev/videoN, 'name:Camera Name',"
    " 'ndi:NDI NAME' or 'ndi:HOST:PORT', a video file (" + ", ".join(VIDEO_EXTS) + ") or a folder of images"
)


def make_source(spec: str, width: int | None = None, height: int | None = None,
                fps: float | None = None) -> Source:
    """Build (without opening) the ``Source`` that ``spec`` names; see ``open_source``."""
    text = spec.strip()
    if text.lower() == "synthetic":
        return SyntheticSource(width, height, fps)
    if text.isdigit():
        return WebcamSource(int(text), width, height, fps)
    if re.fullmatch(r"/dev/video\d+", text):
        return WebcamSource(text, width, height, fps)
    if text.lower().startswith("name:") and text[5:].strip():
        return WebcamSource("name:" + text[5:].strip(), width, height, fps)
    if text.lower().startswith("ndi:"):
        return NdiSource(text[4:], width, height, fps)
    path = Path(text).expanduser()
    if path.is_dir():
        return FolderSource(path, width, height, fps)
    if path.is_file() and path.suffix.lower() in VIDEO_EXTS:
        return VideoFileSource(path, width, height, fps)
    if path.is_file() and path.suffix.lower() in IMAGE_EXTS:
        raise SourceError(f"{path}: a single image is not a source; put it in a folder and pass the folder")
    if path.suffix.lower() in VIDEO_EXTS:
        raise SourceError(f"{path}: no such video file")
    raise SourceError(f"unknown source {spec!r}; use {ACCEPTED}")


def open_source(spec: str, width: int | None = None, height: int | None = None,
                fps: float | None = None) -> Source:
    """Parse a ``--source`` string and return the source, opened.

    Accepted: ``"synthetic"``, ``"0"``/``"1"``... (camera index),
    ``"/dev/videoN"``, ``"name:Some Camera"``, ``"ndi:NAME"``/``"ndi:HOST:PORT"``, a video file path, a folder of
    images. ``width``/``height``/``fps`` are requests: a camera that cannot
    honour them opens anyway and records a warning in ``source.warnings``
    with the actual values. Raises ``SourceError`` (one line) for an
    unknown spec, a source that cannot be opened, or frames under 64 px.
    """
    source = make_source(spec, width, height, fps)
    source.open()
    return source
