"""A recording cut off (full disk, killed process) keeps what was recorded, playable, beside its target;
a finished recording is still a plain, seekable H.264 MP4."""

from __future__ import annotations

import logging
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from livestyle.errors import SinkError
from livestyle.files import videowrite
from livestyle.outputs import RecordSink

OLD = b"an older take the user wants to keep\n" * 100

pytestmark = pytest.mark.skipif(videowrite.h264_unavailable() is not None,
                                reason=f"no H.264 encoder here: {videowrite.h264_unavailable()}")


def top_boxes(path: Path) -> list[str]:
    """The top-level ISO BMFF boxes of an MP4 (``ftyp``, ``moov``, ``mdat``... ``moof`` when fragmented)."""
    data, off, kinds = path.read_bytes(), 0, []
    while off + 8 <= len(data):
        n = int.from_bytes(data[off:off + 4], "big")
        kinds.append(data[off + 4:off + 8].decode())
        off += n if n >= 8 else len(data)
    return kinds


def read_all(path: Path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    while (f := cap.read())[0]:
        frames.append(f[1])
    cap.release()
    return frames


def noisy(i: int) -> np.ndarray:
    """A frame that compresses badly (a full disk comes quickly) with its index in its mean."""
    rng = np.random.default_rng(i)
    return (rng.integers(0, 60, (96, 160, 3)) + 3 * (i % 60)).astype(np.uint8)


def test_a_finished_recording_is_a_plain_seekable_h264_mp4(tmp_path):
    out = tmp_path / "take.mp4"
    with RecordSink(out) as sink:
        sink.open(160, 96, 30)
        for i in range(75):
            sink.send(np.full((96, 160, 3), 3 * i, np.uint8))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["take.mp4"]
    boxes = top_boxes(out)
    assert "moof" not in boxes and boxes.index("moov") < boxes.index("mdat"), boxes  # one index, at the front
    import av

    with av.open(str(out)) as c:
        v = c.streams.video[0]
        assert v.codec_context.name == "h264" and v.frames == 75
        assert abs(float(c.duration) / 1e6 - 2.5) < 0.05
    cap = cv2.VideoCapture(str(out))
    assert cap.get(cv2.CAP_PROP_FRAME_COUNT) == 75
    cap.set(cv2.CAP_PROP_POS_FRAMES, 60)
    ok, frame = cap.read()
    assert ok and abs(int(frame[40, 80, 1]) - 180) <= 4


def test_a_full_disk_keeps_the_take_so_far_as_a_partial_file_and_says_so_in_one_line(trained, tmp_path):
    rec = tmp_path / "take.mp4"
    rec.write_bytes(OLD)
    limit = len(OLD) + 100_000

    def full_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    p = subprocess.run([sys.executable, "-m", "livestyle", "live", "--style", str(trained), "--source", "synthetic",
                        "--output", f"record:{rec},null", "--width", "320", "--height", "192", "--max-frames", "300",
                        "--fps", "30", "--no-train"],
                       capture_output=True, text=True, timeout=300, preexec_fn=full_disk)
    assert p.returncode == 1 and "Traceback" not in p.stderr, p.stderr
    errors = [ln for ln in p.stderr.splitlines() if ln.startswith("livestyle: error:")]
    kept = tmp_path / "take.partial.mp4"
    assert len(errors) == 1 and "too large" in errors[0] and "kept the first 0:0" in errors[0], p.stderr
    assert str(kept) in errors[0], errors[0]
    assert rec.read_bytes() == OLD  # the older take is untouched
    assert sorted(x.name for x in tmp_path.iterdir()) == ["take.mp4", "take.partial.mp4"]  # no hidden file left
    frames = read_all(kept)
    assert len(frames) >= 30 and frames[0].shape == (192, 320, 3)  # at least the first fragment (one second)
    cap = cv2.VideoCapture(str(kept))
    assert cap.get(cv2.CAP_PROP_FRAME_COUNT) == len(frames)  # trimmed to whole fragments: the count is exact
    seconds = int(errors[0].split("kept the first 0:")[1][:2])
    assert seconds == len(frames) // 30


def test_the_writer_keeps_every_frame_of_the_complete_fragments(tmp_path):
    code = ("import resource, numpy as np\nfrom livestyle.files.videowrite import VideoFileWriter\n"
            "from tests.test_record_recovery import noisy\n"
            "resource.setrlimit(resource.RLIMIT_FSIZE, (600_000, 600_000))\n"
            f"w = VideoFileWriter({str(tmp_path / 'a.mp4')!r}, 30, keep_partial=True)\n"
            "for i in range(600):\n"
            "    w.write(noisy(i))\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       cwd=Path(__file__).parent.parent)
    assert "WriteError" in p.stderr and "kept the first" in p.stderr, p.stderr
    frames = read_all(tmp_path / "a.partial.mp4")
    assert len(frames) % 30 == 0 and len(frames) >= 30  # whole one-second fragments
    for i in (0, len(frames) - 1):  # in order, none missing: each frame's mean tells its index
        assert abs(float(frames[i].mean()) - (30 + 3 * (i % 60))) < 3


def test_a_killed_recording_plays_and_the_next_recording_there_keeps_it_visible(trained, tmp_path, caplog):
    rec = tmp_path / "take.mp4"
    p = subprocess.Popen([sys.executable, "-m", "livestyle", "live", "--style", str(trained), "--source",
                          "synthetic", "--output", f"record:{rec}", "--width", "160", "--height", "96",
                          "--fps", "30", "--no-train"], stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            hidden = list(tmp_path.glob(".take.*.recording.mp4"))
            if hidden and len(read_all(hidden[0])) >= 60:  # two fragments on the disk
                break
            time.sleep(0.2)
    finally:
        os.kill(p.pid, signal.SIGKILL)
        p.wait(30)
    assert len(hidden) == 1 and len(read_all(hidden[0])) >= 60  # the hidden take plays as it is
    with caplog.at_level(logging.WARNING), RecordSink(tmp_path / "take2.mp4") as sink:
        sink.open(160, 96, 30)
        sink.send(np.zeros((96, 160, 3), np.uint8))
    kept = tmp_path / "take.partial.mp4"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["take.partial.mp4", "take2.mp4"]
    assert len(read_all(kept)) >= 60
    assert any("cut off earlier" in r.getMessage() and str(kept) in r.getMessage() for r in caplog.records)


def test_a_recording_in_progress_is_not_taken_by_another_recording_into_the_same_folder(tmp_path):
    first, second = RecordSink(tmp_path / "a.mp4"), RecordSink(tmp_path / "b.mp4")
    first.open(160, 96, 30)
    for i in range(45):
        first.send(noisy(i))
    assert first.partial_path is not None and len(read_all(first.partial_path)) >= 30  # a fragment is on disk
    second.open(160, 96, 30)
    second.send(noisy(0))
    second.close()
    first.send(noisy(45))
    first.close()
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a.mp4", "b.mp4"]
    assert len(read_all(tmp_path / "a.mp4")) == 46


def test_no_room_to_rewrite_the_finished_take_keeps_it_fragmented_under_its_name(tmp_path, monkeypatch, caplog):
    def no_room(src, dst, packets):
        Path(dst).write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(videowrite, "remux", no_room)
    out = tmp_path / "take.mp4"
    with caplog.at_level(logging.WARNING), RecordSink(out) as sink:
        sink.open(160, 96, 30)
        for i in range(40):
            sink.send(noisy(i))
    assert sorted(x.name for x in tmp_path.iterdir()) == ["take.mp4"]
    assert "moof" in top_boxes(out) and len(read_all(out)) == 40
    assert any("fragmented MP4" in r.getMessage() for r in caplog.records)


def test_nothing_playable_is_nothing_saved(tmp_path):
    code = ("import resource, numpy as np\nfrom livestyle.outputs import RecordSink\n"
            "resource.setrlimit(resource.RLIMIT_FSIZE, (3000, 3000))\n"
            f"s = RecordSink({str(tmp_path / 'a.mp4')!r})\ns.open(160, 96, 30)\n"
            "for i in range(200):\n"
            "    s.send(np.random.default_rng(i).integers(0, 255, (96, 160, 3), np.uint8))\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert SinkError.__name__ in p.stderr and "nothing saved" in p.stderr, p.stderr
    assert list(tmp_path.iterdir()) == []
