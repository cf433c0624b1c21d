"""Big frames are carried at half size (``live.carrying.REDUCE_ABOVE``): the key flow with the finer preset on the
half-size copy, the checks there, and the painting itself at full size."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from livestyle.capture.synthclip import homography_clip, homography_flow, load_photo
from livestyle.live import carrying
from livestyle.live.carrying import CarryRunner
from livestyle.live.stats import StageTimer
from livestyle.live.upscale import to_full_size
from livestyle.temporal import CarryKey, KeyCarry

from .conftest import paint
from .test_carrying import interior, run, run_planned

SIZE = (160, 120)


@pytest.fixture(scope="module")
def clip():
    c = homography_clip(load_photo("coffee"), 48, SIZE, seed=1, motion="mixed")
    frames, hs = c.frames[::4], c.homographies[::4]
    flows = [None] + [homography_flow(hs[t - 1] @ np.linalg.inv(hs[t]), SIZE) for t in range(1, len(frames))]
    return frames, flows, [paint(f) for f in frames]


@pytest.fixture
def reduce(monkeypatch):
    monkeypatch.setattr(carrying, "REDUCE_ABOVE", 100 * 80)  # 160x120 frames are "big": carried at 80x60


def spied(carrier: KeyCarry) -> list[tuple[tuple[int, ...], str]]:
    """Record the size of each frame the key flow ran on and the preset it ran with."""
    seen: list[tuple[tuple[int, ...], str]] = []
    key_flow = carrier.key_flow

    def spy(frame, key, dis=None):
        seen.append((frame.shape[:2], (dis or carrier.flow).preset))
        return key_flow(frame, key, dis)

    carrier.key_flow = spy  # type: ignore[method-assign]
    return seen


@pytest.mark.parametrize("lag", [0, 1])
def test_a_big_frame_is_carried_at_half_size_with_the_finer_key_flow(clip, reduce, lag):
    frames, flows, truth = clip
    carrier = KeyCarry.live([CarryKey(frames[0], truth[0])])
    assert carrier.flow.preset == "medium-r2"
    seen = spied(carrier)
    runner = CarryRunner(StageTimer(), every=2, lag=lag)
    got = run_planned(runner, carrier, frames, flows)[0] if lag == 0 else run(runner, carrier, frames, flows)
    assert seen and all(s == ((60, 80), "fine-r2") for s in seen)
    assert runner.state is not None and runner.state.trust.shape == (60, 80)  # its own state is at half size
    full = [g for g in got if g is not None]
    assert len(full) >= len(frames) - 1
    for t, g in enumerate(got):
        if g is None:
            continue
        painting, trust = g
        assert painting.shape == frames[t].shape and trust.shape == frames[t].shape[:2]  # given back at full size
        assert interior(painting, truth[t]) < 0.7 * interior(frames[t], truth[t]), t  # it lands where the truth is


def test_the_painting_keeps_its_full_size_detail(clip, reduce):
    """On a still camera the carried painting is the key's painting itself, not its half-size copy upsampled."""
    frames, _, truth = clip
    still = [frames[0]] * 4
    zero = np.zeros((*frames[0].shape[:2], 2), np.float32)
    got = run_planned(CarryRunner(StageTimer(), every=2, lag=0), KeyCarry.live([CarryKey(frames[0], truth[0])]),
                      still, [None] + [zero] * 3)[0]
    h, w = truth[0].shape[:2]
    blurred = cv2.resize(cv2.resize(truth[0], (w // 2, h // 2), interpolation=cv2.INTER_AREA), (w, h))
    for g in got:
        assert g is not None
        painting, trust = g
        assert interior(painting, truth[0]) < 0.25 * interior(blurred, truth[0])
        assert float(trust[16:-16, 16:-16].mean()) > 0.9


def test_the_half_size_carry_follows_the_full_size_one(clip, reduce, monkeypatch):
    frames, flows, truth = clip
    small = run_planned(CarryRunner(StageTimer(), every=2, lag=0), KeyCarry.live([CarryKey(frames[0], truth[0])]),
                        frames, flows)[0]
    monkeypatch.setattr(carrying, "REDUCE_ABOVE", 10**9)
    full = run_planned(CarryRunner(StageTimer(), every=2, lag=0), KeyCarry.live([CarryKey(frames[0], truth[0])]),
                       frames, flows)[0]
    for t, (a, b) in enumerate(zip(small, full, strict=True)):
        assert a is not None and b is not None
        assert interior(a[0], truth[t]) < 1.25 * interior(b[0], truth[t]) + 1.0, t
        assert abs(float(a[1].mean()) - float(b[1].mean())) < 0.1, t


def test_frames_at_or_below_the_limit_and_other_presets_are_carried_as_they_are(clip, monkeypatch):
    frames, flows, truth = clip
    monkeypatch.setattr(carrying, "REDUCE_ABOVE", 160 * 120)
    carrier = KeyCarry.live([CarryKey(frames[0], truth[0])])
    seen = spied(carrier)
    run_planned(CarryRunner(StageTimer(), every=2, lag=0), carrier, frames[:4], flows[:4])
    assert seen and all(s == ((120, 160), "medium-r2") for s in seen)
    monkeypatch.setattr(carrying, "REDUCE_ABOVE", 100 * 80)
    fine = KeyCarry.live([CarryKey(frames[0], truth[0])], fine=True, scale=0.5)  # already matched finely: no finer one
    seen = spied(fine)
    run_planned(CarryRunner(StageTimer(), every=2, lag=0), fine, frames[:4], flows[:4])
    assert seen and all(s == ((120, 160), "fine-r2") for s in seen)


def test_the_render_scale_upscale_takes_a_carry_at_half_the_work_size(clip, reduce):
    """At a render scale whose work frame is still big, the carry's state is at half the work size."""
    frames, flows, truth = clip
    runner = CarryRunner(StageTimer(), every=1, lag=0)
    carrier = KeyCarry.live([CarryKey(frames[0], truth[0])])
    work = [cv2.resize(f, (160, 120), interpolation=cv2.INTER_AREA) for f in frames[:3]]
    run_planned(runner, carrier, work, flows[:3])
    state = runner.state
    assert state is not None and state.trust.shape == (60, 80)
    full = cv2.resize(frames[2], (320, 240))
    big = KeyCarry.live([CarryKey(cv2.resize(frames[0], (320, 240)), cv2.resize(truth[0], (320, 240)))])
    out, _, _ = to_full_size(full, work[2], work[2], None, None, True, big, state, 1.0)
    assert out.shape == full.shape
