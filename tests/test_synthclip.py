"""Synthetic clips: the ground-truth motion they report is the motion they show."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from livestyle.capture.synthclip import SyntheticScene, homography_clip, load_photo, map_points


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return load_photo("astronaut")


def _backward_warp(img: np.ndarray, flow: np.ndarray) -> np.ndarray:
    h, w = flow.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    return cv2.remap(img, xs + flow[..., 0], ys + flow[..., 1], cv2.INTER_LINEAR)


def test_load_photo_is_bgr_uint8_person(photo: np.ndarray) -> None:
    assert photo.shape == (512, 512, 3) and photo.dtype == np.uint8
    # the astronaut's suit is orange: red channel (index 2 in BGR) beats blue on average
    assert photo[:, :, 2].mean() > photo[:, :, 0].mean()


@pytest.mark.parametrize("motion", ["shake", "zoom", "rotate", "pan", "mixed"])
def test_flow_maps_frame_a_onto_frame_b(photo: np.ndarray, motion: str) -> None:
    clip = homography_clip(photo, 40, size=(160, 120), seed=3, motion=motion)
    for a, b in [(0, 39), (25, 5)]:
        flow, valid = clip.flow(a, b), clip.valid(a, b)
        assert valid.mean() > 0.2
        pulled = _backward_warp(clip.frames[b], flow).astype(np.float32)
        err = np.abs(pulled - clip.frames[a])[valid].mean()
        assert err < 4.0, f"{motion} {a}->{b}: mean colour error {err:.2f}"


def test_homographies_compose(photo: np.ndarray) -> None:
    clip = homography_clip(photo, 20, size=(160, 120), seed=1)
    np.testing.assert_allclose(clip.homographies[0], np.eye(3), atol=1e-9)
    composed = clip.homographies[17] @ np.linalg.inv(clip.homographies[4])
    np.testing.assert_allclose(composed / composed[2, 2], clip.homography(4, 17) / clip.homography(4, 17)[2, 2],
                               atol=1e-6)
    pts = np.array([[10.0, 20.0], [150.0, 100.0]])
    np.testing.assert_allclose(map_points(clip.homography(4, 17), pts),
                               pts + [clip.flow(4, 17)[20, 10], clip.flow(4, 17)[100, 150]], atol=1e-3)


def test_pan_reveals_content_frame0_never_showed(photo: np.ndarray) -> None:
    clip = homography_clip(photo, 150, size=(160, 120), seed=0, motion="pan")
    seen_from_0 = [clip.valid(t, 0).mean() for t in range(0, 150, 10)]
    assert min(seen_from_0) < 0.85


def test_zero_amplitude_is_static(photo: np.ndarray) -> None:
    clip = homography_clip(photo, 5, size=(64, 48), amplitude=0.0)
    assert all(np.array_equal(f, clip.frames[0]) for f in clip.frames)


def test_unknown_motion_is_rejected(photo: np.ndarray) -> None:
    with pytest.raises(ValueError, match="motion"):
        homography_clip(photo, 5, motion="wobble")


def test_scene_is_deterministic_and_matches_its_homography() -> None:
    scene = SyntheticScene((320, 180), seed=2)
    a, b = scene.frame(1.25), SyntheticScene((320, 180), seed=2).frame(1.25)
    assert a.shape == (180, 320, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert not np.array_equal(a, scene.frame(1.5))
    clean0, clean1 = scene.clean_frame(1.0), scene.clean_frame(2.0)
    flow = scene.flow(1.0, 2.0)
    pulled = _backward_warp(clean1, flow).astype(np.float32)
    inner = np.zeros((180, 320), bool)
    inner[20:-20, 30:-30] = True
    assert np.abs(pulled - clean0)[inner].mean() < 4.0
    mask = scene.mask(1.0)
    assert mask.dtype == np.uint8 and 0.1 < (mask > 0).mean() < 0.9
