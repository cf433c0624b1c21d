"""The live keyframe carry's runner: the network thread never waits for it, and offline it keeps a fixed schedule."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from livestyle.capture.synthclip import homography_clip, homography_flow, load_photo
from livestyle.live.carrying import CarryRunner
from livestyle.live.stats import StageTimer
from livestyle.temporal import CarryKey, KeyCarry
from livestyle.temporal.carry import compose

from .conftest import paint


@pytest.fixture(scope="module")
def clip():
    c = homography_clip(load_photo("coffee"), 48, (160, 120), seed=1, motion="mixed")
    frames, hs = c.frames[::4], c.homographies[::4]  # ~1 px per frame; hs: frame 0 -> frame t
    flows = [None] + [homography_flow(hs[t - 1] @ np.linalg.inv(hs[t]), (160, 120)) for t in range(1, len(frames))]
    return frames, flows, [paint(f) for f in frames]


def interior(a: np.ndarray, b: np.ndarray, m: int = 16) -> float:
    return float(np.abs(a[m:-m, m:-m].astype(np.float32) - b[m:-m, m:-m]).mean())


def run(runner: CarryRunner, carrier: KeyCarry, frames, flows, offline: bool = True):
    out = []
    for img, flow in zip(frames, flows, strict=True):
        runner.before(carrier, img, flow, offline)
        out.append(runner.after(offline))
    return out


def test_every_1_lag_0_is_the_carry_computed_on_each_frame(clip):
    frames, flows, truth = clip
    got = run(CarryRunner(StageTimer(), every=1, lag=0), KeyCarry([CarryKey(frames[0], truth[0])]), frames, flows)
    ref = KeyCarry([CarryKey(frames[0], truth[0])])
    for t, g in enumerate(got):
        assert g is not None
        painting, trust = ref.confidence(frames[t], flow_to_prev=flows[t])
        assert np.array_equal(g[0], painting) and np.allclose(g[1], trust)


def test_a_late_result_is_moved_onto_the_frame_it_is_used_on(clip):
    frames, flows, truth = clip
    runner = CarryRunner(StageTimer(), every=2, lag=1)
    carrier = KeyCarry([CarryKey(frames[0], truth[0])])
    got = run(runner, carrier, frames, flows)
    assert got[0] is None  # lag 1: frame 0's result lands on frame 1
    for t in range(1, len(frames)):
        g = got[t]
        assert g is not None
        # the painting lands where the truth is, far closer than the unpainted frame
        assert interior(g[0], truth[t]) < 0.7 * interior(frames[t], truth[t]), t
    assert runner.timer.snapshot()["carry"] > 0


def test_offline_schedule_does_not_depend_on_timing(clip):
    frames, flows, truth = clip
    a = run(CarryRunner(StageTimer(), every=2, lag=1), KeyCarry([CarryKey(frames[0], truth[0])]), frames, flows)
    b = run(CarryRunner(StageTimer(), every=2, lag=1), KeyCarry([CarryKey(frames[0], truth[0])]), frames, flows)
    assert all((x is None and y is None) or np.array_equal(x[0], y[0]) for x, y in zip(a, b, strict=True))


class _Held(KeyCarry):
    """A real carry whose fresh computation waits for the test to let it go (a slow core)."""

    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.go = threading.Event()

    def carry(self, *a, **k):
        assert self.go.wait(10)
        return super().carry(*a, **k)


def test_with_lag_live_never_waits_for_the_carry_and_uses_it_once_done(clip):
    frames, flows, truth = clip
    runner = CarryRunner(StageTimer(), every=1, lag=1)
    carrier = _Held([CarryKey(frames[0], truth[0])])
    runner.before(carrier, frames[0], None, offline=False)
    assert runner.after(offline=False) is None  # still computing: the frame goes out without it
    runner.before(carrier, frames[1], flows[1], offline=False)
    assert runner.after(offline=False) is None  # one fresh result at a time: nothing new was started
    carrier.go.set()
    runner._pending.result(timeout=10)  # type: ignore[union-attr]  # the carry thread finishes frame 0
    runner.before(carrier, frames[2], flows[2], offline=False)
    g = runner.after(offline=False)
    assert g is not None  # frame 0's result, moved over two flows onto frame 2
    assert interior(g[0], truth[2]) < 0.7 * interior(frames[2], truth[2])
    runner.close()


def test_a_frame_without_flow_or_a_new_carry_starts_afresh(clip):
    frames, flows, truth = clip
    runner = CarryRunner(StageTimer(), every=2, lag=1)
    carrier = KeyCarry([CarryKey(frames[0], truth[0])])
    run(runner, carrier, frames[:3], flows[:3])
    runner.before(carrier, frames[3], None, offline=True)  # the stream jumped: nothing to move
    assert runner.after(offline=True) is None
    other = KeyCarry([CarryKey(frames[0], truth[0])])
    runner.before(other, frames[4], flows[4], offline=True)  # new keyframes
    assert runner.after(offline=True) is None
    with pytest.raises(ValueError, match="every"):
        CarryRunner(StageTimer(), every=0)


def test_without_lag_live_waits_for_the_carry_due_on_its_frame(clip):
    """lag 0 (the default): the network's output waits for its own frame's carry, so live gives the frames
    its offline replay gives."""
    frames, flows, truth = clip
    carrier = KeyCarry([CarryKey(frames[0], truth[0])])
    live, offline = CarryRunner(StageTimer(), every=2, lag=0), CarryRunner(StageTimer(), every=2, lag=0)
    a = run(live, carrier, frames[:6], flows[:6], offline=False)
    b = run(offline, KeyCarry([CarryKey(frames[0], truth[0])]), frames[:6], flows[:6], offline=True)
    for x, y in zip(a, b, strict=True):
        assert x is not None and y is not None and np.array_equal(x[0], y[0])


class _Broken(KeyCarry):
    def carry(self, *a, **k):
        raise RuntimeError("flow failed")


def test_a_failed_carry_fails_one_frame_not_the_ones_after(clip):
    frames, flows, truth = clip
    runner = CarryRunner(StageTimer(), every=2, lag=0)
    carrier = _Broken([CarryKey(frames[0], truth[0])])
    runner.before(carrier, frames[0], None, offline=True)
    with pytest.raises(RuntimeError, match="flow failed"):
        runner.after(offline=True)  # the stage reports it and sends this frame unstylized
    runner.before(carrier, frames[1], flows[1], offline=True)
    assert runner.after(offline=True) is None  # the next frame goes on (nothing due, nothing carried)


def test_trust_rises_at_the_same_pace_per_frame_whatever_the_schedule(clip):
    """With the key flow every 2nd frame, a fresh result may rise 75% of the way (two frames at 50%)."""
    from livestyle.temporal.carry import CARRY_RISE

    frames, flows, truth = clip
    for every in (1, 2, 3):
        carrier = KeyCarry([CarryKey(frames[0], truth[0])])
        run(CarryRunner(StageTimer(), every=every, lag=0), carrier, frames[:2], flows[:2])
        assert carrier.rise == pytest.approx(1 - (1 - CARRY_RISE) ** every)


def run_planned(runner: CarryRunner, carrier: KeyCarry, frames, flows, offline: bool = True):
    """As the stage runs it: ``plan`` when the frame is prepared, then ``before`` and ``after``."""
    out, plans = [], []
    for img, flow in zip(frames, flows, strict=True):
        ahead = runner.plan(carrier, img, flow)
        plans.append(ahead)
        runner.before(carrier, img, flow, offline, ahead)
        out.append(runner.after(offline))
    return out, plans


@pytest.mark.parametrize("every", [1, 2, 3])
def test_the_key_flow_started_ahead_gives_the_same_frames(clip, every):
    """The prep thread starts each due frame's key flow (``plan``) before the network takes the frame: the
    frames are exactly those of the carry that computes it itself, and only the due frames get one."""
    frames, flows, truth = clip
    carrier = KeyCarry([CarryKey(frames[0], truth[0])])
    calls, flow = [], carrier.flow
    carrier.flow = lambda a, b: calls.append(1) or flow(a, b)  # type: ignore[assignment, func-returns-value]
    a, plans = run_planned(CarryRunner(StageTimer(), every=every, lag=0), carrier, frames[:8], flows[:8])
    b = run(CarryRunner(StageTimer(), every=every, lag=0), KeyCarry([CarryKey(frames[0], truth[0])]), frames[:8],
            flows[:8])
    assert [p is not None and p.due for p in plans] == [t % every == 0 for t in range(8)]
    assert all((p.flow is not None) == p.due for p in plans if p is not None)
    assert len(calls) == sum(t % every == 0 for t in range(8))  # each due frame's key flow once: the one run ahead
    for x, y in zip(a, b, strict=True):
        assert x is not None and y is not None
        assert np.array_equal(x[0], y[0]) and np.array_equal(x[1], y[1])


def test_the_plan_restarts_where_the_runner_does(clip):
    frames, flows, truth = clip
    runner = CarryRunner(StageTimer(), every=2, lag=0)
    carrier, other = KeyCarry([CarryKey(frames[0], truth[0])]), KeyCarry([CarryKey(frames[1], truth[1])])
    due = [runner.plan(c, img, f).due for c, img, f in [  # type: ignore[union-attr]
        (carrier, frames[0], None), (carrier, frames[1], flows[1]), (carrier, frames[2], flows[2]),
        (carrier, frames[3], None),  # the stream jumped
        (carrier, frames[4], flows[4]), (other, frames[5], flows[5]),  # new keyframes
        (other, frames[6][:64], flows[6][:64]),  # another size
    ]]
    assert due == [True, False, True, True, False, True, True]
    runner.plan_restart()  # a frame that was not stylized
    assert runner.plan(other, frames[7][:64], flows[7][:64]).due  # type: ignore[union-attr]
    assert CarryRunner(StageTimer(), every=2, lag=1).plan(carrier, frames[0], None) is None  # lag: before decides


def test_a_frame_planned_without_a_key_flow_still_gets_one_when_the_runner_has_nothing(clip):
    """The plan says "not due" but the runner has no result to move (it was reset): it computes one itself."""
    frames, flows, truth = clip
    runner = CarryRunner(StageTimer(), every=2, lag=0)
    carrier = KeyCarry([CarryKey(frames[0], truth[0])])
    runner.plan(carrier, frames[0], None)
    ahead = runner.plan(carrier, frames[1], flows[1])
    assert ahead is not None and not ahead.due
    runner.before(carrier, frames[1], flows[1], True, ahead)
    got = runner.after(True)
    ref = KeyCarry([CarryKey(frames[0], truth[0])]).confidence(frames[1])
    assert got is not None and np.array_equal(got[0], ref[0])


def test_key_flows_on_threads_of_their_own_give_the_same_frames(clip):
    """``flow_workers`` > 1: the key flows run on a pool of their own, each thread with its own DIS; the frames
    are exactly those of one worker."""
    frames, flows, truth = clip
    a, _ = run_planned(CarryRunner(StageTimer(), every=1, lag=0, flow_workers=2),
                       KeyCarry([CarryKey(frames[0], truth[0])]), frames[:6], flows[:6])
    b, _ = run_planned(CarryRunner(StageTimer(), every=1, lag=0, flow_workers=1),
                       KeyCarry([CarryKey(frames[0], truth[0])]), frames[:6], flows[:6])
    for x, y in zip(a, b, strict=True):
        assert x is not None and y is not None
        assert np.array_equal(x[0], y[0]) and np.array_equal(x[1], y[1])
    runner = CarryRunner(StageTimer(), every=1, lag=0, flow_workers=2)
    names = []
    carrier = KeyCarry([CarryKey(frames[0], truth[0])])
    key_flow = carrier.key_flow
    carrier.key_flow = lambda *a: names.append(threading.current_thread().name) or key_flow(*a)  # type: ignore[method-assign, func-returns-value]
    run_planned(runner, carrier, frames[:4], flows[:4])
    assert names and all(n.startswith("style-keyflow") for n in names)
    with pytest.raises(ValueError, match="workers"):
        CarryRunner(StageTimer(), flow_workers=0)


def test_a_moved_result_is_made_on_the_carrys_thread_beside_the_network(clip):
    """With the key flow on every 2nd frame, the frames between get the last result moved and rechecked on the
    carry's thread (the network runs meanwhile): the same frames as that work done in order on one thread."""
    frames, flows, truth = clip
    carrier = KeyCarry([CarryKey(frames[0], truth[0])])
    threads, move = [], carrier.move
    carrier.move = lambda *a: threads.append(threading.current_thread().name) or move(*a)  # type: ignore[method-assign, func-returns-value]
    got, _ = run_planned(CarryRunner(StageTimer(), every=2, lag=0), carrier, frames[:6], flows[:6])
    assert threads and all(n.startswith("style-carry") for n in threads), threads
    ref, want = KeyCarry([CarryKey(frames[0], truth[0])]), []
    ref.rise = 1.0 - (1.0 - ref.rise) ** 2  # as the runner sets it for every 2nd frame
    state = None
    for t in range(6):
        if t % 2:
            state = ref.move(state, flows[t], frames[t])
        else:  # the temporal check looks back to the last fresh frame, two frames back
            state = ref.carry(frames[t], 0, compose(flows[t], flows[t - 1]) if t else None)
        want.append(state)
    for g, w in zip(got, want, strict=True):
        assert g is not None and np.array_equal(g[0], w.painting) and np.array_equal(g[1], w.trust)
