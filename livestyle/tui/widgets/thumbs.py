"""Thumbnails of the highlighted keyframe: key and painting side by side (or stacked) where there is room.

Files follow the style folder layout: ``STYLE/keys/NAME.*`` and
``STYLE/styled/NAME.*``. Each is read once per modification time and kept
at most ``THUMB_WIDTH`` pixels wide, so the poll timer's check is two
``stat`` calls.
"""

from __future__ import annotations

import glob
from pathlib import Path

import cv2
import numpy as np
from textual.app import ComposeResult
from textual.widget import Widget

from livestyle.errors import ImageError
from livestyle.files.imageio import IMAGE_EXTS, read_image
from livestyle.tui.imaging import cell_pixels, pair, pair_layout
from livestyle.tui.widgets.picture import BlockPicture, ImagePicture, make_picture

THUMB_WIDTH = 320
"""Pixels: wide enough for an image-protocol thumbnail in a large terminal."""


def keyframe_files(style_dir: Path, name: str) -> tuple[Path | None, Path]:
    """``(key, painting)`` paths of keyframe ``name``, of any image extension (a painting saved as .jpg); the key
    is None when there is none, the painting ``styled/NAME.png`` when there is none yet."""
    def named(folder: Path) -> list[Path]:
        return sorted(p for p in folder.glob(f"{glob.escape(name)}.*") if p.suffix.lower() in IMAGE_EXTS)

    keys, styled = named(style_dir / "keys"), named(style_dir / "styled")
    return (keys[0] if keys else None), (styled[0] if styled else style_dir / "styled" / f"{name}.png")


def _mtime(path: Path | None) -> int | None:
    try:
        return path.stat().st_mtime_ns if path is not None else None
    except OSError:
        return None


def load_thumb(path: Path) -> np.ndarray | None:
    """``(h, w, 3) uint8 BGR`` at most ``THUMB_WIDTH`` wide, or None when unreadable."""
    try:
        img = read_image(path)  # as training reads it: alpha, 16 bits, EXIF orientation, any file name
    except ImageError:
        return None
    h, w = img.shape[:2]
    if w > THUMB_WIDTH:
        img = cv2.resize(img, (THUMB_WIDTH, max(1, round(h * THUMB_WIDTH / w))), interpolation=cv2.INTER_AREA)
    return img


class KeyframeThumbs(Widget):
    """``show(style_dir, name)``: the key and its painting, or whichever exists."""

    DEFAULT_CSS = "KeyframeThumbs { height: 1fr; }"

    def __init__(self, protocol: str = "blocks", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.protocol = protocol
        self.picture: BlockPicture | ImagePicture = make_picture(protocol)
        self.shown = "none"
        """What is shown: ``row`` / ``column`` (key and painting), ``key``, ``painting`` or ``none``."""
        self._files: tuple[tuple[Path | None, int | None], ...] = ()
        self._images: list[np.ndarray | None] = [None, None]
        self._drawn_for: tuple[object, ...] = ()

    def compose(self) -> ComposeResult:
        yield self.picture

    def show(self, style_dir: Path | None, name: str | None) -> None:
        """Load (when changed on disk) and draw keyframe ``name`` of ``style_dir`` (None: blank)."""
        paths: tuple[Path | None, ...] = (None, None) if style_dir is None or name is None else \
            keyframe_files(style_dir, name)
        files = tuple((p, _mtime(p)) for p in paths)
        if files != self._files:
            self._files = files
            self._images = [load_thumb(p) if p is not None and t is not None else None for p, t in files]
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        cols, rows = self.size
        if cols < 1 or rows < 1:
            return
        key = (cols, rows, *(id(i) for i in self._images))
        if key == self._drawn_for:
            return
        self._drawn_for = key
        self.picture.set_image(self._thumbnail(cols, rows))

    def _thumbnail(self, cols: int, rows: int) -> np.ndarray | None:
        key, painting = self._images
        if key is None or painting is None:
            self.shown = "key" if key is not None else "painting" if painting is not None else "none"
            return key if key is not None else painting
        cw, ch = cell_pixels(self.protocol)
        self.shown = pair_layout((key.shape[1], key.shape[0]), (cols * cw, rows * ch))
        if self.shown == "single":
            self.shown = "painting"
            return painting
        return pair(key, painting, self.shown)
