"""Small live pieces: auto-styles, compositing, calibration file, doctor, per-preset training defaults."""

from __future__ import annotations

import numpy as np
import pytest

from livestyle.autostyle import STYLES, autostyle
from livestyle.engine.train import TrainConfig
from livestyle.errors import LivestyleError
from livestyle.live.composite import background, blend, person_box

from .conftest import astronaut


@pytest.mark.parametrize("kind", sorted(STYLES))
def test_every_auto_style_keeps_size_and_changes_the_image(kind):
    img = astronaut((128, 96))
    out = autostyle(img, kind)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - img).mean() > 3


def test_unknown_auto_style_is_a_clear_error():
    with pytest.raises(LivestyleError, match="watercolor"):
        autostyle(astronaut(), "crayon")


def test_a_painting_that_is_replaced_is_set_aside_not_overwritten(tmp_path):
    """Auto-style over a painting made by hand (here a .jpg, which would also clash with a new .png of the same
    name): the old file moves, byte for byte, to replaced/; styled/ keeps one painting per keyframe."""
    import cv2

    from livestyle.style import REPLACED_DIR, StyleFolder

    style = StyleFolder(tmp_path / "s").create()
    name = style.snapshot(astronaut((96, 64)))
    cv2.imwrite(str(style.styled_dir / f"{name}.jpg"), autostyle(astronaut((96, 64)), "oil"))
    hand = (style.styled_dir / f"{name}.jpg").read_bytes()
    went = style.set_aside(name)
    style.write_painting(name, autostyle(astronaut((96, 64)), "cartoon"))
    assert [p.parent.name for p in went] == [REPLACED_DIR] and went[0].read_bytes() == hand
    assert sorted(p.name for p in style.styled_dir.iterdir()) == [f"{name}.png"]
    assert style.status() == {name: "painted"} and len(style.load()) == 1
    style.write_painting(name, autostyle(astronaut((96, 64)), "ink"))  # again: the cartoon one is kept too
    assert len(list((style.path / REPLACED_DIR).iterdir())) == 2


def test_a_painting_that_cannot_be_written_puts_the_old_one_back(tmp_path, monkeypatch):
    from livestyle import style as style_mod
    from livestyle.errors import WriteError
    from livestyle.style import StyleFolder

    style = StyleFolder(tmp_path / "s").create()
    name = style.snapshot(astronaut((96, 64)))
    style.write_painting(name, autostyle(astronaut((96, 64)), "oil"))
    before = (style.styled_dir / f"{name}.png").read_bytes()

    def full_disk(path, img):
        raise WriteError(f"{path}: cannot write (no space left on the disk)")

    monkeypatch.setattr(style_mod, "write_image", full_disk)
    with pytest.raises(WriteError):
        style.write_painting(name, autostyle(astronaut((96, 64)), "ink"))
    assert (style.styled_dir / f"{name}.png").read_bytes() == before


def test_a_snapshot_never_replaces_a_keyframe_of_the_same_name(tmp_path):
    from livestyle.errors import StyleError
    from livestyle.style import StyleFolder

    style = StyleFolder(tmp_path / "s").create()
    style.snapshot(astronaut((96, 64)), name="pose")
    before = (style.keys_dir / "pose.png").read_bytes()
    with pytest.raises(StyleError, match="already in"):
        style.snapshot(astronaut((96, 64))[::-1].copy(), name="pose")
    assert (style.keys_dir / "pose.png").read_bytes() == before


def test_person_box_is_snapped_to_the_network_stride_and_inside_the_frame():
    mask = np.zeros((90, 160), np.float32)
    mask[30:60, 50:90] = 1
    y0, y1, x0, x1 = person_box(mask, 16, margin=8)
    assert y0 % 16 == 0 and x0 % 16 == 0 and y1 <= 90 and x1 <= 160
    assert y0 <= 22 and y1 >= 68 and x0 <= 42 and x1 >= 98
    assert person_box(np.zeros((90, 160), np.float32), 16) is None


def test_blend_and_background_modes():
    fg = np.full((4, 4, 3), 200, np.uint8)
    bg = np.zeros((4, 4, 3), np.uint8)
    m = np.zeros((4, 4), np.float32)
    m[:, 2:] = 1
    out = blend(fg, bg, m)
    assert (out[:, :2] == 0).all() and (out[:, 2:] == 200).all()
    frame = astronaut((64, 48))
    assert background(frame, "keep") is frame
    assert (background(frame, "solid") == background(frame, "solid")[0, 0]).all()
    assert background(frame, "blur").std() < frame.std()


