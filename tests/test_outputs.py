"""Outputs: the real pyvirtualcam.Camera into an in-memory backend, recording, --output parsing."""

from __future__ import annotations

import platform
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import pyvirtualcam
from pyvirtualcam.util import decode_fourcc

from livestyle.errors import SinkError
from livestyle.outputs import (
    NullSink,
    PreviewSink,
    RecordSink,
    SinkSpec,
    VirtualCameraSink,
    parse_sinks,
)
from livestyle.outputs.preview import compose_preview

BACKEND = "livestyle-test-memory"
RED_BGR = (0, 0, 255)


class MemoryCamera:
    """A pyvirtualcam backend (duck-typed, as ``register_backend`` allows) that keeps frames in memory."""

    last: MemoryCamera | None = None
    accepts = ("I420", "24BG", "raw ")  # fourccs of I420, BGR, RGB

    def __init__(self, *, width: int, height: int, fps: float, fourcc: int, device: str | None, **kw: Any) -> None:
        self.format = decode_fourcc(fourcc)
        if self.format not in self.accepts:
            raise RuntimeError(f"unsupported pixel format {self.format!r}")
        self.width, self.height, self.fps = width, height, fps
        self._device = device or "memcam0"
        self.frames: list[np.ndarray] = []
        self.closed = False
        MemoryCamera.last = self

    def send(self, frame: np.ndarray) -> None:
        self.frames.append(frame.copy())

    def close(self) -> None:
        self.closed = True

    def device(self) -> str:
        return self._device

    def native_fourcc(self) -> int | None:
        return None


@pytest.fixture
def memcam() -> Iterator[type[MemoryCamera]]:
    pyvirtualcam.register_backend(BACKEND, MemoryCamera)
    MemoryCamera.accepts = ("I420", "24BG", "raw ")
    yield MemoryCamera
    pyvirtualcam.camera.BACKENDS.pop(BACKEND, None)  # leave the default backends as they were


def solid(w: int, h: int, bgr: tuple[int, int, int]) -> np.ndarray:
    return np.full((h, w, 3), bgr, np.uint8)


def test_vcam_sends_i420_through_the_real_camera(memcam: type[MemoryCamera]) -> None:
    with VirtualCameraSink(backend=BACKEND) as sink:
        sink.open(640, 360, 30)
        assert sink.state == "on" and sink.name == "vcam memcam0"
        for _ in range(3):
            sink.send(solid(640, 360, RED_BGR))
    cam = memcam.last
    assert cam is not None and cam.closed and sink.state == "off"
    assert (cam.width, cam.height, cam.format) == (640, 360, "I420")
    assert len(cam.frames) == 3 and cam.frames[0].size == 640 * 360 * 3 // 2
    back = cv2.cvtColor(cam.frames[0].reshape(540, 640), cv2.COLOR_YUV2BGR_I420)
    assert np.abs(back.astype(int) - RED_BGR).max() <= 4  # red stays red: no channel swap


def test_vcam_bgr_format_passes_frames_unchanged(memcam: type[MemoryCamera]) -> None:
    frame = np.random.default_rng(0).integers(0, 256, (360, 640, 3), dtype=np.uint8)
    with VirtualCameraSink(backend=BACKEND, fmt="BGR") as sink:
        sink.open(640, 360, 30)
        sink.send(frame)
    cam = memcam.last
    assert cam is not None and cam.format == "24BG"
    np.testing.assert_array_equal(cam.frames[0].reshape(360, 640, 3), frame)


def test_vcam_falls_back_to_a_format_the_backend_accepts(memcam: type[MemoryCamera]) -> None:
    memcam.accepts = ("24BG",)
    with VirtualCameraSink(backend=BACKEND) as sink:
        sink.open(320, 180, 30)
        sink.send(solid(320, 180, RED_BGR))
        assert sink.fmt == "BGR"
    assert memcam.last is not None and memcam.last.frames[0].reshape(180, 320, 3)[0, 0].tolist() == list(RED_BGR)


def test_vcam_crops_odd_sizes_to_even(memcam: type[MemoryCamera]) -> None:
    with VirtualCameraSink(backend=BACKEND, fmt="RGB") as sink:
        sink.open(641, 361, 30)
        sink.send(solid(641, 361, RED_BGR))
    cam = memcam.last
    assert cam is not None and (cam.width, cam.height) == (640, 360)
    assert cam.frames[0].reshape(360, 640, 3)[0, 0].tolist() == [255, 0, 0]  # RGB order


def test_vcam_resizes_frames_of_another_size(memcam: type[MemoryCamera]) -> None:
    with VirtualCameraSink(backend=BACKEND, fmt="BGR") as sink:
        sink.open(320, 180, 30)
        sink.send(solid(640, 360, RED_BGR))
    assert memcam.last is not None and memcam.last.frames[0].size == 320 * 180 * 3


