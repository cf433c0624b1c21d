"""The network on every Nth frame (``StyleStage.net_every``): the frames between move its last output along the flow."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from .conftest import astronaut
from .test_live_parts import _stage


def _counting(stage) -> list[int]:
    """Count the stage's network passes (one entry per frame the network ran on)."""
    calls: list[int] = []
    stylizer = stage.stylizer
    real = stylizer.run

    def run(batch, block=False):
        calls.append(1)
        return real(batch, block)

    stylizer.run = run
    return calls


def _pan(n: int, step: int = 4) -> list[np.ndarray]:
    big = astronaut((224, 128))
    return [np.ascontiguousarray(big[16:112, 16 + step * t:176 + step * t]) for t in range(n)]


def test_the_network_runs_on_every_nth_frame_and_on_the_first_two():
    frames = _pan(7)
    for every, want in ((1, 7), (2, 4), (3, 3)):
        stage = _stage(1.0, 0.1)
        stage.net_every = every
        calls = _counting(stage)
        outs = [stage.process(f) for f in frames]
        # every 2nd: frames 0, 1, 3, 5 (after a fresh start the next frame runs it too, so the frames that skip
        # it are those where the keyframe carry runs afresh); every 3rd: 0, 1, 4
        assert len(calls) == want, every
        assert all(o.shape == f.shape for o, f in zip(outs, frames, strict=True))


def test_a_skipped_frame_moves_the_last_change_along_the_flow_onto_this_frame():
    torch.manual_seed(0)
    stage = _stage(1.0, 0.0)
    stage.settings.steady, stage.settings.carry = 0.0, 0.0
    with torch.no_grad():  # a network whose change of the frame depends on what it shows
        for p in stage.stylizer.model.parameters():
            p.normal_(0, 0.3)
    stage.stylizer.swap(stage.stylizer.model.state_dict())
    stage.net_every = 2
    frames = _pan(3)  # the camera pans 4 px per frame
    calls = _counting(stage)
    outs = [stage.process(f) for f in frames]
    assert len(calls) == 2  # frames 0 and 1; frame 2 skipped
    change = outs[1].astype(int) - frames[1]
    assert np.abs(change).mean() > 5  # the network does change the frame
    moved = frames[2] + np.roll(change, -4, axis=1)  # the change, moved with the content, on this frame
    inner = (slice(12, -12), slice(12, -12))
    err_moved = np.abs(outs[2][inner].astype(int) - np.clip(moved, 0, 255)[inner]).mean()
    err_still = np.abs(outs[2][inner].astype(int) - np.clip(frames[2] + change, 0, 255)[inner]).mean()
    assert err_moved < 0.35 * err_still
    # and the frame's own content is this frame's, not the last one's: a constant change is exactly it
    flat = _stage(1.0, 40 / 127.5)
    flat.settings.steady, flat.settings.carry = 0.0, 0.0
    flat.net_every = 2
    out = [flat.process(f) for f in frames][2]
    diff = out.astype(int) - frames[2]
    ok = frames[2] < 180  # away from saturation (the last frame's change is less where it clipped)
    assert np.median(diff[ok]) == 40 and np.percentile(np.abs(diff[ok] - 40), 99) <= 2


def test_nothing_stylized_starts_the_schedule_afresh():
    stage = _stage(1.0, 0.1)
    stage.net_every = 2
    calls = _counting(stage)
    frames = _pan(4)
    stage.process(frames[0])
    stage.process(frames[1])
    stage.settings.enabled = False
    stage.process(frames[2])  # passed through: nothing to move onto the next frame
    stage.settings.enabled = True
    stage.process(frames[3])
    assert len(calls) == 3


def test_net_every_out_of_range_is_refused():
    from livestyle.errors import LivestyleError
    from livestyle.live.build import check_live_options

    with pytest.raises(ValueError, match="net every"):
        from livestyle.live.skipping import NetSchedule

        NetSchedule(0)
    with pytest.raises(LivestyleError, match="--net-every"):
        check_live_options(net_every=5)
    with pytest.raises(LivestyleError, match="--net-every"):
        check_live_options(net_every=0)
