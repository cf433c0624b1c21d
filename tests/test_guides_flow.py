"""DIS flow wrapper, backward warp and forward-backward check against exact references."""

from __future__ import annotations

import numpy as np
import pytest

from livestyle.capture.synthclip import homography_clip, load_photo
from livestyle.temporal.flow import FlowEstimator, forward_backward_consistency, sample_at, warp


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return load_photo("astronaut")


@pytest.mark.parametrize(("motion", "preset", "scale"), [("shake", "fast", 1.0), ("zoom", "fast", 1.0),
                                                          ("shake", "ultrafast", 0.5)])
def test_dis_flow_matches_ground_truth(photo: np.ndarray, motion: str, preset: str, scale: float) -> None:
    clip = homography_clip(photo, 12, size=(320, 240), seed=5, motion=motion)
    est = FlowEstimator(preset, scale=scale)
    for a, b in [(0, 1), (4, 9)]:
        err = np.linalg.norm(est(clip.frames[a], clip.frames[b]) - clip.flow(a, b), axis=-1)
        assert np.median(err[clip.valid(a, b)]) < 1.0


def _bilinear(img: np.ndarray, x: float, y: float) -> np.ndarray:
    """Textbook bilinear interpolation (independent of OpenCV)."""
    x0, y0 = int(np.floor(x)), int(np.floor(y))
    fx, fy = x - x0, y - y0
    f = img.astype(np.float64)
    return ((1 - fx) * (1 - fy) * f[y0, x0] + fx * (1 - fy) * f[y0, x0 + 1]
            + (1 - fx) * fy * f[y0 + 1, x0] + fx * fy * f[y0 + 1, x0 + 1])


def test_warp_is_backward_bilinear_sampling() -> None:
    rng = np.random.default_rng(0)
    img = rng.random((40, 50, 3)).astype(np.float32)
    flow = rng.uniform(-5, 5, (40, 50, 2)).astype(np.float32)
    out = warp(img, flow)
    for y, x in [(10, 10), (20, 30), (33, 7), (15, 44)]:
        sx, sy = x + flow[y, x, 0], y + flow[y, x, 1]
        np.testing.assert_allclose(out[y, x], _bilinear(img, sx, sy), atol=2e-3)
    pts = np.array([[12.25, 7.5], [30.9, 20.1]], np.float32)
    np.testing.assert_allclose(sample_at(img, pts)[1], _bilinear(img, 30.9, 20.1), atol=2e-3)


def test_forward_backward_check_flags_inconsistent_flow(photo: np.ndarray) -> None:
    clip = homography_clip(photo, 10, size=(160, 120), seed=2, motion="rotate")
    f_ab, f_ba = clip.flow(0, 9), clip.flow(9, 0)
    ok = forward_backward_consistency(f_ab, f_ba, tol=0.5)
    assert ok[clip.valid(0, 9)].mean() > 0.99
    bad = forward_backward_consistency(f_ab, f_ab, tol=0.5)  # same direction twice: not a round trip
    moving = np.linalg.norm(f_ab, axis=-1) > 2
    assert bad[moving].mean() < 0.05


def test_flow_rejects_bad_input() -> None:
    est = FlowEstimator("ultrafast")
    with pytest.raises(ValueError, match="differ"):
        est(np.zeros((10, 10), np.uint8), np.zeros((12, 10), np.uint8))
    with pytest.raises(TypeError):
        est(np.zeros((10, 10), np.float32), np.zeros((10, 10), np.float32))
    with pytest.raises(ValueError, match="preset"):
        FlowEstimator("slow")
