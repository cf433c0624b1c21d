"""Faults met mid-show: a part that fails is one line with its fix, the live output goes on, the user's work stays.

Real sessions on the synthetic camera; what breaks is broken for real (a process killed, files removed)."""

from __future__ import annotations

import os
import shutil
import signal

import pytest

from livestyle.cli import main as cli_main
from livestyle.live.session import LiveConfig, LiveSession
from tests.control_helpers import wait_until
from tests.tui_helpers import make_app, messages, run_async, until

SMALL = dict(width=160, height=96, fps=20.0, denoise=False)


@pytest.fixture
def trained_style_small(tiny_style):
    assert cli_main(["train", str(tiny_style), "--iterations", "2", "--no-guides"]) == 0
    return tiny_style


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


def _trained(style):
    assert cli_main(["train", str(style), "--iterations", "3"]) == 0  # with the blob guide, as live trains
    return style


def test_a_painting_broken_or_a_keyframe_deleted_mid_show_keeps_the_style_on_with_one_line_each(tiny_style):
    """The folder watcher rebuilt the guide trackers from a folder it could not read: none were left, the guided
    network got 3 channels instead of 6, every frame failed ("stylize failed" every 10 s, the camera shown bare),
    OpenVINO turned itself off for the rest of the run, and the trainer was restarted to say the error again."""
    style = _trained(tiny_style)
    painting = (style / "styled" / "000.png").read_bytes()
    key = (style / "keys" / "000.png").read_bytes()
    cfg = LiveConfig(style=str(style), outputs="null", train=True, **SMALL)
    with LiveSession(cfg) as s:
        model = s.stage.stylizer
        assert model is not None and wait_until(lambda: s.stats().stylized >= 3)
        (style / "styled" / "000.png").write_bytes(b"not an image")  # an editor that crashed mid-save
        assert wait_until(lambda: said(s, "not a readable image"), 30)
        n = s.stage.processed
        assert wait_until(lambda: s.stage.processed > n + 20)
        (style / "styled" / "000.png").write_bytes(painting)
        (style / "keys" / "000.png").unlink()  # the keyframe deleted by hand
        assert wait_until(lambda: said(s, "painting without its keyframe"), 30)
        n = s.stage.processed
        assert wait_until(lambda: s.stage.processed > n + 20)
        assert s.stage.stylizer is model and s.stage.errors == 0 and not said(s, "stylize failed")
        assert s.styles.trainer is None and s.train_stats.get("state") == "idle"  # nothing new to learn from
        for needle in ("not a readable image", "painting without its keyframe"):
            lines = said(s, needle, "error")
            assert len(lines) == 1 and "goes on with the keyframes it had" in lines[0], lines
        (style / "keys" / "000.png").write_bytes(key)  # put back: read again, training starts on it
        assert wait_until(lambda: s.styles.trainer is not None, 30)
        assert not s.styles.entries[0].unreadable


def test_a_guided_style_whose_keyframes_cannot_be_read_at_start_passes_the_camera_through_until_they_can(tiny_style):
    style = _trained(tiny_style)
    painting = (style / "styled" / "000.png").read_bytes()
    (style / "styled" / "000.png").write_bytes(b"not an image")
    cfg = LiveConfig(style=str(style), outputs="null", train=False, **SMALL)
    with LiveSession(cfg) as s:
        n = s.stage.processed
        assert wait_until(lambda: s.stage.processed > n + 20)
        assert s.stage.stylizer is None and s.stage.errors == 0 and not said(s, "stylize failed")
        assert len(said(s, "not a readable image", "error")) == 1
        (style / "styled" / "000.png").write_bytes(painting)
        assert wait_until(lambda: s.stage.stylizer is not None, 30)
        n = s.stage.processed
        assert wait_until(lambda: s.stage.processed > n + 10) and s.stage.errors == 0


def test_a_trainer_closed_before_its_process_started_closes_quietly_and_never_starts(tiny_style):
    """The session ending (q, Ctrl-C) while the watcher starts a trainer: close() came before the spawn and
    raised "can only join a started process" out of the session's close."""
    from livestyle.engine.train import TrainConfig
    from livestyle.live.trainer_proc import BackgroundTrainer

    trainer = BackgroundTrainer(tiny_style, TrainConfig(guides=()), lambda ev: None)
    trainer.close()
    trainer.start()  # the start that lost the race
    assert not trainer.alive and trainer._proc.pid is None
    trainer.close()


def test_a_recording_whose_folder_is_removed_mid_run_is_one_line(trained_style_small, tmp_path, capsys):
    """The sender logged each output failure and also handed it to the session: `live` printed it twice
    (a warning and an error line for a recording that could not be finished)."""
    from livestyle.cli import log_as_our_lines

    log_as_our_lines()
    folder = tmp_path / "takes"
    folder.mkdir()
    cfg = LiveConfig(style=str(trained_style_small), outputs=f"record:{folder / 'take.mp4'},null", train=False,
                     **SMALL)
    with LiveSession(cfg) as s:
        assert wait_until(lambda: s.stats().frames_out >= 10)
        shutil.rmtree(folder)
    lines = said(s, "take.mp4", "error")
    assert len(lines) == 1 and s.failed_recordings, lines
    assert "take.mp4" not in capsys.readouterr().err  # nothing printed beside the event


