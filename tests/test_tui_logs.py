"""Warnings the engine logs (from its threads) reach the TUI's user as notifications, headless under Pilot."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from livestyle.tui.logs import TuiLogHandler
from tests.tui_helpers import SIZE, make_app, messages, run_async, spy_notifications, started, until

RUNTIME_OFF = "OpenVINO runtime off, PyTorch runs the network: output differs from PyTorch's by 0.44 (> 0.1)"


def log_from_a_thread(name: str, level: int, msg: str, *args: Any) -> None:
    t = threading.Thread(target=logging.getLogger(name).log, args=(level, msg, *args))
    t.start()
    t.join()


def ours(h: logging.Handler) -> bool:
    return isinstance(h, TuiLogHandler)


@run_async
async def test_a_warning_logged_from_a_thread_is_a_notification_once(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    shown = spy_notifications(app)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        for _ in range(3):  # a problem logged again and again is said once
            log_from_a_thread("livestyle.engine.runtime", logging.WARNING, "%s: %s",
                              "OpenVINO runtime off, PyTorch runs the network",
                              "output differs from PyTorch's by 0.44 (> 0.1)\nsecond line")
        log_from_a_thread("livestyle.capture.base", logging.WARNING, "livestyle: warning: %s",
                          "clip.mp4: frame 12 unreadable; skipping it")
        log_from_a_thread("livestyle.capture.base", logging.WARNING, "livestyle: warning: %s",
                          "clip.mp4: frame 13 unreadable; skipping it")  # the same line, another frame
        log_from_a_thread("livestyle.outputs.sender", logging.ERROR, "%s failed, disabling it: %s", "vcam", "gone")
        log_from_a_thread("livestyle.style", logging.WARNING, "livestyle: note: %s is resized", "styled/000.png")
        await until(pilot, lambda: "styled/000.png is resized" in messages(app))
    assert [m for m in shown if m[1] == RUNTIME_OFF] == [("warning", RUNTIME_OFF)]
    assert ("warning", "clip.mp4: frame 12 unreadable; skipping it") in shown
    assert "frame 13" not in messages(app)
    assert ("error", "vcam failed, disabling it: gone") in shown
    assert ("information", "styled/000.png is resized") in shown


@run_async
async def test_the_handler_goes_with_the_app_and_keeps_what_closing_logged(tmp_path: Path) -> None:
    logger = logging.getLogger("livestyle")
    before = (list(logger.handlers), logger.level)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        assert sum(ours(h) for h in logger.handlers) == 1
        session = app.session
        close = session.close

        def close_and_warn() -> None:  # an output whose close fails while the app unmounts
            log_from_a_thread("livestyle.outputs.base", logging.WARNING, "%s: close after error failed: %s",
                              "record", "disk full")
            close()

        session.close = close_and_warn
    assert (list(logger.handlers), logger.level) == before
    handler = app.log_handler
    assert handler is not None
    assert handler.unshown == ["livestyle: warning: record: close after error failed: disk full"]
    logging.getLogger("livestyle.engine.runtime").warning("after the app: not posted anywhere")
    assert len(handler.unshown) == 1


def test_a_repeated_line_is_shown_again_after_the_quiet_window() -> None:
    posted: list[str] = []
    now = [0.0]

    class App:
        def post_message(self, m: Any) -> bool:
            posted.append(m.text)
            return True

    h = TuiLogHandler(App(), quiet_s=30.0, clock=lambda: now[0])
    rec = logging.LogRecord("livestyle.x", logging.WARNING, __file__, 1, "camera 0: read failed", None, None)
    for t in (0.0, 10.0, 29.0, 31.0):
        now[0] = t
        h.handle(rec)
    assert posted == ["camera 0: read failed", "camera 0: read failed"]
