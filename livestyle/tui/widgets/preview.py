"""The small live preview: the stylized frame, or original | stylized, as half blocks or a real image.

The app's poll timer calls ``show`` a few times a second. A picture is
redrawn only when the frame or a view setting changed, the main screen is
the one on display, and enough time passed since the last one: at least
``1 / max_hz`` seconds, and long enough that encoding pictures takes at
most ``BUDGET`` of one core (an image protocol encodes a PNG or Sixel per
redraw, 10 to 100+ ms: time taken from the pipeline).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from textual.app import ComposeResult
from textual.widget import Widget

from livestyle.outputs.preview import compose_preview
from livestyle.tui.widgets.picture import BlockPicture, ImagePicture, make_picture

BUDGET = 0.04
"""Share of one CPU core the preview's encoding may use (the UI as a whole stays under 5%)."""


class Preview(Widget):
    """Shows the latest frame; ``show(image, original)`` is called by the app's poll timer.

    ``protocol``: ``"blocks"``, ``"kitty"`` or ``"sixel"``; ``max_hz``: the
    most redraws per second; ``clock``: seconds, monotonic (tests pass a fake).
    """

    DEFAULT_CSS = "Preview { width: 1fr; height: 1fr; }"

    def __init__(self, protocol: str = "blocks", max_hz: float = 10.0,
                 clock: Callable[[], float] = time.monotonic, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.protocol = protocol
        self.min_interval = 1.0 / max_hz
        self.clock = clock
        self.mirror = False
        self.side_by_side = False
        self._image: np.ndarray | None = None
        self._original: np.ndarray | None = None
        self._drawn_key: tuple[int, int, bool, bool] | None = None
        self._drawn_at = -float("inf")
        self.drawn = 0
        """Pictures handed to the picture widget since start."""
        self.picture: BlockPicture | ImagePicture = make_picture(protocol)

    def compose(self) -> ComposeResult:
        yield self.picture

    def show(self, image_bgr: np.ndarray | None, original_bgr: np.ndarray | None = None) -> None:
        """Draw ``(H, W, 3) uint8 BGR`` (None: keep the last); ``original_bgr``: its camera frame."""
        if image_bgr is not None:
            self._image, self._original = image_bgr, original_bgr
        self._draw()

    def toggle_mirror(self) -> bool:
        self.mirror = not self.mirror
        self._draw(now=True)
        return self.mirror

    def toggle_side_by_side(self) -> bool:
        """Switch between the stylized frame alone and original | stylized; returns the new state."""
        self.side_by_side = not self.side_by_side
        self._draw(now=True)
        return self.side_by_side

    def _visible(self) -> bool:
        return self.is_mounted and self.screen.is_active and self.size.area > 0

    def _draw(self, now: bool = False) -> None:
        if self._image is None or not self._visible():
            return
        key = (id(self._image), id(self._original), self.mirror, self.side_by_side)
        t = self.clock()
        interval = max(self.min_interval, self.picture.encode_s / BUDGET)
        if key == self._drawn_key or (not now and t - self._drawn_at < interval):
            return
        self.picture.set_image(compose_preview(self._image, self._original, self.mirror, self.side_by_side))
        self._drawn_key, self._drawn_at = key, t
        self.drawn += 1