def test_training_defaults_follow_the_preset():
    assert (TrainConfig(preset="paper").patch, TrainConfig(preset="paper").batch) == (32, 40)
    fast = TrainConfig(preset="fast")
    assert fast.patch * fast.patch * fast.batch == 32 * 32 * 40
    assert TrainConfig(preset="fast", patch=32, batch=40).patch == 32


def test_calibration_is_saved_and_read_back(tmp_path, monkeypatch):
    from livestyle.cli import calibrate
    from livestyle.live.build import load_calibration

    monkeypatch.setenv("LIVESTYLE_CONFIG_DIR", str(tmp_path))
    assert load_calibration() == {}
    fps, p95 = calibrate.measure_candidate("fast", 160, 96, "fp32", "cpu", 30.0, masked=True, render_scale=0.5,
                                           warmup=0.5, seconds=1.0)
    assert fps > 0 and p95 > 0  # the real pipeline stylized frames, and they reached the output
    order = calibrate.candidates("cpu")
    assert order[0] == ("fast", 1280, 720, 1.0) and order[-1] == ("fast", 480, 270, 0.5)
    assert {c[0] for c in order} == {"fast"}  # on a CPU fast wins at every budget measured
    assert calibrate.candidates("cuda")[0][0] == "quality"
    # equal network work: the bigger output first; more network work before a bigger output
    assert order.index(("fast", 1280, 720, 0.5)) < order.index(("fast", 640, 360, 1.0)) < order.index(("fast", 960, 540, 0.5))
    (tmp_path / "calibration.toml").write_text(
        '[live]\npreset = "fast"\nwidth = 480\nheight = 270\nrender_scale = 0.5\nsteady = 0.0\ncarry = 1.0\nphases = 2\n'
        'net_every = 2\nkey_flow = "coarse"\n')
    assert load_calibration() == {"preset": "fast", "width": 480, "height": 270, "render_scale": 0.5,
                                  "steady": 0.0, "carry": 1.0, "phases": 2, "net_every": 2, "key_flow": "coarse"}
    import argparse

    from livestyle.cli.live import add_arguments, config_from_args
    ap = argparse.ArgumentParser()
    add_arguments(ap)
    cfg = config_from_args(ap.parse_args(["--style", str(tmp_path / "s")]))
    assert (cfg.width, cfg.height, cfg.render_scale, cfg.steady, cfg.carry, cfg.phases, cfg.net_every, cfg.key_flow) == \
        (480, 270, 0.5, 0.0, 1.0, 2, 2, "coarse")  # the saved choice
    assert config_from_args(ap.parse_args(["--style", str(tmp_path / "s"), "--key-flow", "fine"])).key_flow == "fine"
    assert config_from_args(ap.parse_args(["--style", str(tmp_path / "s"), "--net-every", "1"])).net_every == 1
    assert config_from_args(ap.parse_args(["--style", str(tmp_path / "s"), "--steady", "0.5"])).steady == 0.5
    assert config_from_args(ap.parse_args(["--style", str(tmp_path / "s"), "--carry", "0"])).carry == 0.0
    assert config_from_args(ap.parse_args(["--style", str(tmp_path / "s"), "--phases", "1"])).phases == 1
    assert calibrate.STEADY[0] > 0 and calibrate.STEADY[-1] == 0  # the stabiliser on first, then off
    # the network averaged over 4 phases with carry and stabiliser, then 2, then one pass: carry and stabiliser,
    # stabiliser alone, neither (what costs most only where there is headroom)
    s0 = calibrate.STEADY[0]
    with_carry = [(s0, 1.0, 4, 1), (s0, 1.0, 2, 1), (s0, 1.0, 1, 1), (s0, 1.0, 1, 2)]
    rest = [(s0, 0.0, 1, 1, "auto"), (0.0, 0.0, 1, 1, "auto")]  # no carry, no key flow to choose
    assert calibrate._post_options() == [(*o, "fine") for o in with_carry] + rest
    # at a render scale the carry's key flow matters: every carried option with the fine one, then the coarse one
    assert calibrate._post_options(0.5) == [(*o, "fine") for o in with_carry] + [(*o, "coarse") for o in with_carry] + \
        rest
    carried, _ = calibrate.measure_candidate("fast", 160, 96, "fp32", "cpu", 30.0, masked=False, warmup=0.5,
                                             seconds=1.0, carry=1.0, phases=4, net_every=2)
    assert carried > 0
    # every candidate with the carry before any without it (carry off: 2-6 dB; one candidate smaller: less)
    order = calibrate.plan("cpu", ["bf16", "fp32"])
    first_off = next(i for i, (_, _, o) in enumerate(order) if o[1] == 0)
    assert first_off > 0 and all(o[1] == 0 for _, _, o in order[first_off:])
    assert {c for c, _, _ in order[:first_off]} == set(calibrate.candidates("cpu"))
    assert order[0] == (("fast", 1280, 720, 1.0), "bf16", with_carry[0] + ("fine",))
    coarse, _ = calibrate.measure_candidate("fast", 160, 96, "fp32", "cpu", 30.0, masked=False, render_scale=0.5,
                                            warmup=0.5, seconds=1.0, carry=1.0, key_flow="coarse")
    assert coarse > 0
    (tmp_path / "calibration.toml").write_text('[live]\nkey_flow = "medium"\n')
    with pytest.raises(LivestyleError, match="key key_flow must be one of auto, fine, coarse"):
        load_calibration()


