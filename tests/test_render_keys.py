"""``livestyle render`` with keyframes of any name: a style made live (keys named by time) renders offline.

Keys named by a frame index keep their meaning; any other key stands for the frame of the clip most
like it (``render.place_keys``), and the guides and the carry start from it there.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from livestyle.capture.synthclip import homography_clip, load_photo
from livestyle.cli import main
from livestyle.keymatch import nearest_frame
from livestyle.render import guide_inputs, place_keys
from livestyle.style import Keyframe, StyleFolder

from .conftest import paint

SIZE = (96, 64)  # (w, h) of the test clips


def clip_frames(n: int = 12, motion: str = "mixed", seed: int = 1) -> list[np.ndarray]:
    return homography_clip(load_photo("astronaut"), n, SIZE, seed=seed, motion=motion).frames


def write_clip(folder: Path, frames: list[np.ndarray]) -> Path:
    folder.mkdir()
    for i, f in enumerate(frames):
        cv2.imwrite(str(folder / f"{i:03d}.png"), f)
    return folder


def live_made_style(path: Path, key: np.ndarray) -> str:
    """A style folder as the TUI makes it: ``StyleFolder.snapshot`` (what the session's snapshot calls)
    names the key by time; the painting beside it; trained with the blob guide, as live trains."""
    style = StyleFolder(path)
    name = style.snapshot(key)
    style.write_painting(name, paint(key))
    assert main(["train", str(path), "--iterations", "4"]) == 0
    return name


@pytest.mark.parametrize("motion", ["mixed", "zoom", "rotate"])
def test_a_key_is_placed_on_the_frame_it_copies(motion: str) -> None:
    frames = clip_frames(60, motion)
    rng = np.random.default_rng(0)
    for k in range(0, 60, 4):
        noisy = np.clip(frames[k] + rng.normal(0, 6, frames[k].shape), 0, 255).astype(np.uint8)
        bigger = cv2.resize(noisy, (SIZE[0] * 3, SIZE[1] * 3), interpolation=cv2.INTER_CUBIC)  # snapshot size
        assert nearest_frame(frames, frames[k])[0] == k
        got = nearest_frame(frames, bigger)[0]
        # k itself, or a frame showing the same picture (where a rotation turns, frames 50 and 52 differ
        # by 0.014 grey levels on average): consecutive frames differ by about 5
        assert got == k or np.abs(frames[got].astype(np.float32) - frames[k]).mean() < 0.5, (motion, k, got)


def test_names_that_are_frame_indices_keep_their_meaning() -> None:
    frames = clip_frames(12)
    other = frames[9]
    keys = [Keyframe("003", other, other, None),  # the name wins, whatever the picture shows
            Keyframe("20261204-101500", frames[6], frames[6], None),
            Keyframe("40", frames[2], frames[2], None)]  # an index outside the clip: matched like any name
    placed = place_keys(keys, frames)
    assert [(p.frame, p.by_name) for p in placed] == [(3, True), (6, False), (2, False)]
    assert placed[1].distance < 1e-6


def test_guides_start_from_the_key_itself_inserted_before_its_frame() -> None:
    frames = clip_frames(6)
    key = cv2.resize(frames[4], (SIZE[0] * 2, SIZE[1] * 2))
    mask = np.zeros(key.shape[:2], np.uint8)
    mask[10:50, 20:90] = 255
    placed = place_keys([Keyframe("000", frames[0], frames[0], None), Keyframe("snap", key, key, mask)], frames)
    seq, keys, real = guide_inputs(frames, placed)
    assert real == [0, 1, 2, 3, 5, 6]  # the clip's frames, with the key at position 4
    assert sorted(keys) == [0, 4] and keys[0] is None
    assert seq[4].shape == frames[0].shape and keys[4] is not None and keys[4].shape == frames[0].shape[:2]
    assert all(seq[r] is frames[i] for i, r in enumerate(real))


def test_a_style_made_live_renders_offline_and_says_where_its_key_went(tmp_path: Path, capsys) -> None:
    frames = clip_frames(12)
    clip = write_clip(tmp_path / "clip", frames)
    name = live_made_style(tmp_path / "style", frames[7])
    assert not re.fullmatch(r"[0-9]+", name)  # a live name, not a frame index
    capsys.readouterr()
    assert main(["render", str(tmp_path / "style"), str(clip), str(tmp_path / "out.mp4")]) == 0
    err = capsys.readouterr().err
    assert f"key {name} placed on frame 7 (007)" in err, err
    assert "Traceback" not in err and (tmp_path / "out.mp4").stat().st_size > 0


def test_a_time_named_key_renders_as_the_same_key_named_by_its_index(tmp_path: Path) -> None:
    frames = clip_frames(10)
    clip = write_clip(tmp_path / "clip", frames)
    name = live_made_style(tmp_path / "live", frames[5])
    indexed = tmp_path / "indexed"
    (indexed / "keys").mkdir(parents=True)
    (indexed / "styled").mkdir()
    for sub in ("keys", "styled"):
        (indexed / sub / "005.png").write_bytes((tmp_path / "live" / sub / f"{name}.png").read_bytes())
    shutil.copy(StyleFolder(tmp_path / "live").model_path, StyleFolder(indexed).model_path)  # the same network
    outs = {}
    for label in ("live", "indexed"):
        assert main(["render", str(tmp_path / label), str(clip), str(tmp_path / f"o-{label}")]) == 0
        outs[label] = np.stack([cv2.imread(str(p)) for p in sorted((tmp_path / f"o-{label}").iterdir())])
    a, b = outs["live"].astype(np.float32), outs["indexed"].astype(np.float32)
    assert np.abs(a - b).mean() < 1.0  # same guides and carry, up to the flow from the key to its copy
    wrong = tmp_path / "wrong"  # the same key named as frame 0: a different render (the test can fail)
    (wrong / "keys").mkdir(parents=True)
    (wrong / "styled").mkdir()
    for sub in ("keys", "styled"):
        (wrong / sub / "000.png").write_bytes((indexed / sub / "005.png").read_bytes())
    shutil.copy(StyleFolder(indexed).model_path, StyleFolder(wrong).model_path)
    assert main(["render", str(wrong), str(clip), str(tmp_path / "o-wrong")]) == 0
    c = np.stack([cv2.imread(str(p)) for p in sorted((tmp_path / "o-wrong").iterdir())]).astype(np.float32)
    assert np.abs(c - b).mean() > 3 * np.abs(a - b).mean()


def test_a_key_from_another_scene_is_placed_on_its_nearest_frame_with_a_warning(tmp_path: Path, capsys) -> None:
    clip = write_clip(tmp_path / "clip", clip_frames(8))
    elsewhere = cv2.resize(load_photo("chelsea"), SIZE, interpolation=cv2.INTER_AREA)
    name = live_made_style(tmp_path / "style", elsewhere)
    capsys.readouterr()
    assert main(["render", str(tmp_path / "style"), str(clip), str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert re.search(rf"key {name} placed on frame \d \(00\d\), the frame most like it \(distance [0-9.]+\); "
                     r"it looks like none of this clip's frames", err), err
    assert len(list((tmp_path / "out").iterdir())) == 8
