"""The whole live pipeline in CI: synthetic camera -> style stage -> real pyvirtualcam.Camera (in memory)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from livestyle.cli import main as cli_main
from livestyle.errors import LivestyleError
from livestyle.live import stats as stats_mod
from livestyle.live.session import LiveConfig, LiveSession
from livestyle.live.stats import SlowWatch
from tests.control_helpers import wait_until

from .test_outputs import BACKEND

SMALL = dict(width=160, height=96, fps=20.0)


@pytest.fixture
def trained_style(tiny_style):
    assert cli_main(["train", str(tiny_style), "--iterations", "3"]) == 0
    return tiny_style


def test_pipeline_runs_from_synthetic_source_into_the_real_virtual_camera(trained_style, memcam):
    cfg = LiveConfig(style=str(trained_style), outputs="vcam", vcam_backend=BACKEND, train=False, **SMALL)
    with LiveSession(cfg) as s:
        assert wait_until(lambda: s.stats().stylized >= 5 and memcam.last is not None and len(memcam.last.frames) >= 5)
        st = s.stats()
    cam = memcam.last
    assert cam.closed and (cam.width, cam.height) == (160, 96)
    assert cam.frames[-1].size == 160 * 96 * 3 // 2  # I420
    assert st.stage_ms.get("stylize", 0) > 0 and st.stage_ms.get("guide", 0) > 0
    assert st.sinks == [["vcam memcam0", "on"]]
    assert st.latency_ms["p95"] > 0


def test_keyframe_carry_runs_live_and_can_be_turned_off(trained_style):
    assert LiveConfig().carry == 1.0  # on by default live, as in render
    cfg = LiveConfig(style=str(trained_style), outputs="null", train=False, **SMALL)
    with LiveSession(cfg) as s:
        assert wait_until(lambda: s.stats().stylized >= 3 and "carry" in s.stats().stage_ms)
        assert s.stats().carry == 1.0
        s.set_carry(0.0)
        assert s.stats().carry == 0.0
        with pytest.raises(LivestyleError, match="carry must be between 0"):
            s.set_carry(1.5)
        assert s.stats().frames_out > 0


def test_phase_averaging_runs_live_when_asked(trained_style):
    assert LiveConfig().phases == 1  # one network pass by default live on a CPU (N passes cost N x)
    cfg = LiveConfig(style=str(trained_style), outputs="null", train=False, phases=4, **SMALL)
    with LiveSession(cfg) as s:
        assert wait_until(lambda: s.stats().stylized >= 3)
        assert s.stats().phases == 4
        assert s.stage is not None and s.stage.stylizer is not None and s.stage.stylizer.phases == 4


def test_slow_stage_drops_frames_and_lag_stays_bounded(trained_style, monkeypatch):
    monkeypatch.setattr(stats_mod, "SLOW_WINDOW_S", 1.0)
    cfg = LiveConfig(style=str(trained_style), outputs="null", train=False, width=160, height=96, fps=60.0)
    s = LiveSession(cfg)
    with s:
        real = s.stage.prepare

        def slow(frame):
            time.sleep(0.1)  # 10 fps stage behind a 60 fps camera
            return real(frame)

        monkeypatch.setattr(s.stage, "prepare", slow)
        assert wait_until(lambda: s.stats().stylized >= 15, timeout=40)
        st = s.stats()
        assert wait_until(lambda: any("livestyle calibrate" in e.message for e in s.events), timeout=10)
        slow_notes = [e for e in s.drain_events() if e.message.startswith("stylizing ")]
    assert len(slow_notes) == 1 and slow_notes[0].severity == "warning"  # said once, with the fix
    assert "of the camera's" in slow_notes[0].message
    assert st.drops > 20  # the camera's frames are dropped, not queued
    assert st.repeats > 0  # the sender repeated frames instead of stalling
    # latency is bounded by one stage time plus one camera interval, not growing with the backlog
    assert st.latency_ms["p99"] < 400


def test_slow_watch_says_once_when_the_stylized_rate_stays_below_the_camera():
    w = SlowWatch(share=0.8, window_s=10.0)
    assert all(w.update(t, 30 * t, 30 * t, settled=True) is None for t in range(0, 30))  # keeps up: silent
    # 20 of 30 fps, but training shares the CPU: the window starts again, nothing is said
    assert all(w.update(t, 20 * t, 30 * t, settled=False) is None for t in range(30, 60))
    said = [w.update(t, 20 * t, 30 * t, settled=True) for t in range(60, 75)]
    assert said[:10] == [None] * 10  # not before a whole window of it
    assert said[10] is not None and said[10].startswith("stylizing 20.0 of the camera's 30.0 frames per second")
    assert "livestyle calibrate" in said[10] and "--render-scale" in said[10]
    assert said[11:] == [None] * 4  # once
    w2 = SlowWatch(share=0.8, window_s=10.0)  # a short slow patch inside a window that keeps up: silent
    assert all(w2.update(t, 30 * t - (40 if t >= 5 else 0), 30 * t, settled=True) is None for t in range(0, 12))


def test_weights_hot_swap_mid_stream_changes_the_output(trained_style):
    # no keyframe carry: where the frame matches the keyframe it would blend the painting into the white
    cfg = LiveConfig(style=str(trained_style), outputs="null", train=False, denoise=False, carry=0.0, **SMALL)
    with LiveSession(cfg) as s:
        assert wait_until(lambda: s.stage.stylizer is not None and s.stats().stylized >= 3)
        st = s.stage.stylizer
        frame = s.stage.last_input[0]
        guides = [t.update(frame, None) for t in s.stage._trackers]
        before = st([frame], [guides])[0]
        state = {k: v.clone() for k, v in st.model.state_dict().items()}
        state["to_rgb.weight"] = torch.zeros_like(state["to_rgb.weight"])
        state["to_rgb.bias"] = torch.full_like(state["to_rgb.bias"], 2.0)  # every pixel saturates to white
        for k in ("refine.2.weight", "refine.2.bias"):  # and the per-pixel correction adds nothing
            if k in state:
                state[k] = torch.zeros_like(state[k])
        v0 = st.version
        st.swap(state)
        assert wait_until(lambda: st.version == v0 + 1)
        # white within a level: the output stabiliser's uint8 rounding may hold a pixel at 254
        assert wait_until(lambda: s.out_slot.peek() is not None and s.out_slot.peek().image.min() >= 254)
        assert before.min() < 255


def test_snapshot_then_painting_starts_training_and_changes_the_output(tmp_path):
    style = tmp_path / "live-style"
    cfg = LiveConfig(style=str(style), outputs="null", train=True, guides=False, denoise=False, **SMALL)
    with LiveSession(cfg) as s:
        assert wait_until(lambda: s.stage.last_input is not None)
        assert s.stage.stylizer is None  # nothing painted yet: frames pass through
        name = s.snapshot()
        assert s.stats().keyframes == {name: "waiting"}
        s.auto_style(name, "cartoon")
        assert wait_until(lambda: s.stats().training.get("state") in ("training", "converged", "done"), 60)
        assert wait_until(lambda: s.stage.stylizer is not None, 60)
        n = s.stats().stylized
        assert wait_until(lambda: s.stats().stylized > n + 3)
        out = s.out_slot.peek()
        assert out is not None and np.abs(out.image.astype(int) - out.original).mean() > 2
        assert s.stats().keyframes == {name: "painted"}


def test_auto_style_over_a_painting_keeps_that_painting_and_says_where(tmp_path):
    import cv2

    style = tmp_path / "live-style"
    cfg = LiveConfig(style=str(style), outputs="null", train=False, guides=False, **SMALL)
    with LiveSession(cfg) as s:
        assert wait_until(lambda: s.stage.last_input is not None)
        name = s.snapshot()
        hand = style / "styled" / f"{name}.png"
        cv2.imwrite(str(hand), np.full((96, 160, 3), 90, np.uint8))  # painted by hand
        before = hand.read_bytes()
        s.auto_style(name, "ink")
        said = [e.message for e in s.drain_events() if "auto-styled" in e.message]
        kept = list((style / "replaced").iterdir())
        assert len(kept) == 1 and kept[0].read_bytes() == before
        assert said and str(kept[0]) in said[0]
        assert hand.read_bytes() != before


def test_trainer_failure_is_reported_and_output_continues(tmp_path):
    style = tmp_path / "broken"
    (style / "keys").mkdir(parents=True)
    (style / "styled").mkdir()
    cfg = LiveConfig(style=str(style), outputs="null", train=True, guides=False, **SMALL)
    with LiveSession(cfg) as s:
        assert wait_until(lambda: s.stage.last_input is not None)
        name = s.snapshot()
        (style / "styled" / f"{name}.png").write_bytes(b"not an image")  # a corrupt painting
        assert wait_until(lambda: any("not a readable image" in e.message for e in list(s.events)), 60)
        n = s.stats().frames_out
        assert wait_until(lambda: s.stats().frames_out > n + 10)


def test_a_run_that_ends_while_training_says_no_trainer_died(tiny_style, capsys):
    """Stopping the trainer at the end of a run is not its death: a 3-frame run on a painted, untrained style
    ended with "error: trainer process died (exit code -15)" (close() terminates a trainer still starting)."""
    rc = cli_main(["live", "--style", str(tiny_style), "--source", "synthetic", "--output", "null",
                   "--max-frames", "3", "--width", "96", "--height", "64"])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "training" in err and "died" not in err and "error" not in err, err


def test_a_trainer_that_dies_while_live_is_still_reported(tiny_style):
    import os

    from livestyle.engine.train import TrainConfig
    from livestyle.live.trainer_proc import BackgroundTrainer

    events = []
    trainer = BackgroundTrainer(tiny_style, TrainConfig(guides=()), events.append)
    trainer.start()
    try:
        assert wait_until(lambda: trainer.alive)
        os.kill(trainer._proc.pid, signal.SIGKILL)  # killed from outside (out of memory, a user's kill)
        assert wait_until(lambda: any(e.kind == "died" and "died" in str(e.payload) for e in list(events)), 30)
    finally:
        trainer.close()


def test_training_that_cannot_be_saved_is_one_line_and_live_exits_non_zero(tiny_style, capfd):
    """A folder where model.safetensors belongs: live trains, cannot save when it stops. That was the
    trainer process's traceback and exit 0; now one error line (live went on) and exit 1."""
    (tiny_style / "model.safetensors").mkdir()
    s = LiveSession(LiveConfig(style=str(tiny_style), outputs="null", **SMALL))
    s.start()
    try:
        assert wait_until(lambda: s.styles.train_stats.get("iteration", 0) > 0, 120)  # it learned something
    finally:
        s.close()
    assert len(s.unsaved_models) == 1 and "training not saved" in s.unsaved_models[0], s.unsaved_models
    assert "folder" in s.unsaved_models[0]
    errors = [e.message for e in s.drain_events() if "training not saved" in e.message]
    assert len(errors) == 1 and "\n" not in errors[0], errors
    assert "Traceback" not in capfd.readouterr().err
    assert (tiny_style / "model.safetensors").is_dir()


