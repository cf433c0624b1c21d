"""The files that painting tools and phones write, read as a user expects: a JPEG turned upright by its EXIF
orientation (a phone photo), a paint layer exported with transparency (the keyframe shows through), a painting
or mask exported at another size of the same shape (resized, with a note), and one of another shape or turned
on its side (one error line saying what to do). Real files, real ``livestyle train`` runs.
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


def test_transparent_parts_of_a_painting_show_the_keyframe_not_black(key, tmp_path, capsys):
    painting = paint(key)
    alpha = np.zeros(key.shape[:2], np.uint8)
    alpha[:, :60] = 255  # strokes on the left; the right was never painted (a paint layer exported alone)
    alpha[:, 60:80] = 128  # a soft edge: half paint, half photo
    style = make_style(tmp_path / "style", key, np.dstack([painting, alpha]))
    (kf,) = StyleFolder(style).load()
    assert np.array_equal(kf.styled[:, :60], painting[:, :60])
    assert np.array_equal(kf.styled[:, 80:], key[:, 80:])
    half = (painting[:, 60:80].astype(np.float32) * 128 + key[:, 60:80].astype(np.float32) * 127) / 255
    assert np.abs(kf.styled[:, 60:80].astype(np.float32) - half).max() <= 1
    rc, lines = train_lines(capsys, style)
    assert rc == 0 and any("transparent parts: the keyframe shows through" in line for line in lines), lines


@pytest.mark.parametrize(("size", "what"), [((320, 192), "2x"), ((162, 97), "a few pixels over"), ((80, 48), "half")])
def test_a_painting_of_the_keyframes_shape_at_another_size_is_resized_with_a_note(key, size, what, tmp_path, capsys):
    painting = paint(key)
    style = make_style(tmp_path / "style", key, cv2.resize(painting, size, interpolation=cv2.INTER_CUBIC))
    before = (style / "styled" / "000.png").read_bytes()
    rc, lines = train_lines(capsys, style)
    assert rc == 0, lines
    assert any(f"is {size[0]}x{size[1]}, its keyframe 160x96; the painting is resized to it" in line
               for line in lines), lines
    (kf,) = StyleFolder(style).load()
    assert kf.styled.shape == key.shape
    assert np.abs(kf.styled.astype(int) - painting).mean() < 20  # the same picture, not stretched or shifted
    assert (style / "styled" / "000.png").read_bytes() == before  # the user's file is left as it was


def test_a_mask_at_twice_the_size_is_resized_and_stays_binary(key, tmp_path, capsys):
    style = make_style(tmp_path / "style", key, paint(key))
    mask = np.zeros((192, 320), np.uint8)
    mask[40:160, 80:240] = 255
    cv2.imwrite(str(style / "masks" / "000.png"), cv2.GaussianBlur(mask, (0, 0), 3))  # soft, anti-aliased
    rc, lines = train_lines(capsys, style)
    assert rc == 0 and any("the mask is resized to it" in line for line in lines), lines
    (kf,) = StyleFolder(style).load()
    assert kf.mask is not None and kf.mask.shape == key.shape[:2]
    assert set(np.unique(kf.mask)) == {0, 255}
    assert kf.mask[48, 80] == 255 and kf.mask[5, 5] == 0


@pytest.mark.parametrize(("size", "needle"), [
    ((160, 120), "differs from its keyframe 000.png (160x96) in shape; crop or resize its canvas to 160x96"),
    ((96, 160), "it looks turned on its side: rotate it back to 160x96"),
])
def test_a_painting_of_another_shape_is_one_error_line_saying_what_to_do(key, size, needle, tmp_path, capsys):
    style = make_style(tmp_path / "style", key, cv2.resize(paint(key), size))
    rc, lines = train_lines(capsys, style)
    assert rc == 2 and len(lines) == 1 and lines[0].startswith("livestyle: error: "), lines
    assert needle in lines[0], lines[0]
    assert not (style / "model.safetensors").exists()


def test_a_mask_painted_only_in_dark_grey_is_called_empty_not_all_black(key, tmp_path, capsys):
    style = make_style(tmp_path / "style", key, paint(key))
    mask = np.zeros(key.shape[:2], np.uint8)
    mask[20:80, 40:120] = 100
    cv2.imwrite(str(style / "masks" / "000.png"), mask)
    rc, lines = train_lines(capsys, style)
    assert rc == 2 and len(lines) == 1, lines
    assert "mask is empty (no pixel brighter than mid-grey)" in lines[0]


@pytest.mark.parametrize("ext", [".psd", ".kra", ".xcf", ".heic", ".procreate"])
def test_an_editors_own_file_in_styled_says_to_export_it_as_png(key, ext, tmp_path, capsys):
    style = make_style(tmp_path / "style", key)
    (style / "styled" / f"000{ext}").write_bytes(b"an editor's layered file")
    rc, lines = train_lines(capsys, style)
    assert rc == 2 and len(lines) == 1, lines
    assert f"000{ext}: livestyle cannot read {ext} files; export the painting as PNG to styled/000.png" in lines[0]


def test_the_tuis_thumbnails_show_a_jpeg_painting_and_read_files_as_training_does(key, tmp_path):
    from livestyle.tui.widgets.thumbs import keyframe_files, load_thumb

    style = make_style(tmp_path / "style", key)
    (style / "keys" / "000.png").unlink()
    (style / "keys" / "000.jpg").write_bytes(exif_jpeg(key, 6))  # a phone photo
    cv2.imwrite(str(style / "styled" / "000.jpg"), paint(cv2.rotate(key, cv2.ROTATE_90_CLOCKWISE)))
    key_path, painting_path = keyframe_files(style, "000")
    assert (key_path, painting_path) == (style / "keys" / "000.jpg", style / "styled" / "000.jpg")
    assert load_thumb(key_path).shape == load_thumb(painting_path).shape == (160, 96, 3)  # both upright
    cv2.imwrite(str(style / "styled" / "001.png"), key.astype(np.uint16) * 257)  # 16-bit
    assert load_thumb(style / "styled" / "001.png").dtype == np.uint8


def test_a_32_bit_float_export_keeps_its_colours(key, tmp_path):
    painting = paint(key)
    as_float = painting.astype(np.float32) / 255.0  # Krita's and GIMP's 32-bit float TIFF: 0..1
    as_float[:10] = 1.5  # an HDR highlight brighter than white
    assert cv2.imwrite(str(tmp_path / "painting.tif"), as_float)
    got = read_image(tmp_path / "painting.tif")
    assert np.abs(got[10:].astype(int) - painting[10:]).max() <= 1  # was stretched min..max to 0..255
    assert (got[:10] == 255).all()


def test_a_painting_renamed_on_the_way_back_says_which_name_it_should_have(key, tmp_path, capsys):
    style = make_style(tmp_path / "style", key)
    cv2.imwrite(str(style / "styled" / "IMG_0042.PNG"), paint(key))  # as the tablet sent it back
    rc, lines = train_lines(capsys, style)
    assert rc == 2 and len(lines) == 1, lines
    assert ("IMG_0042.PNG: painting without its keyframe; rename it to 000.PNG if it paints keys/000.png, or "
            "add keys/IMG_0042.png") in lines[0]


def test_an_empty_painting_file_says_the_save_did_not_finish(key, tmp_path, capsys):
    style = make_style(tmp_path / "style", key)
    (style / "styled" / "000.png").write_bytes(b"")  # the editor crashed, or is still writing it
    rc, lines = train_lines(capsys, style)
    assert rc == 2 and len(lines) == 1, lines
    assert "000.png: empty file (0 bytes): the save failed or has not finished; save it again" in lines[0]


def test_two_paintings_of_one_keyframe_are_both_named(key, tmp_path, capsys):
    style = make_style(tmp_path / "style", key, paint(key))
    cv2.imwrite(str(style / "styled" / "000.jpg"), paint(key))  # exported again, as JPEG this time
    rc, lines = train_lines(capsys, style)
    assert rc == 2 and len(lines) == 1, lines
    assert "two images named '000'" in lines[0] and "(000.jpg and 000.png); keep one" in lines[0]
    assert (style / "styled" / "000.jpg").exists() and (style / "styled" / "000.png").exists()
