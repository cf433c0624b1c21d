"""A picture that fills its widget: half blocks everywhere, or a real image where the terminal can.

``make_picture(protocol)`` gives a ``BlockPicture`` (``"blocks"``) or an
``ImagePicture`` (``"kitty"`` / ``"sixel"``, through ``textual-image``); both
take ``set_image((H, W, 3) uint8 BGR or None)`` and keep the aspect ratio,
and report ``encode_s``: seconds one picture costs to encode at the current
size, so the preview can keep its rate within a CPU budget.
"""

from __future__ import annotations

import io
import time
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image as PILImage
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.app import ComposeResult
from textual.strip import Strip
from textual.widget import Widget

from livestyle.tui.imaging import cell_pixels, letterbox

HALF = "▀"


def _rgb(packed: int) -> Color:
    """A 6-bit-per-channel packed colour as a Rich colour (the middle of its 4-level bin)."""
    return Color.from_rgb(((packed >> 12) & 63) * 4 + 2, ((packed >> 6) & 63) * 4 + 2, (packed & 63) * 4 + 2)


@lru_cache(maxsize=1 << 16)
def _cell(top: int, bottom: int) -> Segment:
    """One half-block cell (fg = top pixel, bg = bottom pixel); cached: building Rich styles
    per cell was most of the preview's cost, and the same pairs recur from frame to frame."""
    return Segment(HALF, Style(color=_rgb(top), bgcolor=_rgb(bottom)))


def half_block_strips(image_bgr: np.ndarray, cols: int, rows: int) -> list[Strip]:
    """Render ``(H, W, 3) uint8 BGR`` into ``rows`` strips of ``cols`` cells, aspect kept and centred.

    One cell shows two pixel rows (``▀``: fg = top, bg = bottom). The image
    is first shrunk with ``cv2.INTER_AREA`` to at most ``cols`` x ``2 * rows``
    pixels (square pixels: a cell is about twice as tall as wide), so the
    cost is a resize plus one Rich style per visible cell.
    """
    if cols < 1 or rows < 1:
        return []
    h, w = image_bgr.shape[:2]
    scale = min(cols / w, 2 * rows / h)
    tw, th = max(1, int(w * scale)), max(2, int(h * scale) // 2 * 2)
    small = cv2.resize(image_bgr, (tw, th), interpolation=cv2.INTER_AREA)[:, :, ::-1]  # (th, tw, 3) RGB
    pad_left = (cols - tw) // 2
    top_pad = (rows - th // 2) // 2
    blank = Strip.blank(cols)
    strips = [blank] * top_pad
    q = small.astype(np.int32) >> 2  # 6 bits per channel: invisible in a terminal, and styles repeat
    packed = (q[:, :, 0] << 12) | (q[:, :, 1] << 6) | q[:, :, 2]  # (th, tw) one int per pixel
    for y in range(0, th, 2):
        segs = [Segment(" " * pad_left)] if pad_left else []
        segs += [_cell(t, b) for t, b in zip(packed[y].tolist(), packed[y + 1].tolist(), strict=True)]
        strips.append(Strip(segs, pad_left + tw).extend_cell_length(cols))
    strips += [blank] * (rows - len(strips))
    return strips[:rows]


class BlockPicture(Widget):
    """Half-block picture; redraws its strips only when the image or the size changes."""

    DEFAULT_CSS = "BlockPicture { width: 1fr; height: 1fr; }"

    protocol = "blocks"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.image: np.ndarray | None = None
        self._strips: list[Strip] = []
        self._drawn_for: tuple[int, int, int] | None = None
        self.encode_s = 0.0
        """Seconds the last half-block rendering took."""

    def set_image(self, image_bgr: np.ndarray | None) -> None:
        """Show ``(H, W, 3) uint8 BGR`` (None: blank)."""
        self.image = image_bgr
        self._drawn_for = None
        self.refresh()

    def render_line(self, y: int) -> Strip:
        cols, rows = self.size.width, self.size.height
        key = (cols, rows, id(self.image))
        if self._drawn_for != key:
            t0 = time.perf_counter()
            self._strips = [] if self.image is None else half_block_strips(self.image, cols, rows)
            self.encode_s = time.perf_counter() - t0
            self._drawn_for = key
        return self._strips[y] if y < len(self._strips) else Strip.blank(cols)


class ImagePicture(Widget):
    """A ``textual-image`` widget fed with pixels letterboxed to exactly its cells (Kitty or Sixel)."""

    DEFAULT_CSS = """
    ImagePicture { width: 1fr; height: 1fr; }
    ImagePicture > * { width: 1fr; height: 1fr; }
    """

    def __init__(self, protocol: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.protocol = protocol
        self.image: np.ndarray | None = None
        self.sent = 0
        """Images handed to the terminal widget (each costs one PNG or Sixel encoding)."""
        self.encode_s = 0.0
        """Seconds one encoding takes at the current size (measured once per size)."""
        self._measured_for: tuple[int, int] | None = None

    def compose(self) -> ComposeResult:
        from textual_image.widget import SixelImage, TGPImage

        yield (SixelImage if self.protocol == "sixel" else TGPImage)()

    def set_image(self, image_bgr: np.ndarray | None) -> None:
        """Show ``(H, W, 3) uint8 BGR`` (None: blank); encoded once at the cells' pixel size."""
        self.image = image_bgr
        self._send()

    def on_resize(self) -> None:
        self._send()

    def _send(self) -> None:
        children = self.children
        cols, rows = self.content_size
        if not children or cols < 1 or rows < 1:
            return  # not laid out yet: on_resize sends it
        target: PILImage.Image | None = None
        if self.image is not None:
            cw, ch = cell_pixels(self.protocol)
            target = PILImage.fromarray(letterbox(self.image, cols * cw, rows * ch))
            if self._measured_for != (cols, rows):
                self.encode_s, self._measured_for = encode_seconds(target, self.protocol), (cols, rows)
        children[0].image = target  # type: ignore[attr-defined]
        self.sent += 1


def encode_seconds(image: PILImage.Image, protocol: str) -> float:
    """Seconds to encode ``image`` as the terminal widget will: PNG (Kitty) or Sixel.

    Encodes it once off-screen (the widget encodes while Textual renders,
    where it cannot be timed).
    """
    t0 = time.perf_counter()
    if protocol == "sixel":
        from rich.console import Console
        from textual_image.renderable.sixel import Image as SixelRenderable

        Console(file=io.StringIO(), force_terminal=True, width=image.width).print(SixelRenderable(image))
    else:
        image.save(io.BytesIO(), "PNG")
    return time.perf_counter() - t0


def make_picture(protocol: str, *, id: str | None = None) -> BlockPicture | ImagePicture:
    """The picture widget for ``protocol`` (``"blocks"``, ``"kitty"`` or ``"sixel"``)."""
    return BlockPicture(id=id) if protocol == "blocks" else ImagePicture(protocol, id=id)