def test_unknown_vcam_backend_lists_the_available_ones(memcam: type[MemoryCamera]) -> None:
    with pytest.raises(SinkError, match=f"'nope' does not exist; available: .*{BACKEND}"):
        VirtualCameraSink(backend="nope").open(320, 180, 30)


@pytest.mark.skipif(platform.system() != "Linux", reason="the v4l2loopback message is Linux's")
def test_missing_driver_gives_one_line_with_the_fix() -> None:
    if Path("/sys/module/v4l2loopback").exists():
        pytest.skip("v4l2loopback is loaded on this machine")
    sink = VirtualCameraSink()  # default backend: v4l2loopback, which finds no device here
    with pytest.raises(SinkError) as err:
        sink.open(640, 360, 30)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("no virtual camera")
    assert "sudo modprobe v4l2loopback devices=1 exclusive_caps=1 card_label=livestyle" in message
    assert "v4l2loopback-dkms" in message
    assert sink.state.startswith("error: no virtual camera")


@pytest.mark.parametrize("ext", [".avi", ".mp4", ".mkv"])
def test_record_writes_a_readable_video_and_renames_on_close(tmp_path: Path, ext: str) -> None:
    path = tmp_path / "sub" / f"out{ext}"
    sink = RecordSink(path)
    sink.open(160, 96, 15)
    for i in range(12):
        sink.send(solid(160, 96, (10 * i, 100, 200)))
    assert not path.exists() and sink.partial_path.exists()  # the real name only once complete
    sink.close()
    assert path.exists() and not sink.partial_path.exists()
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    assert len(frames) == 12
    assert frames[0].shape == (96, 160, 3)
    assert np.abs(frames[5][48, 80].astype(int) - (50, 100, 200)).max() <= 12  # lossy codecs


def test_record_with_no_frames_leaves_no_file(tmp_path: Path) -> None:
    sink = RecordSink(tmp_path / "empty.avi")
    sink.open(64, 64, 30)
    sink.close()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("ext", [".avi", ".mp4"])
def test_a_recording_that_cannot_be_created_fails_when_it_opens_not_when_it_stops(tmp_path: Path, ext: str) -> None:
    """FFmpeg creates the file at its first packet, often at the end: a recording into a read-only folder
    ran the whole session and failed when stopped. A name too long for its temporary file fails even as root."""
    sink = RecordSink(tmp_path / f"{'x' * 240}{ext}")
    with pytest.raises(SinkError, match=r"cannot record: .*: cannot write \(the name is too long\)"):
        sink.open(64, 64, 30)
    assert list(tmp_path.iterdir()) == []


def test_parse_sinks_accepts_the_documented_forms() -> None:
    assert parse_sinks("vcam, preview,record:out.mp4,null") == [
        SinkSpec("vcam"), SinkSpec("preview"), SinkSpec("record", "out.mp4"), SinkSpec("null")]
    assert parse_sinks("vcam:/dev/video4") == [SinkSpec("vcam", "/dev/video4")]
    assert isinstance(parse_sinks("null")[0].create(), NullSink)
    assert isinstance(parse_sinks("record:x.avi")[0].create(), RecordSink)


@pytest.mark.parametrize(("spec", "expected"), [
    ("zoom", "unknown output 'zoom'; valid outputs: vcam"),
    ("", "empty output"),
    ("vcam,,null", "empty output"),
    ("record", "needs a file name"),
    ("record:out.gif", "cannot record to '.gif'"),
    ("preview:big", "takes no argument"),
    ("null,null", "given twice"),
])
def test_parse_sinks_errors_are_one_line(spec: str, expected: str) -> None:
    with pytest.raises(SinkError, match=expected) as err:
        parse_sinks(spec)
    assert "\n" not in str(err.value)


def test_sink_rejects_wrong_dtype_and_shape() -> None:
    with NullSink() as sink:
        sink.open(64, 64, 30)
        with pytest.raises(TypeError):
            sink.send(np.zeros((64, 64, 3), np.float32))
        with pytest.raises(ValueError):
            sink.send(np.zeros((64, 64), np.uint8))


def test_preview_without_display_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    if platform.system() != "Linux":
        pytest.skip("display detection by environment is Linux-only")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(SinkError, match="preview: no display"):
        PreviewSink().open(64, 64, 30)


def test_preview_mirrors_each_half_and_keeps_the_camera_left() -> None:
    stylized = np.zeros((2, 3, 3), np.uint8)
    stylized[:, 0] = 255  # white left column
    original = np.full((2, 3, 3), 7, np.uint8)
    shown = compose_preview(stylized, original, mirror=True, side_by_side=True)
    assert shown.shape == (2, 6, 3)
    assert (shown[:, :3] == 7).all()  # camera half on the left
    assert shown[0, 5].tolist() == [255, 255, 255]  # white column mirrored to the right edge
    assert compose_preview(stylized, None, mirror=False, side_by_side=True) is stylized