def _clip(path, frames: int = 40) -> None:
    import cv2
    import numpy as np

    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 20.0, (160, 96))
    for i in range(frames):
        img = np.full((96, 160, 3), 40, np.uint8)
        cv2.circle(img, (20 + 3 * i, 48), 16, (0, 200, 255), -1)
        w.write(img)
    w.release()


def test_a_video_source_deleted_while_playing_is_one_warning_with_the_fix_and_back_when_it_returns(tmp_path):
    """It was three warnings (the last two "read failed: AssertionError: ", the source's own assert) and then
    silence while the capture reopened a file that was gone."""
    clip = tmp_path / "clip.mp4"
    _clip(clip)
    keep = clip.read_bytes()
    cfg = LiveConfig(source=str(clip), outputs="null", train=False, **SMALL)
    with LiveSession(cfg) as s:
        assert wait_until(lambda: s.stats().frames_in >= 5)
        clip.unlink()
        assert wait_until(lambda: said(s, "lost"), 30)  # at the loop, when it opens the file again
        n = s.stats().frames_out
        assert wait_until(lambda: s.stats().frames_out > n + 10)  # the output holds the last frame
        clip.write_bytes(keep)
        assert wait_until(lambda: said(s, "is back"), 30)
    lost = said(s, "lost", "warning")
    assert len(lost) == 1 and "put the file back" in lost[0] and "AssertionError" not in lost[0], lost
    assert not [e for e in s.events if "AssertionError" in e.message]


@pytest.fixture
def osc_live(trained_style_small):
    pytest.importorskip("pythonosc")
    from pythonosc.udp_client import SimpleUDPClient

    cfg = LiveConfig(style=str(trained_style_small), outputs="null", train=False, osc="127.0.0.1:0", **SMALL)
    with LiveSession(cfg) as s:
        server = s.surfaces[0]
        yield s, SimpleUDPClient("127.0.0.1", server.port), server


def test_an_osc_flood_of_different_bad_messages_is_a_few_lines_and_a_count(osc_live):
    """Only a repeat of the same bad line was held back: 300 different ones were 300 lines on the terminal
    (200 notifications in the TUI)."""
    import time

    from livestyle.control.osc import MAX_EVENTS, QUIET_S

    s, client, server = osc_live
    for i in range(300):
        client.send_message(f"/livestyle/nothing{i}", 1)
    seen = [-1]

    def settled() -> bool:  # UDP may drop some of a flood: wait until no more arrive
        seen[0], before = server.errors, seen[0]
        return server.errors == before

    assert wait_until(settled, step=0.5) and server.errors >= 50
    lines = said(s, "OSC from")
    assert MAX_EVENTS <= len(lines) < 30, lines  # every one was answered; a few were shown
    time.sleep(QUIET_S + 0.2)  # the window passes: the next bad message is shown, with the count of the held
    client.send_message("/livestyle/strength", "loud")
    assert wait_until(lambda: said(s, "more bad messages"))
    n = s.stats().frames_out
    assert wait_until(lambda: s.stats().frames_out > n + 10)


def test_a_multi_line_exception_from_a_control_is_one_line(osc_live, monkeypatch):
    s, client, server = osc_live

    def broken(on: bool) -> None:
        raise RuntimeError("\n        An attempt has been made\n        to do something\n")

    monkeypatch.setattr(s, "set_masked", broken)
    client.send_message("/livestyle/masked", 1)
    assert wait_until(lambda: said(s, "An attempt"))
    assert said(s, "An attempt") == ["OSC: RuntimeError: An attempt has been made"]


def test_the_style_folder_renamed_mid_show_is_one_warning_and_the_style_stays_on(trained_style_small):
    """It was silence: the output went on, but nothing said that new paintings and training had nowhere to go."""
    cfg = LiveConfig(style=str(trained_style_small), outputs="null", train=False, guides=False, **SMALL)
    with LiveSession(cfg) as s:
        model = s.stage.stylizer
        assert wait_until(lambda: s.stats().stylized >= 3)
        moved = trained_style_small.with_name("moved")
        trained_style_small.rename(moved)
        assert wait_until(lambda: said(s, "is gone", "warning"), 30)
        n = s.stage.processed
        assert wait_until(lambda: s.stage.processed > n + 20)
        assert s.stage.stylizer is model and s.stage.errors == 0
        assert len(said(s, "is gone")) == 1
        moved.rename(trained_style_small)  # put back: watched again
        assert wait_until(lambda: not s.styles.entries[0].gone, 30)
