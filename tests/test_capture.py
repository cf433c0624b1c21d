"""Capture sources: spec parsing, synthetic/file/folder sources, camera lookup errors."""

from __future__ import annotations

import platform
from pathlib import Path

import cv2
import numpy as np
import pytest

from livestyle.capture import (
    FolderSource,
    SyntheticSource,
    VideoFileSource,
    WebcamSource,
    find_camera_by_name,
    list_linux_cameras,
    make_source,
    open_source,
)
from livestyle.errors import SourceError


def write_video(path: Path, n: int, size: tuple[int, int] = (96, 64), fps: float = 12.0) -> list[int]:
    """A clip whose frame i is a flat grey of level 20 * i; returns the levels."""
    fourcc = "MJPG" if path.suffix == ".avi" else "mp4v"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*fourcc), fps, size)
    levels = [20 * i for i in range(n)]
    for level in levels:
        writer.write(np.full((size[1], size[0], 3), level, np.uint8))
    writer.release()
    return levels


def test_synthetic_source_gives_bgr_frames_of_the_requested_size() -> None:
    with open_source("synthetic", 320, 180, 25) as src:
        assert (src.width, src.height, src.fps, src.live) == (320, 180, 25.0, False)
        a, b = src.read(), src.read()
    assert a is not None and b is not None
    assert a.shape == (180, 320, 3) and a.dtype == np.uint8
    assert not np.array_equal(a, b)  # the scene moves


def test_synthetic_source_is_deterministic_per_seed() -> None:
    def first_frames(seed: int) -> list[np.ndarray]:
        with SyntheticSource(160, 96, 30, seed=seed, paced=False) as src:
            return [src.read() for _ in range(3)]  # type: ignore[misc]

    one, two, other = first_frames(1), first_frames(1), first_frames(2)
    assert all(np.array_equal(x, y) for x, y in zip(one, two, strict=True))
    assert not np.array_equal(one[0], other[0])


def test_too_small_a_size_is_an_error_naming_the_minimum() -> None:
    with pytest.raises(SourceError, match="64x64"):
        open_source("synthetic", 48, 32)


@pytest.mark.parametrize("spec", ["webcam", "rtsp://host/cam", "nothing/here"])
def test_unknown_spec_lists_what_is_accepted(spec: str) -> None:
    with pytest.raises(SourceError) as err:
        open_source(spec)
    message = str(err.value)
    assert "\n" not in message
    assert "synthetic" in message and "/dev/videoN" in message and "name:" in message


def test_spec_dispatch(tmp_path: Path) -> None:
    video = tmp_path / "clip.avi"
    write_video(video, 3)
    assert isinstance(make_source("synthetic"), SyntheticSource)
    assert isinstance(make_source("0"), WebcamSource)
    assert isinstance(make_source("/dev/video7"), WebcamSource)
    assert isinstance(make_source("name:Integrated Camera"), WebcamSource)
    assert isinstance(make_source(str(video)), VideoFileSource)
    assert isinstance(make_source(str(tmp_path)), FolderSource)
    with pytest.raises(SourceError, match="no such video file"):
        make_source(str(tmp_path / "missing.mp4"))


def test_video_file_loops_at_its_own_fps_and_resizes(tmp_path: Path) -> None:
    video = tmp_path / "clip.avi"
    levels = write_video(video, 5, fps=12.0)
    with VideoFileSource(video, width=192, paced=False) as src:
        assert src.fps == pytest.approx(12.0)
        assert (src.width, src.height) == (192, 128)  # aspect ratio kept
        frames = [src.read() for _ in range(12)]
    seen = [int(round(float(f.mean()))) for f in frames if f is not None]
    assert len(seen) == 12 and frames[0].shape == (128, 192, 3)  # type: ignore[union-attr]
    expected = (levels * 3)[:12]
    assert np.allclose(seen, expected, atol=3)  # MJPG is lossy; the order is what matters


def test_video_file_without_loop_finishes(tmp_path: Path) -> None:
    video = tmp_path / "clip.avi"
    write_video(video, 4)
    with VideoFileSource(video, loop=False, paced=False) as src:
        frames = [src.read() for _ in range(6)]
        assert src.finished
    assert sum(f is not None for f in frames) == 4


def test_corrupt_video_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all")
    with pytest.raises(SourceError, match="bad.mp4: cannot decode"):
        open_source(str(bad))


def test_folder_plays_in_natural_order_loops_and_skips_bad_files(tmp_path: Path) -> None:
    for name, level in [("f1.png", 10), ("f2.png", 20), ("f10.png", 100)]:
        cv2.imwrite(str(tmp_path / name), np.full((64, 80, 3), level, np.uint8))
    (tmp_path / "f3.png").write_bytes(b"broken")
    (tmp_path / "notes.txt").write_text("ignored")
    with FolderSource(tmp_path, fps=50, paced=False) as src:
        assert (src.width, src.height, src.fps) == (80, 64, 50.0)
        levels = [int(src.read().mean()) for _ in range(6)]  # type: ignore[union-attr]
        assert any("f3.png" in w for w in src.warnings)
    assert levels == [10, 20, 100, 10, 20, 100]


def test_empty_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no images"):
        open_source(str(tmp_path))


def test_camera_lookup_by_name_uses_sysfs(tmp_path: Path) -> None:
    for node, name, index in [("video0", "Integrated Camera: Integrated C", 0),
                              ("video1", "Integrated Camera: Integrated C", 1),
                              ("video2", "Logitech BRIO", 0)]:
        (tmp_path / node).mkdir()
        (tmp_path / node / "name").write_text(name + "\n")
        (tmp_path / node / "index").write_text(f"{index}\n")
    assert list_linux_cameras(tmp_path)[0] == ("/dev/video0", "Integrated Camera: Integrated C")
    if platform.system() != "Linux":
        pytest.skip("camera names are only resolved on Linux")
    assert find_camera_by_name("brio", tmp_path) == "/dev/video2"
    assert find_camera_by_name("integrated", tmp_path) == "/dev/video0"  # the capture node, not metadata
    with pytest.raises(SourceError, match="no camera named 'Zoom'.*Logitech BRIO"):
        find_camera_by_name("Zoom", tmp_path)


@pytest.mark.skipif(platform.system() != "Linux", reason="device paths are Linux-only")
def test_missing_camera_device_is_a_one_line_error() -> None:
    if Path("/dev/video63").exists():
        pytest.skip("this machine has a /dev/video63")
    with pytest.raises(SourceError, match="/dev/video63: no such camera device") as err:
        open_source("/dev/video63")
    assert "\n" not in str(err.value)


@pytest.mark.skipif(platform.system() != "Linux", reason="needs a machine with no camera")
def test_camera_open_failure_names_every_backend_tried() -> None:
    if list_linux_cameras():
        pytest.skip("this machine has a camera")
    with pytest.raises(SourceError) as err:
        open_source("7")
    assert "V4L2:" in str(err.value) and "ANY:" in str(err.value)


def test_render_and_live_say_the_same_of_a_video_they_cannot_decode(tmp_path: Path) -> None:
    from livestyle.errors import LivestyleError
    from livestyle.files.video import read_clip

    bad = tmp_path / "take.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 20)
    with pytest.raises(SourceError) as live:
        open_source(str(bad))
    with pytest.raises(LivestyleError) as render:
        read_clip(bad)
    assert str(live.value) == str(render.value) and "cannot decode this video" in str(render.value)
    notes = tmp_path / "notes.txt"
    notes.write_text("not a video")
    with pytest.raises(LivestyleError, match=r"notes.txt: not a video or an image \('.txt'\)"):
        read_clip(notes)
