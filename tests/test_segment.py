"""Segmenter: finds the person in a real photo, smooths in time, carries the mask between runs."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from livestyle.capture.synthclip import SyntheticScene
from livestyle.errors import ModelError
from livestyle.files.imageio import read_image
from livestyle.paths import ASSETS
from livestyle.segment import Segmenter, default_model, feather_mask


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    """livestyle/assets/demo/astronaut.jpg: a woman in an orange suit, head and torso in the centre-left."""
    return read_image(ASSETS / "demo" / "astronaut.jpg")


def test_finds_the_person_in_the_astronaut_photo(photo: np.ndarray) -> None:
    with Segmenter(smooth=0.0, feather=0.0) as seg:
        mask = seg(photo)
    assert mask.shape == photo.shape[:2] and mask.dtype == np.float32
    assert 0.0 <= mask.min() and mask.max() <= 1.0
    person = mask[100:450, 150:330].mean()  # face and torso
    background = np.concatenate([mask[0:250, 360:].ravel(),  # the shuttle model and wall
                                 mask[0:60, 0:120].ravel()]).mean()  # the flag's top corner
    assert person > 0.7
    assert background < 0.05


def test_output_is_frame_sized_probability_on_a_live_frame() -> None:
    frame = SyntheticScene(size=(320, 180)).frame(0.0)
    with Segmenter() as seg:
        mask = seg(frame)
    assert mask.shape == (180, 320) and mask.dtype == np.float32
    assert 0.0 <= mask.min() and mask.max() <= 1.0


def test_temporal_smoothing_is_an_ema_of_the_confidence(photo: np.ndarray) -> None:
    blank = np.full_like(photo, 128)
    with Segmenter(smooth=0.0, feather=0.0) as raw:
        a, b = raw(photo), raw(blank)
    with Segmenter(smooth=0.6, feather=0.0) as seg:
        seg(photo)
        mixed = seg(blank)
    np.testing.assert_allclose(mixed, 0.6 * a + 0.4 * b, atol=1e-4)


def test_between_runs_the_mask_follows_the_motion(photo: np.ndarray) -> None:
    shift = np.float32([[1, 0, 40], [0, 1, 0]])  # the person moves 40 px right
    moved = cv2.warpAffine(photo, shift, photo.shape[1::-1], borderMode=cv2.BORDER_REFLECT)
    with Segmenter(smooth=0.0, feather=0.0) as raw:
        stale, truth = raw(photo), raw(moved)
    with Segmenter(every=2, smooth=0.0, feather=0.0) as seg:
        seg(photo)
        carried = seg(moved)  # not segmented: the first mask warped by optical flow
    assert np.abs(carried - truth).mean() < 0.5 * np.abs(stale - truth).mean()


def test_between_runs_the_mask_follows_the_callers_flow(photo: np.ndarray) -> None:
    shift = np.float32([[1, 0, 40], [0, 1, 0]])
    moved = cv2.warpAffine(photo, shift, photo.shape[1::-1], borderMode=cv2.BORDER_REFLECT)
    with Segmenter(smooth=0.0, feather=0.0) as raw:
        stale, truth = raw(photo), raw(moved)
    flow = np.zeros((*photo.shape[:2], 2), np.float32)
    flow[..., 0] = -40.0  # each pixel of the moved frame was 40 px to the left before
    with Segmenter(every=2, smooth=0.0, feather=0.0) as seg:
        seg(photo, flow_to_prev=None)
        carried = seg(moved, flow_to_prev=flow)
    assert np.abs(carried - truth).mean() < 0.5 * np.abs(stale - truth).mean()


def test_default_model_is_landscape_for_wide_frames() -> None:
    assert default_model(640, 360).name == "selfie_segmentation_landscape.tflite"
    assert default_model(480, 480).name == "selfie_segmentation.tflite"
    assert default_model(640, 480).name == "selfie_segmentation.tflite"


def test_feathering_softens_edges_only() -> None:
    hard = np.zeros((64, 64), np.float32)
    hard[:, 32:] = 1.0
    soft = feather_mask(hard, 2.0)
    assert soft[:, 0].max() == 0.0 and soft[:, -1].min() == pytest.approx(1.0)
    assert 0.0 < soft[0, 31] < 1.0 and 0.0 < soft[0, 32] < 1.0


def test_missing_model_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.tflite"
    with pytest.raises(ModelError, match="nope.tflite: no such segmentation model"):
        Segmenter(missing)


def test_a_file_that_is_not_a_model_is_a_model_error(tmp_path: Path) -> None:
    fake = tmp_path / "fake.tflite"
    fake.write_bytes(b"\x00" * 64)
    with pytest.raises(ModelError, match="fake.tflite: not a usable"):
        Segmenter(fake)


def test_rejects_frames_that_are_not_uint8_bgr() -> None:
    with Segmenter() as seg, pytest.raises(ValueError, match="uint8 BGR"):
        seg(np.zeros((64, 64, 3), np.float32))


def test_wide_frames_get_a_mask_of_their_own_size(photo: np.ndarray) -> None:
    wide = cv2.resize(photo, (1280, 720))
    with Segmenter(smooth=0.0, feather=0.0) as seg:
        mask = seg(wide)
    assert mask.shape == (720, 1280) and mask.dtype == np.float32
    assert 0.0 <= mask.min() and mask.max() <= 1.0
    assert mask[200:700, 400:650].mean() > 0.7  # the torso, stretched


def test_mediapipe_start_up_lines_do_not_reach_the_terminal(photo: np.ndarray, capfd: pytest.CaptureFixture[str]) -> None:
    # mediapipe prints INFO/WARNING lines to file descriptor 2 when its graph is built and first
    # run; in the TUI they would be drawn over the screen.
    capfd.readouterr()
    with Segmenter() as seg:
        seg(photo)
        seg(photo)
    err = capfd.readouterr().err
    assert "XNNPACK" not in err and "Feedback manager" not in err


def test_native_stderr_silencer_restores_the_descriptor(capfd: pytest.CaptureFixture[str]) -> None:
    import os

    from livestyle.quiet import native_stderr_silenced

    with native_stderr_silenced():
        os.write(2, b"hidden\n")
    os.write(2, b"shown\n")
    err = capfd.readouterr().err
    assert "hidden" not in err and "shown" in err