def test_doctor_reports_each_check_with_a_fix(capsys):
    from livestyle.cli import main

    rc = main(["doctor"])
    out = capsys.readouterr().out
    for name in ("camera", "virtual camera", "gpu", "cpu", "segmentation", "prior", "display"):
        assert name in out
    assert "Traceback" not in out
    if "[!!] virtual camera" in out:
        assert "modprobe v4l2loopback" in out or "OBS" in out
    assert rc in (0, 1)


def test_doctor_says_which_network_runtime_and_the_fix_when_openvino_is_missing(monkeypatch):
    from livestyle.cli import doctor
    from livestyle.engine import runtime

    monkeypatch.setattr(doctor.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(doctor.platform, "system", lambda: "Linux")
    if runtime.openvino_available():
        ok, msg = doctor._runtime()
        assert ok and "OpenVINO" in msg and "int8" in msg
    monkeypatch.setattr(runtime, "openvino_available", lambda: False)
    ok, msg = doctor._runtime()  # a dependency on x86-64: missing is a problem, with its fix
    assert not ok and "pip install openvino onnx" in msg
    monkeypatch.setattr(doctor.platform, "machine", lambda: "aarch64")
    ok, msg = doctor._runtime()  # elsewhere PyTorch is the runtime, and fine
    assert ok and "PyTorch" in msg


def _stage(scale: float, change: float):
    """A style stage whose network adds ``change`` (in [-1, 1] units) to every pixel."""
    import threading

    import torch

    from livestyle.engine.device import pick
    from livestyle.engine.infer import Stylizer
    from livestyle.engine.model import build
    from livestyle.live.slot import LatestSlot
    from livestyle.live.stage import StageSettings, StyleStage

    net = build("fast", 3).eval()
    with torch.no_grad():
        for p in net.to_rgb.parameters():
            p.zero_()
        net.to_rgb.bias.fill_(change)  # residual preset: output = input + change
    stage = StyleStage(LatestSlot(), LatestSlot(), threading.Event(), StageSettings(), scale=scale)
    stage.set_model(Stylizer(net, pick("cpu", "fp32")))
    return stage


def test_render_scale_keeps_full_resolution_detail_and_applies_the_change():
    frame = astronaut((160, 96))
    same = _stage(0.5, 0.0).process(frame)
    assert same.shape == frame.shape
    assert np.abs(same.astype(int) - frame).max() <= 1  # no blur: the frame's own detail is kept
    brighter = _stage(0.5, 40 / 127.5).process(frame)  # +40 grey levels, computed at half size
    diff = brighter.astype(int) - frame
    inside = frame < 180  # away from saturation (which the half-size change spreads a little)
    assert np.median(diff[inside]) == 40 and np.percentile(np.abs(diff[inside] - 40), 99) <= 2


def test_render_scale_carries_the_painting_at_full_size():
    """At render scale 0.5 the keyframe carry works on the camera's frame: a painting's 1-pixel detail,
    which the half-size network cannot make, is in the output wherever the carry is trusted."""
    from livestyle.live.keyed import keyed_from
    from livestyle.style import Keyframe

    frame = astronaut((160, 96))
    checker = (np.indices(frame.shape[:2]).sum(axis=0) % 2 * 60 - 30)[..., None]  # +-30 on alternate pixels
    painting = np.clip(frame.astype(int) + checker, 0, 255).astype(np.uint8)
    stage = _stage(0.5, 0.0)  # a network that changes nothing
    stage.set_keyed(keyed_from([Keyframe("000", frame, painting, None)], (), (160, 96), 0.5))
    for _ in range(3):  # the camera holds still on the keyframe
        out = stage.process(frame)
    inner = (slice(8, -8), slice(8, -8))  # the carry trusts nothing at the frame's edge
    assert np.abs(out[inner].astype(int) - painting[inner]).mean() < 3
    assert np.abs(out[inner].astype(int) - frame[inner]).mean() > 20  # the checkerboard is there


def test_render_scale_out_of_range_is_refused():
    with pytest.raises(ValueError, match="render scale"):
        _stage(1.5, 0.0)


def test_network_box_holds_still_while_the_person_moves_inside_it():
    stage = _stage(1.0, 0.0)
    first = stage._steady_box((32, 320, 96, 352))
    assert stage._steady_box((64, 320, 128, 352)) == first  # inside, at most 64 px smaller: same shape
    assert stage._steady_box((32, 352, 96, 352)) == (32, 352, 96, 352)  # it left the box: follow it
    assert stage._steady_box((64, 160, 128, 224)) == (64, 160, 128, 224)  # much smaller: shrink
    assert stage._steady_box(None) is None


def test_style_stage_steadies_its_output_and_can_turn_it_off():
    rng = np.random.default_rng(0)
    clean = astronaut((160, 96))
    frames = [np.clip(clean + rng.normal(0, 6, clean.shape), 0, 255).astype(np.uint8) for _ in range(8)]

    def flicker(stage) -> float:
        outs = [stage.process(f) for f in frames]
        return float(np.mean([np.abs(a.astype(float) - b).mean() for a, b in zip(outs[3:], outs[4:], strict=False)]))

    raw = _stage(1.0, 0.0)
    raw.settings.steady = 0.0
    steady = _stage(1.0, 0.0)  # no denoiser here: the stage computes the flow itself
    assert steady.settings.steady > 0
    assert flicker(steady) < 0.7 * flicker(raw)


def test_style_stage_carries_the_painting_where_the_frame_shows_the_key():
    from livestyle.live.keyed import Keyed
    from livestyle.temporal import CarryKey, KeyCarry

    from .conftest import paint

    key = astronaut((384, 256))  # live carries at half size: give its flow something to see
    painting = paint(key)
    frame = np.roll(key, (3, -4), axis=(0, 1))  # the person moved a little
    truth = np.roll(painting, (3, -4), axis=(0, 1))
    stage = _stage(1.0, 0.0)  # a network that returns its input
    stage.settings.steady, stage.settings.carry = 0.0, 1.0
    stage.set_keyed(Keyed([], KeyCarry.live([CarryKey(key, painting)])))
    stage.offline = True  # the carry on a fixed schedule (live.carrying): on 2-3 cores it lands a frame late
    c = (slice(16, -16), slice(16, -16))
    err = lambda out: float(np.abs(out[c].astype(np.float32) - truth[c]).mean())  # noqa: E731
    stage.process(frame)
    carried = stage.process(frame)
    assert err(carried) < 0.5 * err(frame)  # at half size a sub-pixel shift blurs the photo check a little
    assert "carry" in stage.timer.snapshot()
    stage.settings.carry = 0.0
    assert np.abs(stage.process(frame).astype(int) - frame).max() <= 1  # off: the network's output as it is


def test_the_share_of_the_frames_fine_detail_a_painting_keeps():
    """At a render scale, the frame's own fine detail is added back in the share the keyframe's painting keeps it:
    all of it for a colour grade, about half for a half-contrast copy, none for a painting that smooths it away."""
    import cv2

    from livestyle.live.upscale import kept_detail

    photo = astronaut((192, 128))
    work = (96, 64)
    grade = cv2.convertScaleAbs(photo, alpha=1.0, beta=20)
    half = cv2.convertScaleAbs(photo, alpha=0.5, beta=64)
    smooth = cv2.GaussianBlur(photo, (0, 0), 3.0)  # a painting that smooths the fine detail away
    assert np.all(kept_detail(photo, grade, None, work) > 0.9)
    assert np.allclose(kept_detail(photo, half, None, work), 0.5, atol=0.05)
    assert np.all(kept_detail(photo, smooth, None, work) < 0.1)
    mask = np.zeros((128, 192), np.uint8)
    mask[:, :96] = 255  # only the left half is painted (a colour grade); the right half is anything
    mixed = np.concatenate([grade[:, :96], smooth[:, 96:]], axis=1)
    assert np.all(kept_detail(photo, mixed, mask, work) > 0.85)


def test_at_a_render_scale_the_untrusted_frame_gets_the_detail_its_painting_keeps():
    """``to_full_size`` where the carry trusts nothing: the work-size result upsampled plus the frame's fine detail
    times the keyframe's kept share (0: the plain upsampled result; 1: what adding the change to the frame gives)."""
    import cv2

    from livestyle.live.upscale import to_full_size
    from livestyle.temporal import CarryKey, KeyCarry
    from livestyle.temporal.carry import Carried

    full = astronaut((192, 128))
    img = cv2.resize(full, (96, 64), interpolation=cv2.INTER_AREA)
    styled = cv2.convertScaleAbs(img, alpha=0.8, beta=30)
    carrier = KeyCarry([CarryKey(full, full)])
    carried = Carried(img, np.zeros((64, 96), np.float32), 0, np.zeros((64, 96, 2), np.float32))
    up = cv2.resize(styled, (192, 128), interpolation=cv2.INTER_LINEAR)
    residual, _, _ = to_full_size(full, img, styled, None, None, True)
    change = cv2.resize(cv2.subtract(styled, img, dtype=cv2.CV_16S), (192, 128), interpolation=cv2.INTER_LINEAR)
    assert np.abs(residual.astype(int) - cv2.add(full, change, dtype=cv2.CV_8U)).max() <= 1  # as before: all of it
    low = cv2.resize(img, (192, 128), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    for keep in (0.0, 0.3, 1.0):
        carrier.kept_detail = [np.array([keep, keep / 2 if keep < 1 else keep, keep], np.float32)]
        out, _, _ = to_full_size(full, img, styled, None, None, True, carrier, carried, 1.0)
        want = up + carrier.kept_detail[0] * (full.astype(np.float32) - low)
        assert np.abs(out.astype(int) - np.clip(want, 0, 255)).max() <= 2, keep
    assert np.abs(out.astype(int) - residual).max() <= 2  # keep 1 is what adding the change gave
    assert np.abs(residual.astype(int) - up).mean() > 2  # the two differ: the frame's detail is real


def test_at_a_render_scale_the_trusted_frame_gets_the_carried_painting_itself():
    """``to_full_size`` where the carry is trusted: ``t P + (1 - t) base``, P the painting carried at full size
    (not pulled towards the work-size result), base what an untrusted frame gets."""
    import cv2

    from livestyle.live.upscale import to_full_size
    from livestyle.temporal import CarryKey, KeyCarry
    from livestyle.temporal.carry import Carried

    full = astronaut((192, 128))
    img = cv2.resize(full, (96, 64), interpolation=cv2.INTER_AREA)
    painting = cv2.bitwise_not(full)  # far from anything the network gives
    styled = cv2.convertScaleAbs(img, alpha=0.8, beta=30)
    carrier = KeyCarry([CarryKey(full, painting)])
    for trust in (0.0, 0.4, 1.0):
        carried = Carried(cv2.resize(painting, (96, 64), interpolation=cv2.INTER_AREA), np.full((64, 96), trust, np.float32),
                          0, np.zeros((64, 96, 2), np.float32))
        base, _, _ = to_full_size(full, img, styled, None, None, True)
        out, _, _ = to_full_size(full, img, styled, None, None, True, carrier, carried, 1.0)
        p = carrier.painting_at(carried, (128, 192))
        want = trust * p.astype(np.float32) + (1 - trust) * base
        assert np.abs(out.astype(np.float32) - want).max() <= 1.5, trust
    inner = (slice(2, -2), slice(2, -2))  # the sampling map is extrapolated at the frame's edge
    assert np.abs(out[inner].astype(int) - painting[inner]).max() <= 1  # trusted: the painting itself, detail and all

