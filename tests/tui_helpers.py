"""Helpers for the TUI tests: a small real session, waiting on conditions, reading what the user sees."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from livestyle.live.session import LiveConfig
from livestyle.tui.app import LivestyleApp
from livestyle.tui.settings import Settings

SIZE = (100, 30)


def run_async(test: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    """Run an ``async def`` test with ``asyncio.run`` (the project has no pytest-asyncio)."""

    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return wrapper


def make_app(tmp_path: Path, style: Path | None = None, settings_path: Path | None = None,
             painter: str = "", **cfg: Any) -> LivestyleApp:
    """An app on a 160x96 @ 15 fps synthetic source, null output, no live training unless asked."""
    base: dict[str, Any] = dict(source="synthetic", outputs="null", width=160, height=96, fps=15.0,
                                train=False, guides=False, denoise=False)
    base.update(cfg)
    config = LiveConfig(style=str(style if style is not None else tmp_path / "style"), **base)
    settings = Settings(styles_dir=str(tmp_path / "styles"), record_dir=str(tmp_path / "takes"),
                        painter=painter)
    return LivestyleApp(config, settings, settings_path)


async def until(pilot: Pilot, cond: Callable[[], Any], timeout: float = 20.0) -> None:
    """Let the app run (workers, timers) until ``cond()`` is true; fail after ``timeout`` s."""
    t0 = time.monotonic()
    while True:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        pilot.app.poll()  # type: ignore[attr-defined]
        if cond():
            return
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"condition not met within {timeout} s; messages: {pilot.app.history}")  # type: ignore[attr-defined]
        await pilot.pause(0.05)


async def started(pilot: Pilot) -> None:
    """Wait until the session runs and has a camera frame to snapshot."""
    app: Any = pilot.app
    await until(pilot, lambda: app.session is not None and app.session.stage.last_input is not None)


def spy_notifications(app: Any) -> list[tuple[str, str]]:
    """Every ``(severity, message)`` the app notifies from now on (the notifications still show)."""
    shown: list[tuple[str, str]] = []
    notify = app.notify

    def spy(message: str, **kw: Any) -> Any:
        shown.append((kw.get("severity", ""), message))
        return notify(message, **kw)

    app.notify = spy
    return shown


def messages(app: Any, severity: str | None = None) -> str:
    return "\n".join(m for s, m in app.history if severity is None or s == severity)


def panel_text(app: Any, selector: str) -> str:
    """The plain text a Static panel currently shows."""
    widget = app.main.query_one(selector)
    return str(widget.render())
