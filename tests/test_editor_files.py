"""The files that painting tools and phones write, read as a user expects: a JPEG turned upright by its EXIF
orientation (a phone photo). Real files, real ``livestyle train`` runs.
"""

from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np
import pytest

from livestyle.cli import main as cli_main
from livestyle.files.imageio import read_image
from livestyle.style import StyleFolder

from .conftest import astronaut, paint


def exif_jpeg(img: np.ndarray, orientation: int) -> bytes:
    """``img`` as a JPEG carrying an EXIF orientation tag, as a phone writes it: pixels stored as the sensor
    saw them, the tag saying how to turn them (6 = rotate 90 degrees clockwise to show)."""
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    tiff = b"MM\x00*" + struct.pack(">I", 8) + struct.pack(">H", 1)  # big-endian TIFF header, one IFD entry
    tiff += struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(">I", 0)  # Orientation, SHORT
    app1 = b"Exif\x00\x00" + tiff
    data = buf.tobytes()
    return data[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + data[2:]


@pytest.fixture
def key() -> np.ndarray:
    return astronaut((160, 96))


def make_style(root: Path, key: np.ndarray, painting: np.ndarray | None = None) -> Path:
    for sub in ("keys", "styled", "masks"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(root / "keys" / "000.png"), key)
    if painting is not None:
        cv2.imwrite(str(root / "styled" / "000.png"), painting)
    return root


def train_lines(capsys, style: Path) -> tuple[int, list[str]]:
    capsys.readouterr()
    rc = cli_main(["train", str(style), "--iterations", "1"])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return rc, [line for line in err.splitlines() if not line.startswith("train [")]


def test_a_phone_jpeg_is_read_upright_by_its_exif_orientation(key, tmp_path):
    (tmp_path / "photo.jpg").write_bytes(exif_jpeg(key, 6))
    (tmp_path / "photo-named.png").write_bytes(exif_jpeg(key, 6))  # a JPEG saved under a .png name
    upright = cv2.rotate(key, cv2.ROTATE_90_CLOCKWISE)
    for name in ("photo.jpg", "photo-named.png"):
        got = read_image(tmp_path / name)
        assert got.shape == upright.shape, name
        assert np.abs(got.astype(int) - upright).mean() < 3, name  # JPEG's loss only


def test_a_phone_keyframe_pairs_with_the_upright_painting_an_editor_exports(key, tmp_path, capsys):
    style = make_style(tmp_path / "style", key)
    (style / "keys" / "000.png").unlink()
    (style / "keys" / "000.jpg").write_bytes(exif_jpeg(key, 6))
    painting = paint(cv2.rotate(key, cv2.ROTATE_90_CLOCKWISE))  # the editor showed it upright
    cv2.imwrite(str(style / "styled" / "000.png"), painting)
    rc, lines = train_lines(capsys, style)
    assert rc == 0, lines
    (kf,) = StyleFolder(style).load()
    assert kf.key.shape == kf.styled.shape == painting.shape
