"""Which picture protocol the TUI draws with, and the pixels it sends (no Textual import here).

Terminals that speak the Kitty graphics protocol (kitty, Ghostty) or Sixel
(foot, WezTerm, xterm -ti vt340, Konsole) show the live preview and the
keyframe thumbnails as real images through ``textual-image``; every other
terminal, and headless tests, get half-block characters. The terminal must
be asked before Textual starts (afterwards Textual's input thread eats the
answer), so ``resolve_preview`` runs once in ``app.run``.
"""

from __future__ import annotations

import cv2
import numpy as np

from livestyle.errors import LivestyleError
from livestyle.tui.settings import PREVIEW_MODES


def resolve_preview(mode: str) -> str:
    """The protocol for ``mode``: ``"kitty"``, ``"sixel"`` or ``"blocks"``.

    ``auto`` asks the terminal (Sixel first, then Kitty, as ``textual-image``
    does; about 0.1 s when it does not answer); a forced protocol skips the
    answer but still reads the terminal's cell size in pixels.
    """
    if mode not in PREVIEW_MODES:
        raise LivestyleError(f"preview {mode!r} is not one of {', '.join(PREVIEW_MODES)}; "
                             "fix --preview or 'preview' in settings.toml")
    if mode == "blocks":
        return "blocks"
    import textual_image.widget  # noqa: F401  (on import: asks the terminal for its protocols and cell size)
    from textual_image.renderable import Image, SixelImage, TGPImage

    if mode != "auto":
        return mode
    return {TGPImage: "kitty", SixelImage: "sixel"}.get(Image, "blocks")


def cell_pixels(protocol: str) -> tuple[int, int]:
    """``(width, height)`` in image pixels of one terminal cell: half blocks are 1x2."""
    if protocol == "blocks":
        return 1, 2
    # cached by resolve_preview before Textual started; textual-image exports it only privately,
    # so a release that moves it costs exact sizing (10x20 px cells assumed), never the preview
    try:
        from textual_image._terminal import get_cell_size

        cell = get_cell_size()
        return max(1, cell.width), max(1, cell.height)
    except (ImportError, AttributeError):
        return 10, 20


def letterbox(image_bgr: np.ndarray, width: int, height: int) -> np.ndarray:
    """``(H, W, 3) uint8 BGR`` shrunk (``INTER_AREA``) or grown to fit ``width x height``, centred on black.

    Returns ``(height, width, 3) uint8 RGB``: the exact pixel size of the
    cells it fills, so the terminal scales nothing and the aspect is kept.
    """
    h, w = image_bgr.shape[:2]
    scale = min(width / w, height / h)
    tw, th = max(1, round(w * scale)), max(1, round(h * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(image_bgr, (tw, th), interpolation=interp)
    canvas = np.zeros((height, width, 3), np.uint8)
    x, y = (width - tw) // 2, (height - th) // 2
    canvas[y:y + th, x:x + tw] = small[:, :, ::-1]
    return canvas


PAIR_MIN = 2 / 3
"""Key and painting are shown together only when each keeps this share of the single image's scale."""


def pair_layout(size: tuple[int, int], area: tuple[int, int]) -> str:
    """How to show two images of ``size`` ``(w, h)`` in ``area`` ``(w, h)`` pixels.

    ``"row"`` (side by side) or ``"column"`` (stacked), whichever shows them
    larger, when each is then at least ``PAIR_MIN`` as large (in width) as
    one image alone would be; else ``"single"``. Either pair is always at
    least half as large, so in an area of the images' own shape: single.
    """
    (w, h), (aw, ah) = size, area
    alone = min(aw / w, ah / h)
    row, column = min(aw / (2 * w), ah / h), min(aw / w, ah / (2 * h))
    best = max(row, column)
    if best < PAIR_MIN * alone:
        return "single"
    return "row" if row >= column else "column"


def pair(first: np.ndarray, second: np.ndarray, layout: str) -> np.ndarray:
    """``first`` and ``second`` (``(H, W, 3) uint8``) joined as ``layout`` (``row`` / ``column``).

    ``second`` is resized to ``first``'s size.
    """
    if second.shape != first.shape:
        second = cv2.resize(second, (first.shape[1], first.shape[0]), interpolation=cv2.INTER_AREA)
    return np.hstack([first, second]) if layout == "row" else np.vstack([first, second])
