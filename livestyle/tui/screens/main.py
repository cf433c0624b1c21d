"""The main screen: source and outputs, live numbers, preview, training, keyframes, messages.

It fits 80x24 and grows. It holds no logic: the app's poll timer hands it a
stats snapshot and the latest frame, and its keys are the app's bindings.
"""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Header, OptionList

from livestyle.tui.widgets.footer import FitFooter
from livestyle.tui.widgets.keyframes import KeyframeList
from livestyle.tui.widgets.messages import MessageLog
from livestyle.tui.widgets.preview import Preview
from livestyle.tui.widgets.sinks import SinksPanel
from livestyle.tui.widgets.stats import StatsPanel, update_if_changed
from livestyle.tui.widgets.thumbs import KeyframeThumbs
from livestyle.tui.widgets.training import TrainingPanel


def _titled(widget, title: str, id: str):  # type: ignore[no-untyped-def]
    widget.border_title = title
    widget.id = id
    return widget


class MainScreen(Screen[None]):
    """The control room. ``show(stats, image, ...)`` updates every panel from one snapshot.

    ``protocol``: how the preview and thumbnails are drawn (``"blocks"``,
    ``"kitty"`` or ``"sixel"``; see ``livestyle.tui.imaging``).
    """

    def __init__(self, protocol: str = "blocks") -> None:
        super().__init__()
        self.protocol = protocol
        self.style_dir: Path | None = None

    ready = False
    """True once the panels exist (the poll timer may fire before)."""

    failure: str | None = None
    """Why the last session did not start (kept until a session runs)."""

    def on_mount(self) -> None:
        self.ready = True
        for severity, message in getattr(self.app, "history", []):  # told before the panels existed
            self.log_message(message, severity)
        if self.failure is not None:
            self.show_failure(self.failure)

    def on_unmount(self) -> None:
        self.ready = False  # the app's poll timer may still tick while the panels go away

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="top"):
            yield _titled(SinksPanel("starting…"), "source & outputs", "sinks")
            yield _titled(StatsPanel("waiting for frames…"), "live", "stats")
            with Vertical(id="preview-box") as box:
                box.border_title = "preview"
                yield Preview(self.protocol, id="preview")
        with Horizontal(id="middle"):
            yield _titled(TrainingPanel(), "training", "training")
            with Horizontal(id="keyframes") as box:
                box.border_title = "keyframes"
                yield KeyframeList(id="keyframe-list")
                yield KeyframeThumbs(self.protocol, id="keyframe-thumbs")
        yield _titled(MessageLog(), "messages", "messages")
        yield FitFooter()  # the keys that fit, most useful first; the rest are in help (?) and the palette

    @property
    def preview(self) -> Preview:
        return self.query_one(Preview)

    @property
    def keyframes(self) -> KeyframeList:
        return self.query_one(KeyframeList)

    @property
    def thumbs(self) -> KeyframeThumbs:
        return self.query_one(KeyframeThumbs)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if isinstance(event.option_list, KeyframeList):
            self.thumbs.show(self.style_dir, event.option.id)

    def log_message(self, message: str, severity: str) -> None:
        """Append one line to the messages panel (the toasts fade; this keeps them)."""
        with suppress(NoMatches):  # panels already gone at shutdown
            if self.ready:
                self.query_one(MessageLog).add(message, severity)

    def show_failure(self, message: str) -> None:
        """No session: say why on the sources panel (the notification carries the same line)."""
        self.failure = message
        with suppress(NoMatches):
            if self.ready:
                update_if_changed(self.query_one(SinksPanel), Text.assemble(
                    ("no live session\n", "bold red"), message, ("\npress o to pick a source", "dim")))

    def show(self, st: object, image: np.ndarray | None, auto: dict[str, str], vcam_why: str,
             select: str | None = None, original: np.ndarray | None = None,
             style_dir: Path | None = None) -> None:
        """Update all panels from a ``SessionStats``-like snapshot and a ``(H, W, 3) uint8 BGR`` frame.

        ``original``: the camera frame ``image`` came from (side-by-side
        preview); ``style_dir``: the style folder whose keyframes are listed.
        """
        if not self.ready:
            return
        self.failure = None
        self.style_dir = style_dir
        with suppress(NoMatches):  # the panels go away before the screen's unmount at shutdown
            self.query_one(SinksPanel).show(st, vcam_why)
            self.query_one(StatsPanel).show(st)
            self.query_one(TrainingPanel).show(getattr(st, "training", {}) or {})
            self.keyframes.show(getattr(st, "keyframes", {}) or {}, auto, select)
            self.thumbs.show(style_dir, self.keyframes.current)
            self.preview.show(image, original)
