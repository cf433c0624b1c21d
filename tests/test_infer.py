"""Frame <-> tensor conversion of the Stylizer, against straightforward numpy/torch references."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from livestyle.infer import batch_to_frames, frames_to_batch


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
