"""A borderless full-screen output window (``--output window[:DISPLAY]``) for a projector or a second screen.

OpenCV HighGUI: ``WINDOW_GUI_NORMAL`` (no toolbar, no status bar), moved onto display ``DISPLAY``'s origin
(found with ``screeninfo``, extra ``livestyle[window]``; display 0 needs nothing), then
``WND_PROP_FULLSCREEN``. The picture is shown as sent: no overlays, no mirroring unless asked
(``window:1:mirror``). Esc leaves full screen (the window stays, resizable), ``f`` goes back to it; closing
the window turns this output off. As for the preview, every GUI call happens in the sender thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from livestyle.errors import SinkError
from livestyle.outputs.base import Sink
from livestyle.outputs.preview import ESC, has_display

EXTRA = "pip install 'livestyle[window]'"
MAX_DISPLAY = 15


@dataclass(frozen=True)
class Monitor:
    """A display's position and size on the desktop, in pixels."""

    x: int
    y: int
    width: int
    height: int


def list_monitors() -> list[Monitor]:
    """The displays ``screeninfo`` sees, primary first; ``SinkError`` when it is missing or finds none."""
    try:
        import screeninfo
    except ImportError:
        raise SinkError(f"window: choosing a display needs screeninfo: {EXTRA} (or use window for display 0)") from None
    try:
        found = screeninfo.get_monitors()
    except screeninfo.common.ScreenInfoError as err:
        raise SinkError(f"window: no display found ({err}); connect the screen or use --output record:FILE") from None
    found = sorted(found, key=lambda m: not getattr(m, "is_primary", False))
    return [Monitor(int(m.x), int(m.y), int(m.width), int(m.height)) for m in found]


def parse_window_arg(arg: str | None) -> tuple[int, bool]:
    """``"1"`` -> ``(1, False)``; ``"1:mirror"``/``"mirror"`` mirrors; ``SinkError`` for anything else."""
    display, mirror = 0, False
    for part in (p.strip().lower() for p in (arg or "").split(":") if p.strip()):
        if part == "mirror":
            mirror = True
        elif part.isdigit() and int(part) <= MAX_DISPLAY:
            display = int(part)
        else:
            raise SinkError(f"window:{arg}: give a display index 0..{MAX_DISPLAY} and/or 'mirror', "
                            "e.g. --output window:1")
    return display, mirror


class WindowSink(Sink):
    """Full-screen frames on display ``display`` (0: the primary one).

    ``monitors``: returns the displays (default ``list_monitors``); ``gui``: the OpenCV module whose
    ``namedWindow``/``imshow``... are used (tests pass a fake: there is no display here).
    """

    def __init__(self, display: int = 0, mirror: bool = False, title: str | None = None,
                 monitors: Callable[[], list[Monitor]] | None = None, gui: Any = None) -> None:
        super().__init__()
        if not 0 <= display <= MAX_DISPLAY:
            raise SinkError(f"window:{display}: give a display index 0..{MAX_DISPLAY}")
        self.display = display
        self.mirror = mirror
        self.name = f"window {display}"
        self.title = title or f"livestyle output {display}"
        self._monitors = monitors or list_monitors
        self._gui = gui if gui is not None else cv2
        self._window = False
        self.monitor: Monitor | None = None
        self.fullscreen = True

    def _open(self, width: int, height: int, fps: float) -> None:
        if self._gui is cv2 and not has_display():
            raise SinkError("window: no display here (DISPLAY is not set); connect a screen and run in its "
                            "desktop session, or use --output ndi / record:FILE")
        if not hasattr(self._gui, "imshow"):
            raise SinkError("window: this OpenCV build has no GUI (opencv-python-headless?); install opencv-python")
        self.monitor = None
        if self.display > 0:
            monitors = self._monitors()
            if self.display >= len(monitors):
                raise SinkError(f"window:{self.display}: only {len(monitors)} display(s) here "
                                f"(0..{len(monitors) - 1}); pick one of them")
            self.monitor = monitors[self.display]
        self.fullscreen = True

    def _set_fullscreen(self, on: bool) -> None:
        gui = self._gui
        gui.setWindowProperty(self.title, gui.WND_PROP_FULLSCREEN, gui.WINDOW_FULLSCREEN if on else gui.WINDOW_NORMAL)
        self.fullscreen = on

    def _send(self, frame_bgr: np.ndarray, original: np.ndarray | None) -> None:
        gui = self._gui
        image = np.ascontiguousarray(frame_bgr[:, ::-1]) if self.mirror else frame_bgr
        try:
            if not self._window:
                gui.namedWindow(self.title, gui.WINDOW_NORMAL | gui.WINDOW_GUI_NORMAL)
                if self.monitor is not None:
                    gui.moveWindow(self.title, self.monitor.x, self.monitor.y)
                self._set_fullscreen(True)
                self._window = True
            gui.imshow(self.title, image)
            key = gui.waitKey(1) & 0xFF
            visible = gui.getWindowProperty(self.title, gui.WND_PROP_VISIBLE)
        except cv2.error as err:
            raise SinkError(f"window: cannot show it ({str(err).strip().splitlines()[-1]})") from err
        if visible < 1:  # closed by the user: this output goes off, the others go on
            self._close()
            self._state = "off"
        elif key == ESC and self.fullscreen:
            self._set_fullscreen(False)
        elif key == ord("f") and not self.fullscreen:
            self._set_fullscreen(True)

    def _close(self) -> None:
        if self._window:
            self._window = False
            try:
                self._gui.destroyWindow(self.title)
                self._gui.waitKey(1)
            except cv2.error:
                pass  # already closed by the user