def test_missing_virtual_camera_driver_is_one_error_and_other_outputs_go_on(trained_style):
    cfg = LiveConfig(style=str(trained_style), outputs="vcam,null", vcam_backend="nonexistent-backend",
                     train=False, **SMALL)
    with LiveSession(cfg) as s:
        errors = [e.message for e in s.drain_events() if e.severity == "error"]
        assert len(errors) == 1 and "virtual camera" in errors[0].lower() or "vcam" in errors[0].lower()
        assert wait_until(lambda: s.stats().frames_out > 10)
        sinks = dict((n, st) for n, st in s.stats().sinks)
        assert sinks["null"] == "on" and any(st.startswith("error") for st in sinks.values())


def test_close_stops_every_thread(trained_style):
    s = LiveSession(LiveConfig(style=str(trained_style), outputs="null", **SMALL))
    s.start()
    assert wait_until(lambda: s.stats().frames_out > 3)
    threads = [s.capture, s.stage, s.sender, s._watch]
    s.close()
    assert not any(t.is_alive() for t in threads)


def test_ctrl_c_ends_live_cleanly(trained_style, tmp_path):
    stats = tmp_path / "stats.json"
    p = subprocess.Popen([sys.executable, "-m", "livestyle", "live", "--style", str(trained_style), "--source",
                          "synthetic", "--output", "null", "--width", "160", "--height", "96",
                          "--stats-json", str(stats), "--no-train"], stderr=subprocess.PIPE, text=True,
                         # a shell's background job ignores SIGINT and so would the child: give it the default
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    seen = []
    for line in p.stderr:  # wait until frames flow, however slow the machine is
        seen.append(line)
        if "livestyle: live:" in line:
            break
    time.sleep(1.0)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=20)
    err = "".join(seen) + err
    assert p.returncode == 130, err
    assert "Traceback" not in err
    assert stats.is_file()


@pytest.mark.parametrize("args, needle", [
    (["--source", "nonsense-source"], "unknown source"),
    (["--output", "bogus"], "valid outputs"),
    (["--width", "16", "--height", "16"], "--width must be a whole number between 32"),
    (["--max-frames", "0"], "--max-frames"),
    (["--render-scale", "2"], "--render-scale must be between 0.25 and 1"),
    (["--steady", "1.5"], "--steady must be between 0 and 0.95"),
    (["--carry", "-0.5"], "--carry must be between 0 and 1"),
    (["--phases", "3"], "--phases must be one of 1, 2, 4"),
])
def test_live_bad_input_is_one_line(tmp_path, capsys, args, needle):
    rc = cli_main(["live", "--style", str(tmp_path / "s"), "--no-train", *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len([line for line in err if line.startswith("livestyle: error")]) == 1, err
    assert needle in "\n".join(err)
