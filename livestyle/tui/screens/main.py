"""The main screen: source and outputs, live numbers, preview, training, keyframes, messages.

It fits 80x24 and grows. It holds no logic: the app's poll timer hands it a
stats snapshot and the latest frame, and its keys are the app's bindings.
"""

from __future__ import annotations

import numpy as np
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, RichLog

from ..widgets.keyframes import KeyframeList
from ..widgets.preview import Preview
from ..widgets.sinks import SinksPanel
from ..widgets.stats import StatsPanel
from ..widgets.training import TrainingPanel


def _titled(widget, title: str, id: str):  # type: ignore[no-untyped-def]
    widget.border_title = title
    widget.id = id
    return widget


class MainScreen(Screen[None]):
    """The control room. ``show(stats, image, ...)`` updates every panel from one snapshot."""

    ready = False
    """True once the panels exist (the poll timer may fire before)."""

    def on_mount(self) -> None:
        self.ready = True

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="top"):
            yield _titled(SinksPanel("starting…"), "source & outputs", "sinks")
            yield _titled(StatsPanel("waiting for frames…"), "live", "stats")
            with Vertical(id="preview-box") as box:
                box.border_title = "preview"
                yield Preview(id="preview")
        with Horizontal(id="middle"):
            yield _titled(TrainingPanel(), "training", "training")
            yield _titled(KeyframeList(), "keyframes", "keyframes")
        yield _titled(RichLog(max_lines=200, wrap=True, markup=False), "messages", "messages")
        yield Footer()

    @property
    def preview(self) -> Preview:
        return self.query_one(Preview)

    @property
    def keyframes(self) -> KeyframeList:
        return self.query_one(KeyframeList)

    def log_message(self, message: str, severity: str) -> None:
        """Append one line to the messages panel (the toasts fade; this keeps them)."""
        if not self.ready:
            return
        style = {"error": "bold red", "warning": "yellow"}.get(severity, "")
        from rich.text import Text

        self.query_one(RichLog).write(Text(message, style=style))

    def show(self, st: object, image: np.ndarray | None, auto: dict[str, str], vcam_why: str,
             select: str | None = None) -> None:
        """Update all panels from a ``SessionStats``-like snapshot and a ``(H, W, 3) uint8 BGR`` frame."""
        if not self.ready:
            return
        self.query_one(SinksPanel).show(st, vcam_why)
        self.query_one(StatsPanel).show(st)
        self.query_one(TrainingPanel).show(getattr(st, "training", {}) or {})
        self.keyframes.show(getattr(st, "keyframes", {}) or {}, auto, select)
        self.preview.show(image)
