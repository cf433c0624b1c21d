"""``livestyle render --live``: the clip goes through the live stage's own per-frame function, with live's
options and live's defaults (never a calibration file that is not there)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from livestyle.cli import main
from livestyle.live.build import GPU_PHASES, calibration_path, live_defaults
from livestyle.live.config import LiveConfig
from livestyle.live.stage import StyleStage

from .test_cli import assert_one_line_error


@pytest.fixture
def trained(tiny_style):
    (tiny_style / "keys" / "000.png").rename(tiny_style / "keys" / "snap-1.png")  # a live-made name, not an index
    (tiny_style / "styled" / "000.png").rename(tiny_style / "styled" / "snap-1.png")
    assert main(["train", str(tiny_style), "--iterations", "4"]) == 0  # with the blob guide, as live trains
    return tiny_style


def read_all(folder, names):
    return [cv2.imread(str(folder / n)) for n in names]


def test_render_live_writes_what_the_live_stage_returns_frame_by_frame(trained, tiny_clip, tmp_path, monkeypatch):
    calls: list[tuple[np.ndarray, np.ndarray]] = []
    real = StyleStage.process

    def spy(self, frame):
        out = real(self, frame)
        calls.append((frame.copy(), out.copy()))
        return out

    monkeypatch.setattr(StyleStage, "process", spy)
    out = tmp_path / "out"
    assert main(["render", str(trained), str(tiny_clip), str(out), "--live", "--carry", "1"]) == 0
    names = sorted(p.name for p in tiny_clip.iterdir())
    assert sorted(p.name for p in out.iterdir()) == names
    assert len(calls) == len(names)  # every frame, once, in order, through the live stage
    for (seen, returned), src, written in zip(calls, read_all(tiny_clip, names), read_all(out, names), strict=True):
        assert np.array_equal(seen, src)
        assert np.array_equal(written, returned)
    assert not np.array_equal(calls[2][1], calls[2][0])  # and the stage really stylized


def test_render_live_honours_the_live_flags(trained, tiny_clip, tmp_path):
    names = sorted(p.name for p in tiny_clip.iterdir())
    plain = ["--steady", "0", "--carry", "0", "--phases", "1"]  # (on a GPU live averages 4 phases by default)
    runs = {"plain": plain, "carry": ["--steady", "0", "--phases", "1"],  # the keyframe carry is on by default
            "phases": [*plain, "--phases", "4"], "steady": ["--carry", "0", "--phases", "1"], "half": [*plain, "--render-scale", "0.5"],
            "net2": [*plain, "--net-every", "2"], "half-net2": [*plain, "--render-scale", "0.5", "--net-every", "3"],
            "half-carry": ["--steady", "0", "--phases", "1", "--render-scale", "0.5", "--key-flow", "fine"],
            "half-carry-coarse": ["--steady", "0", "--phases", "1", "--render-scale", "0.5", "--key-flow", "coarse"]}
    got = {}
    for label, flags in runs.items():
        assert main(["render", str(trained), str(tiny_clip), str(tmp_path / label), "--live", *flags]) == 0
        got[label] = read_all(tmp_path / label, names)
    src = read_all(tiny_clip, names)
    for label in runs:
        assert all(o.shape == s.shape for o, s in zip(got[label], src, strict=True)), label
        if label != "plain":
            assert any(not np.array_equal(a, b) for a, b in zip(got[label][1:], got["plain"][1:], strict=True)), label
    assert np.array_equal(got["steady"][0], got["plain"][0])  # the stabiliser has no past at frame 0
    # the carry's key flow at a render scale: fine or coarse as asked
    assert any(not np.array_equal(a, b) for a, b in zip(got["half-carry"][1:], got["half-carry-coarse"][1:], strict=True))


@pytest.mark.parametrize("every", ["1", "2"])
def test_render_live_masked_keeps_the_background_as_it_was(trained, tiny_clip, tmp_path, every):
    out = tmp_path / "masked"
    assert main(["render", str(trained), str(tiny_clip), str(out), "--live", "--masked", "--no-denoise",
                 "--steady", "0", "--net-every", every]) == 0
    names = sorted(p.name for p in tiny_clip.iterdir())
    for o, s in zip(read_all(out, names), read_all(tiny_clip, names), strict=True):
        same = np.all(o == s, axis=2)
        assert 0.02 < same.mean() < 0.98  # the person is stylized, the rest of the frame is the input as it was


def test_live_defaults_without_a_calibration_file_are_the_built_in_ones(trained, tiny_clip, tmp_path, capsys):
    assert not calibration_path().exists()  # conftest: an empty config folder
    base = LiveConfig()
    phases = GPU_PHASES if torch.cuda.is_available() else base.phases  # a GPU averages 4 phases by default
    d = live_defaults()
    assert (d["steady"], d["carry"], d["phases"], d["render_scale"], d["net_every"]) == \
        (base.steady, base.carry, phases, base.render_scale, base.net_every)
    assert main(["render", str(trained), str(tiny_clip), str(tmp_path / "a"), "--live"]) == 0
    assert f"carry {base.carry:g}, phases {phases}" in capsys.readouterr().err
    calibration_path().parent.mkdir(parents=True, exist_ok=True)
    calibration_path().write_text('[live]\ncarry = 1.0\nphases = 2\n')
    assert main(["render", str(trained), str(tiny_clip), str(tmp_path / "b"), "--live"]) == 0
    assert "carry 1, phases 2" in capsys.readouterr().err  # what `livestyle live` would use here


def test_live_only_flags_and_bad_values_are_one_line_errors(trained, tiny_clip, tmp_path, capsys):
    o = str(tmp_path / "o")
    assert_one_line_error(capsys, ["render", str(trained), str(tiny_clip), o, "--masked"], "only applies with --live")
    assert_one_line_error(capsys, ["render", str(trained), str(tiny_clip), o, "--live", "--render-scale", "2"],
                          "--render-scale must be between")
    assert_one_line_error(capsys, ["render", str(trained), str(tiny_clip), o, "--live", "--phases", "3"],
                          "--phases must be one of")
    assert_one_line_error(capsys, ["render", str(trained), str(tiny_clip), o, "--live", "--net-every", "9"],
                          "--net-every must be")
    assert_one_line_error(capsys, ["render", str(trained), str(tiny_clip), o, "--net-every", "2"], "only applies with --live")
    assert_one_line_error(capsys, ["render", str(trained), str(tiny_clip), o, "--key-flow", "coarse"],
                          "only applies with --live")
    with pytest.raises(SystemExit) as e:  # a choice: argparse names the flag and the choices
        main(["render", str(trained), str(tiny_clip), o, "--live", "--key-flow", "exact"])
    assert e.value.code == 2 and "--key-flow: invalid choice: 'exact' (choose from" in capsys.readouterr().err
    assert_one_line_error(capsys, ["render", str(trained), str(tiny_clip), o, "--live", "--max-frames", "0"],
                          "--max-frames must be a whole number of at least 1")
    assert not (tmp_path / "o").exists()


def test_render_live_never_writes_into_its_input(trained, tiny_clip, capsys):
    before = {p.name: p.read_bytes() for p in tiny_clip.iterdir()}
    assert_one_line_error(capsys, ["render", str(trained), str(tiny_clip), str(tiny_clip), "--live"], "the output is the input")
    assert_one_line_error(capsys, ["render", str(trained), str(tiny_clip), str(tiny_clip / "out"), "--live"], "input")
    assert {p.name: p.read_bytes() for p in tiny_clip.iterdir()} == before


def test_the_carry_turned_back_on_starts_with_a_fresh_result(trained, tiny_clip, monkeypatch):
    """Off for a while (``settings.carry`` 0, the TUI's key), then on again: the first frame gets a fresh key
    flow, not the result of a frame from before it went off, moved by one frame's flow."""
    import livestyle.temporal.carry as carry_mod
    from livestyle.capture import Frame
    from livestyle.live.replay import LiveReplay

    monkeypatch.setattr(carry_mod, "CARRY_EVERY_LIVE", 2)
    frames = [cv2.imread(str(p)) for p in sorted(tiny_clip.iterdir())]
    frames += frames[-2::-1]  # on and back: 9 frames
    h, w = frames[0].shape[:2]
    with LiveReplay.from_style(trained, LiveConfig(), (w, h)) as replay:
        stage, plans = replay.stage, []
        for t, f in enumerate(frames[:7]):
            stage.settings.carry = 0.0 if t in (3, 4) else 1.0
            job = stage.prepare(Frame(f, float(t), t))
            plans.append(None if job.ahead is None else job.ahead.due)
            stage.finish(job)
    assert plans == [True, False, True, None, None, True, False]
