"""The messages panel: the newest notifications, one line each, so they outlive their toasts."""

from __future__ import annotations

from collections import deque

from rich.text import Text
from textual.widgets import Static

STYLES = {"error": "bold red", "warning": "yellow"}


class MessageLog(Static):
    """Keeps the last ``keep`` messages and shows the newest that fit, newest at the bottom."""

    def __init__(self, keep: int = 100, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.messages: deque[tuple[str, str]] = deque(maxlen=keep)

    def add(self, message: str, severity: str) -> None:
        self.messages.append((severity, " ".join(message.split())))
        self.refresh_text()

    def on_resize(self) -> None:
        self.refresh_text()

    def refresh_text(self) -> None:
        rows = max(1, self.content_size.height)
        shown = list(self.messages)[-rows:]
        text = Text(no_wrap=True, overflow="ellipsis")
        for i, (severity, message) in enumerate(shown):
            text.append(("\n" if i else "") + message, STYLES.get(severity, ""))
        self.update(text)
