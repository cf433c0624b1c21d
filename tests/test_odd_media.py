"""Clips and sources as people have them: frames numbered without zero padding (frame1 ... frame12), folders
copied from a Mac (``._000.png`` AppleDouble files, ``.DS_Store``), a folder named like an image, names with
spaces and accents, a phone's vertical video. Real files, real ``livestyle render`` runs on the shipped demo style.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from livestyle.capture.files import FolderSource, VideoFileSource
from livestyle.cli import main as cli_main
from livestyle.cli.live import DEMO_STYLE

from .conftest import astronaut


def frames_folder(folder: Path, names: list[str]) -> Path:
    folder.mkdir(parents=True)
    big = astronaut((160, 96))
    for i, name in enumerate(names):
        (folder / name).write_bytes(cv2.imencode(".png", big[8:72, 2 * i:96 + 2 * i])[1].tobytes())
    return folder


def render(capsys, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    rc = cli_main(["render", str(DEMO_STYLE), *args, "--phases", "1"])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return rc, err


def test_render_takes_frames_numbered_without_zero_padding_in_number_order(tmp_path, capsys):
    clip = frames_folder(tmp_path / "clip", [f"frame{i}.png" for i in range(1, 13)])
    rc, err = render(capsys, str(clip), str(tmp_path / "out"), "--max-frames", "3")
    assert rc == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["frame1.png", "frame2.png", "frame3.png"]


def test_a_folder_copied_from_a_mac_renders_and_plays_its_frames_only(tmp_path, capsys):
    clip = frames_folder(tmp_path / "clip", ["000.png", "001.png", "002.png"])
    (clip / "._000.png").write_bytes(b"\x00\x05\x16\x07AppleDouble")  # macOS metadata beside each file on exFAT
    (clip / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (clip / "notes.txt").write_text("take 3")
    (clip / "more.png").mkdir()  # a folder named like an image
    rc, err = render(capsys, str(clip), str(tmp_path / "out"))
    assert rc == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["000.png", "001.png", "002.png"]
    source = FolderSource(clip, paced=False, loop=False)
    source.open()
    try:
        got = []
        while (frame := source.read()) is not None:
            got.append(frame)
    finally:
        source.close()
    assert len(got) == 3 and source.warnings == []  # no "._000.png: not a readable image" line


def test_names_with_spaces_and_accents_render_to_a_video(tmp_path, capsys):
    clip = frames_folder(tmp_path / "mes images été", ["prise 1 é.png", "prise 2 é.png"])
    out = tmp_path / "sortie ünï" / "résultat final.mp4"
    out.parent.mkdir()
    rc, err = render(capsys, str(clip), str(out))
    assert rc == 0, err
    cap = cv2.VideoCapture(str(out))
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    assert n == 2


def phone_video(path: Path, n: int = 3) -> np.ndarray:
    """A phone's vertical clip: 160x96 pixels stored as the sensor saw them, a display matrix turning them
    upright (96x160); returns the first frame as a player shows it."""
    import av

    img = astronaut((160, 96))
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        stream.set_display_rotation(-90)
        for _ in range(n):
            out.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="bgr24")))
        out.mux(stream.encode())
    return cv2.rotate(img, cv2.ROTATE_90_CLOCKWISE)


def test_a_vertical_phone_video_in_a_landscape_output_is_shown_whole_with_bars_not_stretched(tmp_path):
    upright = phone_video(tmp_path / "IMG_0001.mp4")
    source = VideoFileSource(tmp_path / "IMG_0001.mp4", 320, 180, paced=False)  # live's default shape
    source.open()
    try:
        frame = source.read()
    finally:
        source.close()
    assert frame is not None and frame.shape == (180, 320, 3)
    inner = cv2.resize(upright, (108, 180), interpolation=cv2.INTER_AREA)  # 96x160 scaled to 180 high
    assert np.abs(frame[:, 106:214].astype(int) - inner).mean() < 12  # upright, its shape kept (H.264's loss)
    assert frame[:, :100].max() < 16 and frame[:, 220:].max() < 16  # black bars at the sides
    assert any("96x160 is not the shape of 320x180; shown whole, with black bars" in w for w in source.warnings)


def test_an_odd_sized_clip_rendered_to_h264_says_the_video_is_one_pixel_larger(tmp_path, capsys):
    clip = tmp_path / "clip"
    clip.mkdir()
    for i in range(2):
        cv2.imwrite(str(clip / f"{i:03d}.png"), astronaut((97, 65)))
    rc, err = render(capsys, str(clip), str(tmp_path / "out.mp4"))
    assert rc == 0, err
    assert "the frames are 97x65; H.264 needs an even width and height, so the video is 98x66" in err, err
    cap = cv2.VideoCapture(str(tmp_path / "out.mp4"))
    ok, frame = cap.read()
    cap.release()
    assert ok and frame.shape == (66, 98, 3)
