"""Keyframe carry (guides.KeyCarry): the painting lands where the key's content moved, and nowhere else."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from livestyle.capture.synthclip import homography_clip, load_photo
from livestyle.cli import main
from livestyle.temporal import CARRY_EVERY_LIVE, CarryKey, KeyCarry, carry_every_live, nearest_keys

from .conftest import paint
from .test_cli import assert_one_line_error


@pytest.fixture(scope="module")
def moving():
    """A real photo moved by known homographies, and its 'painting' done on every frame (the truth)."""
    clip = homography_clip(load_photo("coffee"), 12, (160, 120), seed=1, motion="mixed")
    return clip.frames, [paint(f) for f in clip.frames]


def interior(a: np.ndarray, b: np.ndarray, m: int = 16) -> float:
    return float(np.abs(a[m:-m, m:-m].astype(np.float32) - b[m:-m, m:-m]).mean())


def test_carried_painting_follows_the_motion(moving):
    frames, truth = moving
    kc = KeyCarry([CarryKey(frames[0], truth[0])])
    for t in (4, 11):
        styled = frames[t]  # a network that learned nothing: the input itself
        out = kc(frames[t], styled, key=0)
        before, after = interior(styled, truth[t]), interior(out, truth[t])
        assert after < 0.35 * before, (t, before, after)
        assert after < interior(truth[0], truth[t])  # better than not moving the painting


def test_content_the_key_never_showed_keeps_the_network_output(moving):
    frames, truth = moving
    other = cv2.resize(load_photo("chelsea"), (160, 120), interpolation=cv2.INTER_AREA)
    kc = KeyCarry([CarryKey(frames[0], truth[0])])
    styled = np.full_like(other, 77)
    out = kc(other, styled, key=0)
    assert kc.last_confidence is not None and float(kc.last_confidence.mean()) < 0.1
    assert interior(out, styled) < 4.0


def test_mask_limits_the_carry_to_the_painted_subject(moving):
    frames, truth = moving
    mask = np.zeros(frames[0].shape[:2], np.uint8)
    mask[:, :80] = 255
    kc = KeyCarry([CarryKey(frames[0], truth[0], mask)])
    styled = np.zeros_like(frames[0])
    out = kc(frames[0], styled, key=0)  # the key itself: full trust inside the mask
    assert np.array_equal(out[:, 90:], styled[:, 90:])
    assert interior(out[:, :70], truth[0][:, :70], m=8) < 2.0


def test_strength_scales_the_blend_and_zero_is_off(moving):
    frames, truth = moving
    styled = np.zeros_like(frames[0])
    assert KeyCarry([CarryKey(frames[0], truth[0])], strength=0.0)(frames[3], styled, key=0) is styled
    full = KeyCarry([CarryKey(frames[0], truth[0])], strength=1.0)(frames[0], styled, key=0)
    half = KeyCarry([CarryKey(frames[0], truth[0])], strength=0.5)(frames[0], styled, key=0)
    c = (slice(20, -20), slice(20, -20))
    assert np.abs(half[c].astype(np.float32) - full[c] / 2).max() <= 1.5
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="strength"):
            KeyCarry([CarryKey(frames[0], truth[0])], strength=bad)


def test_box_gives_the_same_pixels_as_the_whole_frame(moving):
    frames, truth = moving
    kc = KeyCarry([CarryKey(frames[0], truth[0])])
    styled = frames[5]
    whole = kc(frames[5], styled, key=0)
    y0, y1, x0, x1 = 16, 96, 32, 128
    part = kc(frames[5], styled[y0:y1, x0:x1], key=0, box=(y0, y1, x0, x1))
    assert np.array_equal(part, whole[y0:y1, x0:x1])
    with pytest.raises(ValueError, match="does not match"):
        kc(frames[5], styled[:10], key=0)


def test_live_choice_follows_the_most_similar_key_with_hysteresis(moving):
    frames, truth = moving
    other = cv2.resize(load_photo("chelsea"), (160, 120), interpolation=cv2.INTER_AREA)
    kc = KeyCarry([CarryKey(frames[0], truth[0]), CarryKey(other, paint(other))])
    assert kc.choose(frames[2]) == 0
    assert kc.choose(other) == 1
    assert kc.choose(other) == 1  # stays
    assert kc.choose(frames[1]) == 0


def test_keys_of_another_size_are_resized_to_the_frame(moving):
    frames, truth = moving
    big = KeyCarry([CarryKey(cv2.resize(frames[0], (320, 240)), cv2.resize(truth[0], (320, 240)))])
    out = big(frames[3], frames[3], key=0)
    assert out.shape == frames[3].shape
    assert interior(out, truth[3]) < 0.5 * interior(frames[3], truth[3])


def test_nearest_keys():
    assert nearest_keys(6, [0]) == [0] * 6
    assert nearest_keys(7, [6, 0]) == [1, 1, 1, 1, 0, 0, 0]  # positions in the given list; a tie goes to the earlier
    with pytest.raises(ValueError):
        nearest_keys(3, [])


def test_render_carry_option(tiny_style, tiny_clip, tmp_path, capsys):
    """--carry 0 is the network alone; the default carries the painting in where frame 0 shows key 000."""
    key = cv2.imread(str(tiny_style / "keys" / "000.png"))
    cv2.imwrite(str(tiny_clip / "000.png"), key)  # the clip's first frame is the keyframe
    painting = cv2.imread(str(tiny_style / "styled" / "000.png"))
    assert main(["train", str(tiny_style), "--iterations", "3", "--no-guides"]) == 0
    off, on = tmp_path / "off", tmp_path / "on"
    assert main(["render", str(tiny_style), str(tiny_clip), str(off), "--carry", "0", "--steady", "0"]) == 0
    assert main(["render", str(tiny_style), str(tiny_clip), str(on), "--steady", "0"]) == 0
    a, b = cv2.imread(str(off / "000.png")), cv2.imread(str(on / "000.png"))
    assert interior(b, painting, m=8) < 0.3 * interior(a, painting, m=8)
    capsys.readouterr()
    assert_one_line_error(capsys, ["render", str(tiny_style), str(tiny_clip), str(tmp_path / "o"), "--carry", "2"],
                          "--carry must be between 0 and 1")


def test_render_carries_a_key_not_named_by_a_frame_index_from_its_most_similar_frame(tiny_style, tiny_clip,
                                                                                      tmp_path, capsys):
    for sub in ("keys", "styled"):
        (tiny_style / sub / "000.png").rename(tiny_style / sub / "snap.png")
    assert main(["train", str(tiny_style), "--iterations", "2", "--no-guides"]) == 0
    capsys.readouterr()
    assert main(["render", str(tiny_style), str(tiny_clip), str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    assert "key snap placed on frame" in err and "--carry is off" not in err


def test_temporal_check_trusts_a_painting_that_moves_with_the_frames_only(moving):
    frames, truth = moving
    key, painting = frames[0], truth[0]
    moved = np.roll(key, 4, axis=1)  # the next frame: everything 4 px to the right
    right = np.zeros(key.shape[:2] + (2,), np.float32)
    right[..., 0] = -4.0  # moved(x) = key(x - 4): the true flow to the previous frame
    c = (slice(16, -16), slice(16, -16))

    def trust(flow_to_prev: np.ndarray) -> float:
        kc = KeyCarry([CarryKey(key, painting)])
        kc.confidence(key, 0)  # the previous frame
        return float(kc.confidence(moved, 0, flow_to_prev)[1][c].mean())

    unchecked = KeyCarry([CarryKey(key, painting)])
    base = float(unchecked.confidence(moved, 0)[1][c].mean())
    assert trust(right) > 0.9 * base  # the carried painting moved as the frames did: trust kept
    assert trust(np.zeros_like(right)) < 0.7 * trust(right)  # a flow that says "no motion": it jumped
    kc = KeyCarry([CarryKey(key, painting)])
    kc.confidence(key, 0)
    kc.reset()  # the stream jumped: no previous frame to check against
    assert float(kc.confidence(moved, 0, np.zeros_like(right))[1][c].mean()) == pytest.approx(base, rel=1e-3)


def test_every_other_frame_moves_the_last_carry_along_the_frame_flow():
    from livestyle.capture.synthclip import homography_flow

    clip = homography_clip(load_photo("coffee"), 48, (160, 120), seed=1, motion="mixed")
    frames, hs = clip.frames[::4], clip.homographies[::4]  # ~1 px per frame; hs: frame 0 -> frame t
    truth = [paint(f) for f in frames]
    kc = KeyCarry([CarryKey(frames[0], truth[0])], every=2)
    each = KeyCarry([CarryKey(frames[0], truth[0])])  # computed on every frame
    calls, errs = [], []
    flow = kc.flow
    kc.flow = lambda a, b: calls.append(1) or flow(a, b)  # type: ignore[method-assign]
    for t in range(12):
        to_prev = None if t == 0 else homography_flow(hs[t - 1] @ np.linalg.inv(hs[t]), (160, 120))
        out = kc(frames[t], frames[t], key=0, flow_to_prev=to_prev)
        ref = each(frames[t], frames[t], key=0, flow_to_prev=to_prev)
        if t % 2:  # moved, not computed: the painting still lands where the truth is, trusted about as much
            assert interior(out, truth[t]) < 0.7 * interior(frames[t], truth[t]), t
            assert kc.last_confidence is not None and each.last_confidence is not None
            assert kc.last_confidence.mean() > 0.8 * each.last_confidence.mean(), t
            errs.append((interior(out, truth[t]), interior(ref, truth[t])))
    assert np.mean([e[0] for e in errs]) < 1.2 * np.mean([e[1] for e in errs])
    assert len(calls) == 6  # the key flow ran on every other frame
    kc(frames[5], frames[5], key=0)  # no frame flow (the stream jumped): computed afresh
    assert len(calls) == 7
    with pytest.raises(ValueError, match="every"):
        KeyCarry([CarryKey(frames[0], truth[0])], every=0)
    live = KeyCarry.live([CarryKey(frames[0], truth[0])])  # live: afresh on each call, at full size
    assert (live.every, live.scale, live.flow.preset) == (1, 1.0, "medium-r2")  # live.carrying picks the frames
    # at a render scale of 0.5 the fine key flow matches patches on the work frame itself (the level medium-r2
    # matches at on the full-size frame); the coarse one as at full size
    assert KeyCarry.live([CarryKey(frames[0], truth[0])], scale=0.5, fine=True).flow.preset == "fine-r2"
    assert KeyCarry.live([CarryKey(frames[0], truth[0])], scale=0.5, fine=False).flow.preset == "medium-r2"
    assert KeyCarry.live([CarryKey(frames[0], truth[0])], scale=0.75).flow.preset == "medium-r2"
    assert CARRY_EVERY_LIVE is None  # no override: carry_every_live decides, by core count
    assert [carry_every_live(n) for n in (2, 3, 4, 16)] == [2, 2, 1, 1]


def test_the_key_flow_at_a_render_scale_is_fine_where_there_are_cores_for_it(moving, monkeypatch):
    """``key_flow`` auto (the live default): fine with 8 or more cores, coarse on fewer; fine and coarse as asked."""
    from livestyle.live.keyed import keyed_from
    from livestyle.style import Keyframe
    from livestyle.temporal import carry as carry_mod

    frames, truth = moving
    kfs = [Keyframe("000", frames[0], truth[0], None)]
    for cores, flow, preset in ((8, "auto", "fine-r2"), (4, "auto", "medium-r2"), (2, "fine", "fine-r2"),
                                (8, "coarse", "medium-r2")):
        monkeypatch.setattr(carry_mod.os, "cpu_count", lambda n=cores: n)
        carrier = keyed_from(kfs, (), (160, 120), 0.5, flow).carrier
        assert carrier is not None and carrier.flow.preset == preset, (cores, flow)
        full = keyed_from(kfs, (), (160, 120), 1.0, flow).carrier  # at full size there is one key flow
        assert full is not None and full.flow.preset == "medium-r2"


def test_at_half_scale_the_fine_key_flow_lands_the_full_size_painting_closer(moving):
    """Live at render scale 0.5: the flow runs on half-size frames, the key's full-size painting is sampled
    along it (``painting_at``); matching patches on the half-size frame itself puts the strokes nearer where
    the truth has them than matching them at half of that."""
    frames, truth = moving
    h, w = frames[0].shape[:2]
    half = [cv2.resize(f, (w // 2, h // 2), interpolation=cv2.INTER_AREA) for f in frames]
    errs = {}
    for fine in (True, False):
        kc = KeyCarry.live([CarryKey(frames[0], truth[0])], scale=0.5, fine=fine)
        errs[fine] = [interior(kc.painting_at(kc.carry(half[t], key=0), (h, w)), truth[t]) for t in (3, 6, 9)]
    assert np.mean(errs[True]) < 0.97 * np.mean(errs[False]), errs
    assert all(f < c for f, c in zip(errs[True], errs[False], strict=True)), errs


def test_trust_falls_at_once_but_rises_over_frames(moving):
    frames, truth = moving
    key, painting = frames[0], truth[0]
    other = cv2.resize(load_photo("chelsea"), key.shape[1::-1], interpolation=cv2.INTER_AREA)
    still = np.zeros(key.shape[:2] + (2,), np.float32)  # the camera does not move
    c = (slice(16, -16), slice(16, -16))
    seq = [key, other, key, key, key, key]  # the key's content leaves for a frame and comes back
    means = {}
    for rise in (1.0, 0.5):
        kc = KeyCarry([CarryKey(key, painting)], rise=rise)
        means[rise] = [float(kc.confidence(f, 0, None if t == 0 else still)[1][c].mean()) for t, f in enumerate(seq)]
    full, slow = means[1.0], means[0.5]
    assert full[1] < 0.1 and slow[1] <= full[1] + 1e-6  # gone at once
    assert full[3] > 0.8  # back, and right
    for t in (2, 3, 4, 5):  # rises half the rest of the way per frame
        assert slow[t] == pytest.approx(0.5 * full[t] + 0.5 * slow[t - 1], abs=0.03), (t, slow, full)
    assert slow[3] < 0.7 * full[3] and slow[5] > 0.85 * full[5]
    with pytest.raises(ValueError, match="rise"):
        KeyCarry([CarryKey(key, painting)], rise=0.0)


def test_a_moved_carry_is_sampled_afresh_from_the_key(moving):
    """Moving a carry onto the next frame composes the flows and samples the key's painting once: half a
    pixel there and back gives the painting back as it was, where resampling the painting twice would blur it."""
    frames, truth = moving
    kc = KeyCarry([CarryKey(frames[0], truth[0])])
    c = kc.carry(frames[2], key=0)
    half = np.full(frames[2].shape[:2] + (2,), 0.5, np.float32)
    there = kc.move(c, half)
    back = kc.move(there, -half)
    m = (slice(8, -8), slice(8, -8))
    assert float(np.abs(back.painting[m].astype(np.float32) - c.painting[m]).mean()) < 0.3
    blurred = cv2.remap(cv2.remap(c.painting, *cv2.split(np.indices(half.shape[:2])[::-1].astype(np.float32)
                                                          .transpose(1, 2, 0) + half), cv2.INTER_LINEAR),
                        *cv2.split(np.indices(half.shape[:2])[::-1].astype(np.float32).transpose(1, 2, 0) - half),
                        cv2.INTER_LINEAR)
    assert float(np.abs(blurred[m].astype(np.float32) - c.painting[m]).mean()) > 1.0  # what moving the painting did
    assert back.key == 0 and np.allclose(back.flow[m], c.flow[m], atol=0.02)  # the flow is smooth: resampling it is harmless


def test_a_moved_carry_checked_against_its_frame_trusts_what_a_person_walked_away_from():
    """Static camera, an occluder moving right: the background it uncovers has no true flow back to the
    previous frame. Where the frame flow follows the occluder there, the moved carry lands the painting 16 px
    off and still trusts it; where the flow stays, it keeps the occluder's zero trust. Checked against the
    frame, the last fresh key flow is kept where it matches better, and trust rises as a fresh carry's would."""
    from livestyle.temporal.carry import CARRY_RISE, Carried

    noise = np.random.default_rng(0).integers(0, 256, (120, 160, 3)).astype(np.uint8)
    bg = cv2.GaussianBlur(noise, (0, 0), 0.7)  # a textured, static background = the key
    painting = paint(bg)
    kc = KeyCarry([CarryKey(bg, painting)])
    frame2 = bg.copy()
    frame2[40:80, 56:96] = 30  # the occluder, 16 px right of where it was at the fresh frame (40:80, 40:80)
    trust1 = np.ones((120, 160), np.float32)
    trust1[40:80, 40:80] = 0.0  # at the fresh frame the occluder was not trusted
    last = Carried(painting.copy(), trust1, 0, np.zeros((120, 160, 2), np.float32))  # the key flow: all 0
    to_prev = np.zeros((120, 160, 2), np.float32)
    to_prev[40:80, 56:96, 0] = -16.0  # the occluder's own flow
    to_prev[40:60, 40:56, 0] = -16.0  # uncovered, upper half: the flow follows the occluder
    follows, stays = (slice(44, 54), slice(42, 48)), (slice(66, 76), slice(42, 48))
    moved, checked = kc.move(last, to_prev), kc.move(last, to_prev, frame2)

    def err(c, region):
        return np.abs(c.painting[region].astype(int) - painting[region]).mean()

    assert moved.trust[follows].min() > 0.99 and err(moved, follows) > 10  # trusted, and 16 px off
    assert checked.trust[follows].min() > 0.95 and err(checked, follows) < 2  # trusted, and right
    assert moved.trust[stays].max() == 0.0  # the occluder's trust
    assert np.allclose(checked.trust[stays], CARRY_RISE, atol=0.05) and err(checked, stays) < 2  # rising
    assert checked.trust[44:76, 60:92].max() < 0.05  # the occluder itself stays untrusted
    assert np.allclose(checked.trust[100:, 100:], 1.0, atol=0.02)  # the still background stays trusted



def test_the_live_runner_takes_its_schedule_from_the_core_count_unless_overridden(monkeypatch):
    from livestyle.live.carrying import CarryRunner
    from livestyle.live.stats import StageTimer
    from livestyle.temporal import carry as carry_mod

    for cores, override, every in ((2, None, 2), (8, None, 1), (2, 3, 3)):
        monkeypatch.setattr(carry_mod.os, "cpu_count", lambda n=cores: n)
        monkeypatch.setattr(carry_mod, "CARRY_EVERY_LIVE", override)
        runner = CarryRunner(StageTimer())
        assert runner.every == every, (cores, override)
        runner.close()
