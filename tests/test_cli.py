"""The command line: one-line errors with a non-zero exit for every bad input, and real runs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from livestyle.cli import main
from livestyle.engine import checkpoint

from .conftest import astronaut


def run_cli(*args: str) -> tuple[int, str]:
    p = subprocess.run([sys.executable, "-m", "livestyle", *args], capture_output=True, text=True, timeout=300)
    return p.returncode, p.stderr


def assert_one_line_error(capsys, args: list[str], needle: str) -> None:
    rc = main(args)
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert len(err) == 1 and err[0].startswith("livestyle: error:"), err
    assert needle in err[0], err[0]
    assert "Traceback" not in err[0]


def test_missing_style_folder(tmp_path, capsys):
    assert_one_line_error(capsys, ["train", str(tmp_path / "nope")], "no such style folder")


def test_painting_without_keyframe_and_the_reverse(tiny_style, capsys):
    shutil.copy(tiny_style / "styled" / "000.png", tiny_style / "styled" / "001.png")
    assert_one_line_error(capsys, ["train", str(tiny_style)], "painting without its keyframe")
    (tiny_style / "styled" / "001.png").unlink()
    shutil.copy(tiny_style / "keys" / "000.png", tiny_style / "keys" / "002.png")
    assert_one_line_error(capsys, ["train", str(tiny_style)], "keyframe without painting")


def test_size_mismatch_between_key_painting_and_mask(tiny_style, capsys):
    cv2.imwrite(str(tiny_style / "styled" / "000.png"), np.zeros((10, 20, 3), np.uint8) + 100)
    assert_one_line_error(capsys, ["train", str(tiny_style)], "differs from its keyframe")


def test_mask_of_wrong_size_and_empty_mask(tiny_style, capsys):
    (tiny_style / "masks").mkdir()
    cv2.imwrite(str(tiny_style / "masks" / "000.png"), np.zeros((10, 10), np.uint8))
    assert_one_line_error(capsys, ["train", str(tiny_style)], "differs from its keyframe")
    cv2.imwrite(str(tiny_style / "masks" / "000.png"), np.zeros((64, 96), np.uint8))
    assert_one_line_error(capsys, ["train", str(tiny_style)], "mask is empty")


def test_corrupt_image(tiny_style, capsys):
    (tiny_style / "styled" / "000.png").write_bytes(b"not a png")
    assert_one_line_error(capsys, ["train", str(tiny_style)], "not a readable image")


def test_image_smaller_than_a_patch(tiny_style, capsys):
    small = astronaut((24, 24))
    cv2.imwrite(str(tiny_style / "keys" / "000.png"), small)
    cv2.imwrite(str(tiny_style / "styled" / "000.png"), small)
    assert_one_line_error(capsys, ["train", str(tiny_style)], "smaller than a training patch")


@pytest.mark.parametrize("seconds", ["0", "-1"])
def test_nonpositive_seconds(tiny_style, capsys, seconds):
    assert_one_line_error(capsys, ["train", str(tiny_style), "--seconds", seconds], "must be a number above 0")


def test_grayscale_and_rgba_images_are_accepted(tiny_style):
    key = astronaut()
    cv2.imwrite(str(tiny_style / "keys" / "000.png"), cv2.cvtColor(key, cv2.COLOR_BGR2GRAY))
    styled = cv2.cvtColor(cv2.imread(str(tiny_style / "styled" / "000.png")), cv2.COLOR_BGR2BGRA)
    cv2.imwrite(str(tiny_style / "styled" / "000.png"), styled)
    assert main(["train", str(tiny_style), "--iterations", "2", "--no-guides"]) == 0
    assert (tiny_style / "model.safetensors").is_file()


def test_failed_training_leaves_no_model_behind(tiny_style, capsys):
    (tiny_style / "styled" / "000.png").write_bytes(b"garbage")
    assert main(["train", str(tiny_style), "--iterations", "2"]) == 2
    assert not list(tiny_style.glob("model*")) and not list(tiny_style.glob(".model*"))


def test_model_from_other_preset_and_corrupt_model(tiny_style, tiny_clip, tmp_path, capsys):
    assert main(["train", str(tiny_style), "--iterations", "2", "--no-guides"]) == 0
    capsys.readouterr()
    assert_one_line_error(capsys, ["train", str(tiny_style), "--resume", "--preset", "paper",
                                   "--iterations", "1"], "trained with preset 'fast'")
    (tiny_style / "model.safetensors").write_bytes(b"\x00" * 64)
    assert_one_line_error(capsys, ["render", str(tiny_style), str(tiny_clip), str(tmp_path / "o")], "corrupt")


@pytest.mark.parametrize(("field", "value", "needle"), [
    ("guides", '"blobs"', "its guides are not a list of named guides"),
    ("train", "[1]", "wrong type"),
    ("config", "[1, 2]", "its config is not a table"),
    ("config", {"in_channels": "six"}, "its network config cannot be built"),
    ("config", {"stem_width": -3}, "its network config cannot be built"),
])
def test_a_model_whose_metadata_has_the_wrong_shape_is_one_line(tiny_style, tiny_clip, tmp_path, capsys, field,
                                                                 value, needle):
    """A real safetensors model with one metadata field another program or version could write: render
    ended in a TypeError or RuntimeError traceback for these, far from the file that caused it."""
    import json

    from safetensors.torch import load, save

    assert main(["train", str(tiny_style), "--iterations", "1"]) == 0
    capsys.readouterr()
    path = tiny_style / "model.safetensors"
    raw = path.read_bytes()
    meta = json.loads(raw[8:8 + int.from_bytes(raw[:8], "little")])["__metadata__"]
    if isinstance(value, dict):
        value = json.dumps({**json.loads(meta["config"]), **value})
    path.write_bytes(save(load(raw), metadata={**meta, field: value}))
    assert_one_line_error(capsys, ["render", str(tiny_style), str(tiny_clip), str(tmp_path / "o")], needle)
    assert not (tmp_path / "o").exists()


def test_unreadable_video(tiny_style, tmp_path, capsys):
    assert main(["train", str(tiny_style), "--iterations", "2", "--no-guides"]) == 0
    capsys.readouterr()
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"this is not a video")
    assert_one_line_error(capsys, ["render", str(tiny_style), str(bad), str(tmp_path / "o")], "video")


def test_train_then_render_folder_names_and_sizes(tiny_style, tiny_clip, tmp_path):
    rc, err = run_cli("train", str(tiny_style), "--iterations", "5")
    assert rc == 0, err
    out = tmp_path / "out"
    rc, err = run_cli("render", str(tiny_style), str(tiny_clip), str(out))
    assert rc == 0, err
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(p.name for p in tiny_clip.iterdir())
    for p in out.iterdir():
        assert cv2.imread(str(p)).shape == cv2.imread(str(tiny_clip / p.name)).shape


def test_render_steady_option(tiny_style, tiny_clip, tmp_path, capsys):
    assert main(["train", str(tiny_style), "--iterations", "3", "--no-guides"]) == 0
    raw, steady = tmp_path / "raw", tmp_path / "steady"
    assert main(["render", str(tiny_style), str(tiny_clip), str(raw), "--steady", "0"]) == 0
    assert main(["render", str(tiny_style), str(tiny_clip), str(steady)]) == 0
    names = sorted(p.name for p in tiny_clip.iterdir())
    a = [cv2.imread(str(raw / n)) for n in names]
    b = [cv2.imread(str(steady / n)) for n in names]
    assert np.array_equal(a[0], b[0])  # the first frame has no past
    assert any(not np.array_equal(x, y) for x, y in zip(a[1:], b[1:], strict=True))
    capsys.readouterr()
    assert_one_line_error(capsys, ["render", str(tiny_style), str(tiny_clip), str(tmp_path / "o"), "--steady", "-1"],
                          "--steady must be between 0 and 0.95")


def test_render_phases_option(tiny_style, tiny_clip, tmp_path, capsys):
    """The default averages 4 shifted passes; --phases 1 is one pass; both write every frame, and differ."""
    assert main(["train", str(tiny_style), "--iterations", "3", "--no-guides"]) == 0
    one, four = tmp_path / "one", tmp_path / "four"
    assert main(["render", str(tiny_style), str(tiny_clip), str(one), "--phases", "1", "--steady", "0"]) == 0
    assert main(["render", str(tiny_style), str(tiny_clip), str(four), "--steady", "0"]) == 0
    names = sorted(p.name for p in tiny_clip.iterdir())
    assert sorted(p.name for p in four.iterdir()) == names
    a = [cv2.imread(str(one / n)) for n in names]
    b = [cv2.imread(str(four / n)) for n in names]
    assert all(x.shape == y.shape for x, y in zip(a, b, strict=True))
    assert any(not np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    capsys.readouterr()
    assert_one_line_error(capsys, ["render", str(tiny_style), str(tiny_clip), str(tmp_path / "o"), "--phases", "3"],
                          "--phases must be one of 1, 2, 4")


def test_render_to_video_file(tiny_style, tiny_clip, tmp_path):
    assert main(["train", str(tiny_style), "--iterations", "2", "--no-guides"]) == 0
    out = tmp_path / "out.avi"
    assert main(["render", str(tiny_style), str(tiny_clip), str(out)]) == 0
    cap = cv2.VideoCapture(str(out))
    n = 0
    while cap.read()[0]:
        n += 1
    assert n == 5
    assert not list(Path(tmp_path).glob(".*partial*"))


def test_train_init_is_recorded_and_a_bad_init_is_a_one_line_error(tiny_style, capsys):
    for init in ("scratch", "prior"):
        assert main(["train", str(tiny_style), "--iterations", "2", "--init", init]) == 0
        assert f"from {'random weights' if init == 'scratch' else 'the shipped prior'}" in capsys.readouterr().err
        assert checkpoint.load(tiny_style / "model.safetensors")[1].train["init"] == init
    assert main(["train", str(tiny_style), "--iterations", "2", "--resume"]) == 0
    assert checkpoint.load(tiny_style / "model.safetensors")[1].train["init"] == "resumed"
    capsys.readouterr()
    assert_one_line_error(capsys, ["train", str(tiny_style), "--init", "imagenet"], "--init")


def test_unknown_preset_is_a_one_line_error(tiny_style, capsys):
    assert_one_line_error(capsys, ["train", str(tiny_style), "--preset", "huge"], "unknown preset 'huge'")
