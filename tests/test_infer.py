"""Frame <-> tensor conversion of the Stylizer, against straightforward numpy/torch references."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from livestyle.engine.infer import batch_to_frames, frames_to_batch


def _reference_batch(frames, guides, stride):
    rows = []
    for i, f in enumerate(frames):
        parts = [cv2.cvtColor(f, cv2.COLOR_BGR2RGB)] + [cv2.cvtColor(g, cv2.COLOR_BGR2RGB) for g in (guides[i] if guides else [])]
        a = np.concatenate(parts, axis=2)
        h, w = a.shape[:2]
        a = np.pad(a, ((0, (-h) % stride), (0, (-w) % stride), (0, 0)), mode="reflect")
        rows.append(a)
    return torch.from_numpy(np.stack(rows)).permute(0, 3, 1, 2).float() / 127.5 - 1.0


@pytest.mark.parametrize("n_guides", [0, 1, 2])
def test_frames_to_batch_matches_the_reference_with_padding_and_guides(n_guides):
    rng = np.random.default_rng(n_guides)
    frames = [rng.integers(0, 256, (37, 50, 3), dtype=np.uint8) for _ in range(2)]
    guides = [[rng.integers(0, 256, (37, 50, 3), dtype=np.uint8) for _ in range(n_guides)] for _ in frames]
    got = frames_to_batch(frames, guides if n_guides else None, stride=16)
    ref = _reference_batch(frames, guides if n_guides else None, 16)
    assert got.shape == (2, 3 + 3 * n_guides, 48, 64)
    assert got.is_contiguous(memory_format=torch.channels_last)
    assert torch.allclose(got, ref, atol=1e-6)


def test_frames_to_batch_rejects_a_guide_of_another_size():
    f = np.zeros((32, 32, 3), np.uint8)
    with pytest.raises(ValueError, match="32x32"):
        frames_to_batch([f], [[np.zeros((16, 32, 3), np.uint8)]])


def _reference_frames(out):
    u8 = ((out.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return [np.ascontiguousarray(a) for a in u8.permute(0, 2, 3, 1).flip(-1).numpy()]


@pytest.mark.parametrize("layout", ["planar", "channels_last", "cropped"])
def test_batch_to_frames_matches_the_reference(layout):
    torch.manual_seed(0)
    out = torch.rand(2, 3, 40, 56) * 2.4 - 1.2  # some values outside [-1, 1]: saturate
    if layout == "channels_last":
        out = out.contiguous(memory_format=torch.channels_last)
    elif layout == "cropped":
        out = out[..., :37, :50]
    got, ref = batch_to_frames(out), _reference_frames(out)
    for g, r in zip(got, ref, strict=True):
        assert g.shape == r.shape and g.dtype == np.uint8 and g.flags["C_CONTIGUOUS"]
        assert np.array_equal(g, r)


def _fast_model(zero: bool) -> torch.nn.Module:
    from livestyle.engine.model import build

    torch.manual_seed(0)
    net = build("fast", 6)
    if zero:  # residual preset with every weight 0: out = the input frame, exactly
        for p in net.parameters():
            torch.nn.init.zeros_(p)
    return net


@pytest.mark.parametrize("phases", [1, 2, 4])
def test_phases_keep_the_picture_in_place(phases):
    """Shifted copies are shifted back before averaging: a network that returns its input returns it
    pixel for pixel, at a size that is not a multiple of the stride."""
    from livestyle.engine.device import pick
    from livestyle.engine.infer import Stylizer

    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 256, (37, 50, 3), dtype=np.uint8) for _ in range(2)]
    guides = [[rng.integers(0, 256, (37, 50, 3), dtype=np.uint8)] for _ in frames]
    sty = Stylizer(_fast_model(zero=True), pick("cpu", "fp32"), phases)
    assert sty.phases == phases
    run = batch_to_frames(sty.run(frames_to_batch(frames, guides, sty.model.stride))[..., :37, :50])  # the live path
    for f, out, out_run in zip(frames, sty(frames, guides), run, strict=True):
        assert out.shape == f.shape and out_run.shape == f.shape
        assert np.abs(out.astype(int) - f).max() <= 1
        assert np.abs(out_run.astype(int) - f).max() <= 1


def test_phases_make_the_output_follow_a_shifted_input():
    """The fast preset paints 4x4 cells, so a 1 px shift of the input changes its output by more than a
    shift; averaging 4 phases (half-cell shifts) cuts that by well over half."""
    from livestyle.engine.device import pick
    from livestyle.engine.infer import Stylizer

    rng = np.random.default_rng(2)
    big = cv2.GaussianBlur(rng.integers(0, 256, (100, 140, 3), dtype=np.uint8), (0, 0), 2.0)
    guide = cv2.GaussianBlur(rng.integers(0, 256, (100, 140, 3), dtype=np.uint8), (0, 0), 2.0)
    net = _fast_model(zero=False)
    errors = {}
    for phases in (1, 4):
        sty = Stylizer(net, pick("cpu", "fp32"), phases)
        a = sty([big[:96, :128]], [[guide[:96, :128]]])[0].astype(np.float32)
        b = sty([big[:96, 1:129]], [[guide[:96, 1:129]]])[0].astype(np.float32)  # the scene moved 1 px left
        errors[phases] = float(np.abs(a[16:-16, 17:-16] - b[16:-16, 16:-17]).mean())
    assert errors[1] > 0.5  # the cells show: not already shift-equivariant
    assert errors[4] < 0.5 * errors[1], errors


def test_phases_must_be_1_2_or_4():
    from livestyle.engine.device import pick
    from livestyle.engine.infer import Stylizer

    with pytest.raises(ValueError, match="phases must be one of 1, 2, 4"):
        Stylizer(_fast_model(zero=True), pick("cpu", "fp32"), 3)


def test_cycling_phases_averages_to_the_four_phase_output():
    """``cycle``: one pass per call, each at the next phase; four calls average to what 4 phases give in one,
    every call has the same input shape (one compiled shape for a runtime), and the picture stays in place."""
    import torch

    from livestyle.engine.device import pick
    from livestyle.engine.infer import Stylizer

    net = _fast_model(zero=False)
    x = torch.rand(1, net.cfg.in_channels, 37, 50) * 2 - 1
    four = Stylizer(net, pick("cpu", "fp32"), 4, backend="torch").run(x)
    one = Stylizer(net, pick("cpu", "fp32"), 1, backend="torch")
    one.cycle = True
    shapes = []
    forward = one._forward
    one._forward = lambda t, block=False: shapes.append(tuple(t.shape)) or forward(t, block)  # type: ignore[method-assign]
    outs = [one.run(x) for _ in range(4)]
    assert all(o.shape == (1, 3, 37, 50) for o in outs)
    assert len(set(shapes)) == 1
    assert float((sum(outs) / 4 - four).abs().max()) < 1e-5
    assert float((outs[0] - outs[1]).abs().max()) > 1e-3  # each call at another phase
    still = Stylizer(_fast_model(zero=True), pick("cpu", "fp32"), 1, backend="torch")
    still.cycle = True
    rng = np.random.default_rng(3)
    frames = [rng.integers(0, 256, (37, 50, 3), dtype=np.uint8)]
    guides = [[rng.integers(0, 256, (37, 50, 3), dtype=np.uint8)]]
    for _ in range(4):  # a network that returns its input returns it in place at every phase
        out = batch_to_frames(still.run(frames_to_batch(frames, guides, still.model.stride))[..., :37, :50])[0]
        assert np.abs(out.astype(int) - frames[0]).max() <= 1
