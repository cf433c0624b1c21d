"""A small live preview drawn with half blocks: one cell shows two pixel rows (``▀`` fg = top, bg = bottom)."""

from __future__ import annotations

import cv2
import numpy as np
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

HALF = "▀"


def half_block_strips(image_bgr: np.ndarray, cols: int, rows: int, mirror: bool = False) -> list[Strip]:
    """Render ``(H, W, 3) uint8 BGR`` into ``rows`` strips of ``cols`` cells, aspect kept and centred.

    The image is first shrunk with ``cv2.INTER_AREA`` to at most ``cols`` x
    ``2 * rows`` pixels (square pixels: a cell is about twice as tall as
    wide), so the cost is a resize plus one Rich style per visible cell.
    """
    if cols < 1 or rows < 1:
        return []
    h, w = image_bgr.shape[:2]
    scale = min(cols / w, 2 * rows / h)
    tw, th = max(1, int(w * scale)), max(2, int(h * scale) // 2 * 2)
    small = cv2.resize(image_bgr, (tw, th), interpolation=cv2.INTER_AREA)[:, :, ::-1]  # (th, tw, 3) RGB
    if mirror:
        small = small[:, ::-1]
    pad_left = (cols - tw) // 2
    top_pad = (rows - th // 2) // 2
    blank = Strip.blank(cols)
    strips = [blank] * top_pad
    for y in range(0, th, 2):
        top, bottom = small[y].tolist(), small[y + 1].tolist()
        segs = [Segment(" " * pad_left)] if pad_left else []
        segs += [Segment(HALF, Style(color=Color.from_rgb(*t), bgcolor=Color.from_rgb(*b)))
                 for t, b in zip(top, bottom, strict=True)]
        strips.append(Strip(segs, pad_left + tw).extend_cell_length(cols))
    strips += [blank] * (rows - len(strips))
    return strips[:rows]


class Preview(Widget):
    """Shows the latest stylized frame; ``show(image)`` is called by the app's poll timer."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.mirror = False
        self._image: np.ndarray | None = None
        self._strips: list[Strip] = []
        self._drawn_for: tuple[int, int, bool, int] | None = None

    def show(self, image_bgr: np.ndarray | None) -> None:
        """Draw ``(H, W, 3) uint8 BGR`` (None: keep the last picture)."""
        if image_bgr is None:
            return
        self._image = image_bgr
        self._drawn_for = None
        self.refresh()

    def toggle_mirror(self) -> bool:
        self.mirror = not self.mirror
        self._drawn_for = None
        self.refresh()
        return self.mirror

    def render_line(self, y: int) -> Strip:
        cols, rows = self.size.width, self.size.height
        key = (cols, rows, self.mirror, id(self._image))
        if self._drawn_for != key:
            self._strips = ([] if self._image is None else
                            half_block_strips(self._image, cols, rows, self.mirror))
            self._drawn_for = key
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(cols)
