"""Logged warnings as notifications: what the ``livestyle`` loggers say while the TUI runs reaches the user.

The engine logs its warnings and errors from its own threads (a camera read that failed, an output that could
not close, "OpenVINO runtime off, PyTorch runs the network: ..."). The command line prints them on stderr
(``cli.log_as_our_lines``); under the TUI, Textual owns the terminal and they were lost. ``TuiLogHandler``
turns each record into one line posted to the app as a ``LoggedLine`` message: ``post_message`` is thread-safe
and never blocks, so a record logged on the UI thread itself, or by ``session.close()`` while the app unmounts,
cannot deadlock. The same line again (digits aside: "frame 12", "frame 13") within ``quiet_s`` is dropped, as
the session says a repeated problem once. Lines that came after the app stopped taking messages are kept in
``unshown``; ``tui.app.run`` prints them on the terminal once Textual has given it back.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from textual.message import Message

from livestyle.errors import one_line

__all__ = ["LoggedLine", "TuiLogHandler", "as_line"]

QUIET_S = 30.0  # the same line is shown once per this many seconds
_PREFIXES = (("livestyle: note: ", "information"), ("livestyle: warning: ", "warning"),
             ("livestyle: error: ", "error"), ("livestyle: ", ""))


class LoggedLine(Message):
    """One logged record as the user reads it: ``severity`` (information | warning | error) and one line."""

    def __init__(self, severity: str, text: str) -> None:
        super().__init__()
        self.severity = severity
        self.text = text


def as_line(record: logging.LogRecord) -> tuple[str, str]:
    """``(severity, one line)`` of ``record``: a ``livestyle: note: ...`` message is information, and the
    ``livestyle: warning:`` prefix the CLI's lines carry is dropped (the notification's colour says it)."""
    text = one_line(record.getMessage())
    severity = "error" if record.levelno >= logging.ERROR else "warning"
    for prefix, sev in _PREFIXES:
        if text.startswith(prefix):
            text, severity = text[len(prefix):], sev or severity
            break
    return severity, text


class TuiLogHandler(logging.Handler):
    """Posts each warning or error of the ``livestyle`` loggers to ``app`` (any thread); see the module doc.

    ``install`` adds it to the ``livestyle`` logger, ``remove`` takes it off again. ``clock``: seconds, for
    the repeat window (tests).
    """

    def __init__(self, app: Any, quiet_s: float = QUIET_S, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(logging.WARNING)
        self.app = app
        self.quiet_s = quiet_s
        self.clock = clock
        self.unshown: list[str] = []
        """Lines logged when the app took no more messages (it was closing), as ``livestyle: warning: ...``."""
        self._said: dict[str, float] = {}
        self._said_lock = threading.Lock()
        self._logger = logging.getLogger("livestyle")
        self._level = self._logger.level

    def install(self) -> TuiLogHandler:
        self._logger.addHandler(self)
        if self._logger.level == logging.NOTSET:  # warnings and errors pass whatever the root logger's level
            self._logger.setLevel(logging.WARNING)
        return self

    def remove(self) -> None:
        self._logger.removeHandler(self)
        self._logger.setLevel(self._level)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            severity, text = as_line(record)
            if not self._first_in_a_while(text):
                return
            if not self.app.post_message(LoggedLine(severity, text)):
                self.unshown.append(f"livestyle: {'note' if severity == 'information' else severity}: {text}")
        except Exception:  # logging must never raise into the thread that logged
            self.handleError(record)

    def _first_in_a_while(self, text: str) -> bool:
        key = re.sub(r"\d+", "#", text)
        now = self.clock()
        with self._said_lock:
            last = self._said.get(key)
            if last is not None and now - last < self.quiet_s:
                return False
            if len(self._said) > 500:  # a long show with many different lines: forget the old ones
                self._said = {k: t for k, t in self._said.items() if now - t < self.quiet_s}
            self._said[key] = now
        return True
