"""Faults met mid-show: a part that fails is one line with its fix, the live output goes on, the user's work stays.

Real sessions on the synthetic camera; what breaks is broken for real (a process killed, files removed)."""

from __future__ import annotations

import os
import signal

from livestyle.live.session import LiveConfig, LiveSession
from tests.control_helpers import wait_until
from tests.tui_helpers import make_app, messages, run_async, until

SMALL = dict(width=160, height=96, fps=20.0, denoise=False)


def said(session: LiveSession, needle: str, severity: str | None = None) -> list[str]:
    return [e.message for e in list(session.events) if needle in e.message and severity in (None, e.severity)]


def test_a_killed_trainer_is_one_error_with_the_fix_and_the_train_control_starts_it_again(tiny_style):
    """The trainer process killed mid-training (out of memory, a kill -9): its state stayed "training", so the
    TUI's t paused a dead process (and said so) and OSC /livestyle/train read 1; now it is "stopped", the error
    says how to restart it, and the train control (t, OSC, MIDI: ``resume_training``) starts a new process."""
    cfg = LiveConfig(style=str(tiny_style), outputs="null", train=True, guides=False, **SMALL)
    with LiveSession(cfg) as s:
        assert wait_until(lambda: s.styles.trainer is not None and s.styles.trainer.alive
                          and s.train_stats.get("state") == "training", 120)
        first = s.styles.trainer
        os.kill(first._proc.pid, signal.SIGKILL)
        assert wait_until(lambda: said(s, "died", "error"), 30)
        lines = said(s, "died")
        assert len(lines) == 1 and "save a painting again" in lines[0], lines
        assert s.train_stats.get("state") == "stopped"
        n = s.stats().frames_out
        assert wait_until(lambda: s.stats().frames_out > n + 10)  # the output goes on
        s.resume_training()
        assert s.styles.trainer is not first
        assert wait_until(lambda: s.styles.trainer.alive and s.train_stats.get("state") == "training", 120)


@run_async
async def test_in_the_tui_t_starts_a_killed_trainer_again(tmp_path, tiny_style) -> None:
    app = make_app(tmp_path, tiny_style, train=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.session is not None and app.session.styles.trainer is not None
                    and app.session.train_stats.get("state") == "training", 120)
        first = app.session.styles.trainer
        os.kill(first._proc.pid, signal.SIGKILL)
        await until(pilot, lambda: "died" in messages(app, "error"), 30)
        assert "press t" in messages(app, "error")
        await pilot.press("t")
        await until(pilot, lambda: app.session.styles.trainer is not first and app.session.styles.trainer.alive, 60)
        assert "paused" not in messages(app)
