"""SVG snapshots of the screens that matter, with frozen numbers (a fake session, no poll timer).

Update after an intended change with ``pytest tests/test_tui_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
from textual.pilot import Pilot

from livestyle.errors import SourceError
from livestyle.live.session import Event, LiveConfig, SessionStats
from livestyle.outputs import OutFrame
from livestyle.tui.app import LivestyleApp
from livestyle.tui.settings import Settings
from tests.conftest import astronaut, paint

STATS = SessionStats(
    state="running",
    source={"name": "synthetic", "state": "running", "width": 640, "height": 360, "fps": 30.0, "error": ""},
    frames_in=900, frames_out=898, stylized=870, stylized_fps=28.4, output_fps=30.0,
    latency_ms={"p50": 41.0, "p95": 63.5, "p99": 80.2}, drops=12, repeats=28,
    stage_ms={"denoise": 2.1, "segment": 4.2, "guide": 1.3, "stylize": 24.8, "composite": 0.6},
    sinks=[["vcam /dev/video4", "on"], ["record take1.mp4", "on"]],
    training={"state": "training", "iteration": 412, "elapsed": 21.7, "loss": 0.1834, "eval_loss": 0.0912,
              "history": [0.31, 0.22, 0.17, 0.14, 0.12, 0.11, 0.1, 0.095, 0.092], "its_per_s": 19.0,
              "convergence": 0.62, "progress": 0.62, "error": ""},
    model_version=7, keyframes={"000": "painted", "001": "painted", "002": "waiting"},
    masked=True, background="blur", device="cpu (AVX2), fp32",
)


class FrozenSlot:
    def __init__(self, image: np.ndarray) -> None:
        self.frame = OutFrame(image=image)

    def peek(self) -> OutFrame:
        return self.frame


class FakeSession:
    """Duck-types ``LiveSession`` with fixed numbers, so snapshots do not change between runs."""

    fail: str | None = None

    def __init__(self, cfg: LiveConfig) -> None:
        self.cfg = cfg
        self.out_slot = FrozenSlot(astronaut((128, 72)))
        self.events = [Event(0.0, "information", "live: synthetic 640x360@30 -> vcam; cpu (AVX2), fp32")]

    def start(self) -> None:
        if self.fail:
            raise SourceError(self.fail)

    def close(self) -> None:
        pass

    def stats(self) -> SessionStats:
        return STATS

    def drain_events(self) -> list[Event]:
        out, self.events = self.events, []
        return out


class FailingSession(FakeSession):
    fail = "camera 0 did not open (V4L2: busy); close the other app using it, or pick another source with o"


def app_with(factory: Any, styles: Path) -> LivestyleApp:
    """The app on style ``styles/ink``, whose keyframe 001 (highlighted) has its key and painting."""
    style = styles / "ink"
    for sub, image in (("keys", astronaut((128, 72))), ("styled", paint(astronaut((128, 72))))):
        (style / sub).mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(style / sub / "001.png"), image)
    cfg = LiveConfig(style=str(style), source="synthetic", outputs="vcam")
    app = LivestyleApp(cfg, Settings(), None, session_factory=factory, poll_hz=0)
    app.auto_styled["001"] = "oil"
    return app


async def settle(pilot: Pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    pilot.app._select = "001"  # type: ignore[attr-defined]  # highlight the keyframe with thumbnails
    pilot.app.poll()  # type: ignore[attr-defined]
    await pilot.pause(0.2)  # let toasts and the markdown mount
    await pilot.wait_for_scheduled_animations()


async def settle_quiet(pilot: Pilot) -> None:
    await settle(pilot)
    pilot.app.clear_notifications()
    await pilot.pause()


def test_main_screen(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(app_with(FakeSession, tmp_path), terminal_size=(80, 24), run_before=settle_quiet)


def test_main_screen_large(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(app_with(FakeSession, tmp_path), terminal_size=(120, 36), run_before=settle_quiet)


def test_help_screen(snap_compare: Any, tmp_path: Path) -> None:
    async def open_help(pilot: Pilot) -> None:
        await settle_quiet(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.3)
        await pilot.wait_for_scheduled_animations()

    assert snap_compare(app_with(FakeSession, tmp_path), terminal_size=(100, 30), run_before=open_help)


def test_error_notification(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(app_with(FailingSession, tmp_path), terminal_size=(80, 24), run_before=settle)
