"""Temporal bilateral denoising: less noise on static content, no smear, no peeking ahead."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from livestyle.capture.synthclip import homography_clip, load_photo
from livestyle.temporal.denoise import CausalDenoiser, OutputStabilizer, denoise_sequence


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255.0**2 / np.mean((a.astype(np.float64) - b) ** 2)))


@pytest.fixture(scope="module")
def noisy_static() -> tuple[np.ndarray, list[np.ndarray]]:
    clean = homography_clip(load_photo(), 1, size=(160, 120)).frames[0]
    rng = np.random.default_rng(0)
    frames = [np.clip(clean + rng.normal(0, 6, clean.shape), 0, 255).astype(np.uint8) for _ in range(12)]
    return clean, frames


def test_offline_denoise_raises_psnr_on_static_clip(noisy_static: tuple[np.ndarray, list[np.ndarray]]) -> None:
    clean, frames = noisy_static
    out = denoise_sequence(frames, radius=5)
    assert len(out) == len(frames) and out[6].dtype == np.uint8 and out[6].shape == clean.shape
    assert _psnr(out[6], clean) > _psnr(frames[6], clean) + 3.0


def test_causal_denoise_raises_psnr_on_static_clip(noisy_static: tuple[np.ndarray, list[np.ndarray]]) -> None:
    clean, frames = noisy_static
    den = CausalDenoiser(scale=1.0)
    out = [den(f) for f in frames]
    assert np.array_equal(out[0], frames[0])  # nothing to average with yet
    assert _psnr(out[-1], clean) > _psnr(frames[-1], clean) + 3.0


def _moving_edge(n: int, rng: np.random.Generator) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """A textured bright square sliding right 3 px/frame over a dark textured background, plus noise."""
    h, w = 96, 128
    def texture(hh: int, ww: int, lo: float, hi: float) -> np.ndarray:
        t = cv2.GaussianBlur(rng.uniform(0, 1, (hh, ww, 3)).astype(np.float32), (0, 0), 2.0)
        t = (t - t.min()) / (t.max() - t.min())
        return (lo + (hi - lo) * t).astype(np.uint8)

    base_bg = texture(h, w, 20, 90)
    square = texture(40, 40, 160, 240)
    clean, noisy = [], []
    for t in range(n):
        f = base_bg[:, :w].copy()
        x = 20 + 3 * t
        f[28:68, x:x + 40] = square
        clean.append(f)
        noisy.append(np.clip(f + rng.normal(0, 4, f.shape), 0, 255).astype(np.uint8))
    return clean, noisy


def test_offline_denoise_does_not_smear_a_moving_edge() -> None:
    clean, noisy = _moving_edge(9, np.random.default_rng(1))
    out = denoise_sequence(noisy, radius=4)
    t = 4
    x = 20 + 3 * t
    band = (slice(28, 68), slice(x - 4, x + 4))  # the square's left edge, 4 px each side
    err_out = np.abs(out[t][band].astype(float) - clean[t][band]).mean()
    err_in = np.abs(noisy[t][band].astype(float) - clean[t][band]).mean()
    # plain temporal averaging without flow smears this band to ~60 levels of error
    assert err_out < err_in + 1.0
    den = CausalDenoiser(scale=1.0)
    causal = [den(f) for f in noisy]
    assert np.abs(causal[t][band].astype(float) - clean[t][band]).mean() < 8.0


def test_causal_denoiser_uses_no_future_frames(noisy_static: tuple[np.ndarray, list[np.ndarray]]) -> None:
    _, frames = noisy_static
    a = CausalDenoiser(scale=1.0)
    b = CausalDenoiser(scale=1.0)
    first = [a(f) for f in frames[:6]]
    changed = frames[:6] + [255 - f for f in frames[6:]]
    second = [b(f) for f in changed][:6]
    assert all(np.array_equal(x, y) for x, y in zip(first, second, strict=True))
    a.reset()
    assert np.array_equal(a(frames[3]), frames[3])


def test_denoisers_reject_wrong_frames() -> None:
    with pytest.raises(ValueError):
        CausalDenoiser()(np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError):
        denoise_sequence([np.zeros((10, 10, 3), np.uint8), np.zeros((12, 10, 3), np.uint8)])


# -- the output stabiliser --------------------------------------------------------------------------


def _flicker(frames: list[np.ndarray]) -> float:
    """Mean absolute change between consecutive frames (grey levels)."""
    return float(np.mean([np.abs(a.astype(float) - b).mean() for a, b in zip(frames, frames[1:], strict=False)]))


def test_stabilizer_removes_flicker_on_a_static_scene(noisy_static: tuple[np.ndarray, list[np.ndarray]]) -> None:
    clean, noisy = noisy_static  # "network outputs" that jitter around the clean frame
    stab = OutputStabilizer(0.7)
    zero = np.zeros(clean.shape[:2] + (2,), np.float32)
    out = [stab(f, zero if i else None) for i, f in enumerate(noisy)]
    assert np.array_equal(out[0], noisy[0])  # nothing to blend with yet
    assert _flicker(out[4:]) < 0.6 * _flicker(noisy[4:])
    assert _psnr(out[-1], clean) > _psnr(noisy[-1], clean) + 2.0
    assert abs(out[-1].astype(float).mean() - clean.astype(float).mean()) < 1.0  # no drift of the tone


def test_stabilizer_follows_motion_and_lets_new_content_through() -> None:
    clean, noisy = _moving_edge(9, np.random.default_rng(2))
    h, w = clean[0].shape[:2]
    flow = np.zeros((h, w, 2), np.float32)
    flow[28:68, :, 0] = -3.0  # square rows: each pixel came from 3 px to the left
    stab = OutputStabilizer(0.7)
    out = [stab(f, flow if i else None) for i, f in enumerate(noisy)]
    t, x = 8, 20 + 3 * 8
    band = (slice(28, 68), slice(x - 4, x + 4))  # the square's left edge: no trail behind it
    assert np.abs(out[t][band].astype(float) - clean[t][band]).mean() < 8.0
    inner = (slice(32, 64), slice(x + 6, x + 34))
    assert np.abs(out[t][inner].astype(float) - clean[t][inner]).mean() < \
        np.abs(noisy[t][inner].astype(float) - clean[t][inner]).mean()
    new = ((out[t].astype(int) + 128) % 256).astype(np.uint8)  # a different picture (a new model, a cut)
    assert np.abs(stab(new, np.zeros_like(flow)).astype(int) - new).max() <= 1  # shown as it is


def test_stabilizer_region_box_and_restarts() -> None:
    rng = np.random.default_rng(3)
    a = rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)
    b = np.clip(a.astype(int) + 6, 0, 255).astype(np.uint8)  # the same picture, slightly changed
    zero = np.zeros((100, 120, 2), np.float32)
    stab = OutputStabilizer(0.7)
    assert np.array_equal(stab(a, None, (100, 120), (10, 50, 20, 70)), a)
    same_box = stab(b, zero, (100, 120), (10, 50, 20, 70))
    assert 1.0 < np.abs(same_box.astype(int) - b).mean() < 6.0  # pulled toward the previous output
    moved = stab(b, zero, (100, 120), (50, 90, 60, 110))  # a box that never had an output: no history
    assert np.array_equal(moved, b)
    assert np.array_equal(stab(a, None, (100, 120), (50, 90, 60, 110)), a)  # no flow: restart
    assert np.array_equal(OutputStabilizer(0.0)(a, zero[:40, :50]), a)  # strength 0: off
    with pytest.raises(ValueError):
        OutputStabilizer(1.0)
    with pytest.raises(ValueError, match="does not fit"):
        stab(a, zero, (100, 120), (0, 10, 0, 10))


def test_stabilizer_does_not_darken_the_edges_when_the_flow_points_outside() -> None:
    img = np.full((48, 64, 3), 250, np.uint8)
    flow = np.full((48, 64, 2), -0.05, np.float32)  # a slow pan: edge pixels come from just outside
    stab = OutputStabilizer(0.7)
    out = stab(img, None)
    for _ in range(30):
        out = stab(img, flow)
    assert out.min() >= 249  # a bilinear carry of the black outside would pull the border down frame by frame
    box = (8, 40, 8, 56)  # the same inside a region (masked mode): no dark rim at the region's edge
    stab.reset()
    crop = img[8:40, 8:56]
    out = stab(crop, None, (48, 64), box)
    for _ in range(30):
        out = stab(crop, flow, (48, 64), box)
    assert out.min() >= 249


def test_stabilizer_keeps_fine_texture_sharp_under_sub_pixel_motion() -> None:
    """The previous output is resampled on every frame: with bilinear samples a 4-px texture moving by half a
    pixel per frame kept 81% of its contrast in the recursive average (each resample blurs it again), with
    cubic ones 95%."""
    h, w = 48, 96
    x = np.arange(w, dtype=np.float32)

    def stripes(t: float) -> np.ndarray:  # period 4 px, moving right by 0.5 px per frame
        row = 128 + 60 * np.sin(2 * np.pi * (x - 0.5 * t) / 4)
        return np.repeat(np.clip(np.round(row), 0, 255).astype(np.uint8)[None, :, None], h, 0).repeat(3, 2)

    flow = np.zeros((h, w, 2), np.float32)
    flow[..., 0] = -0.5  # current -> previous: each pixel was half a pixel to the left
    stab = OutputStabilizer(0.7)
    for t in range(30):
        out = stab(stripes(t), flow)
    inner = (slice(4, -4), slice(8, -8))
    kept = out[inner].astype(np.float32).std() / stripes(29)[inner].astype(np.float32).std()
    assert kept > 0.9
