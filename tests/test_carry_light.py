"""The keyframe carry under a webcam's drifting light (temporal.light): it follows the light, it is not lost to it."""

from __future__ import annotations

import numpy as np
import pytest

from livestyle.capture.synthclip import homography_clip, load_photo
from livestyle.temporal import CarryKey, KeyCarry
from livestyle.temporal import carry as carry_mod
from livestyle.temporal.light import gains, relit

from .conftest import paint

GAIN = np.array([1.08, 0.95, 1.06], np.float32)  # exposure up, white balance off: B, G, R


@pytest.fixture(scope="module")
def moving():
    clip = homography_clip(load_photo("coffee"), 12, (160, 120), seed=1, motion="mixed")
    return clip.frames, [paint(f) for f in clip.frames]


def test_gains_are_found_and_a_person_walking_in_does_not_move_them():
    rng = np.random.default_rng(0)
    seen = rng.integers(30, 200, (120, 160, 3), dtype=np.uint8)
    frame = relit(seen, GAIN)
    frame[20:80, 40:110] = rng.integers(0, 255, (60, 70, 3), dtype=np.uint8)  # a third of it: something else
    g = gains(seen, frame)
    assert g is not None and np.abs(g - GAIN).max() < 0.01, g
    assert gains(np.zeros_like(seen), frame) is None  # a black key says nothing of the light


def test_under_another_light_the_carry_keeps_its_trust_and_its_painting_takes_the_light(moving, monkeypatch):
    frames, truth = moving
    t = 6
    lit_frame, lit_truth = relit(frames[t], GAIN), relit(truth[t], GAIN)
    key = CarryKey(frames[0], truth[0])
    same = KeyCarry([key]).carry(frames[t], 0)
    lit = KeyCarry([key]).carry(lit_frame, 0)
    assert lit.gain is not None and np.abs(lit.gain - GAIN).max() < 0.02, lit.gain
    assert lit.trust.mean() > 0.9 * same.trust.mean(), (lit.trust.mean(), same.trust.mean())
    m = (slice(16, -16), slice(16, -16))

    def err(a: np.ndarray) -> float:
        return float(np.abs(a[m].astype(np.float32) - lit_truth[m]).mean())

    assert err(lit.painting) < 0.75 * err(same.painting)  # the painting under the frame's light, not the key's
    assert err(lit.painting) < 1.1 * err(relit(same.painting, GAIN))  # as close as the light itself makes it
    monkeypatch.setattr(carry_mod, "CARRY_RELIGHT", False)
    unlit = KeyCarry([key]).carry(lit_frame, 0)
    assert unlit.trust.mean() < 0.7 * lit.trust.mean()  # what it was: the light took the carry away


def test_a_moved_carry_follows_the_light_of_its_own_frame(moving):
    frames, truth = moving
    kc = KeyCarry([CarryKey(frames[0], truth[0])])
    from livestyle.temporal.flow import FlowEstimator

    fe = FlowEstimator("fast")
    first = kc.carry(frames[3], 0)
    moved = kc.move(first, fe(relit(frames[4], GAIN), frames[3]), relit(frames[4], GAIN))
    assert moved.gain is not None and np.abs(moved.gain - GAIN).max() < 0.02, moved.gain
    assert moved.trust.mean() > 0.8 * first.trust.mean()


def test_sensor_noise_does_not_take_the_carry_away_and_a_misplaced_painting_is_still_found(moving, monkeypatch):
    """A webcam's noise raised the photo check's error everywhere (a mean absolute difference never averages it
    away): the check's difference is blurred a little first (``light.NOISE_BLUR``). The same frame again with
    new noise is trusted; the same frame 3 px off, where the flow says it is not, is not."""
    from livestyle.temporal import light

    frames, truth = moving
    rng = np.random.default_rng(3)

    def noisy(f: np.ndarray) -> np.ndarray:
        return np.clip(f + rng.normal(0, 4, f.shape), 0, 255).astype(np.uint8)

    key = CarryKey(noisy(frames[0]), truth[0])
    still = np.zeros((*frames[0].shape[:2], 2), np.float32)  # the flow says: nothing moved
    m = (slice(16, -16), slice(16, -16))

    def trust(frame: np.ndarray) -> float:
        return float(KeyCarry([key]).carry(frame, 0, key_flow=still).trust[m].mean())

    again, off = noisy(frames[0]), noisy(np.roll(frames[0], 3, axis=1))
    got, misplaced = trust(again), trust(off)
    monkeypatch.setattr(light, "NOISE_BLUR", 0.0)
    before = trust(again)
    assert got > 0.95 and before < 0.8, (got, before)  # the noise alone took a quarter of the trust
    assert misplaced < 0.45 * got, (misplaced, got)
