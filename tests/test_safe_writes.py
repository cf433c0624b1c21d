"""Nothing the user had is lost: interrupted or failed writes leave old files as they were, no
temporary file behind, and say what went wrong in one line; rendered videos are H.264."""

from __future__ import annotations

import hashlib
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from livestyle.errors import WriteError
from livestyle.files import videowrite
from livestyle.files.video import ClipWriter

from .conftest import astronaut

OLD = b"an old video the user wants to keep\n" * 100


def digest(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones included) with the hash of its bytes."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob(".*") if p.is_file()]


def run(args: list[str], fsize: int | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m livestyle ARGS``; ``fsize``: a file-size limit in bytes, as a full disk would stop writes."""
    def limit() -> None:
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    return subprocess.run([sys.executable, "-m", "livestyle", *args], capture_output=True, text=True,
                          timeout=300, preexec_fn=limit, cwd=cwd)


def assert_one_line_failure(p: subprocess.CompletedProcess[str], *needles: str) -> None:
    lines = [ln for ln in p.stderr.strip().splitlines() if ln.startswith("livestyle:")]
    assert p.returncode != 0, p.stderr
    assert "Traceback" not in p.stderr, p.stderr
    errors = [ln for ln in lines if "error" in ln]
    assert len(errors) == 1, p.stderr
    for needle in needles:
        assert needle in errors[0], errors[0]


def make_clip(folder: Path, n: int, size: tuple[int, int] = (96, 64)) -> Path:
    folder.mkdir(parents=True)
    big = astronaut((size[0] + 2 * n + 8, size[1] + 8))
    for i in range(n):
        cv2.imwrite(str(folder / f"{i:03d}.png"), big[4:4 + size[1], 2 * i:2 * i + size[0]])
    return folder


# -- the writer itself ------------------------------------------------------------------------

def test_a_video_reaches_its_name_only_when_complete_and_is_h264(tmp_path):
    if videowrite.h264_unavailable():
        pytest.skip(f"no H.264 encoder here: {videowrite.h264_unavailable()}")
    out = tmp_path / "out.mp4"
    out.write_bytes(OLD)
    w = ClipWriter(out, 30)
    for i in range(8):
        w.write(f"{i:03d}", np.full((63, 95, 3), 30 * i, np.uint8))  # odd sizes: padded for yuv420p
        assert out.read_bytes() == OLD
    w.close()
    assert not leftovers(tmp_path)
    cap = cv2.VideoCapture(str(out))
    fourcc = int(cap.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, "little").decode()
    frames = []
    while (f := cap.read())[0]:
        frames.append(f[1])
    assert fourcc in ("avc1", "h264"), fourcc
    assert len(frames) == 8 and frames[0].shape == (64, 96, 3)
    assert abs(int(frames[4][30, 40, 1]) - 120) <= 4
    import av  # and PyAV, an independent reader, agrees

    with av.open(str(out)) as c:
        assert c.streams.video[0].codec_context.name == "h264"


def test_an_exception_while_writing_keeps_the_old_video_and_leaves_no_temporary_file(tmp_path):
    out = tmp_path / "out.mp4"
    out.write_bytes(OLD)
    w = ClipWriter(out, 30)
    with pytest.raises(KeyboardInterrupt):
        try:
            w.write("000", np.zeros((64, 96, 3), np.uint8))
            raise KeyboardInterrupt
        finally:
            w.close()  # what render's own finally does
    assert out.read_bytes() == OLD and not leftovers(tmp_path)
    try:  # a writer made while its caller handles an older exception still commits on a clean close
        raise ValueError("handled elsewhere")
    except ValueError:
        w = ClipWriter(out, 30)
        w.write("000", np.zeros((64, 96, 3), np.uint8))
        w.close()
    assert out.read_bytes() != OLD and not leftovers(tmp_path)


def test_an_interrupted_png_render_leaves_an_older_render_s_frames_and_no_hidden_folder(tmp_path):
    """Frames go to a hidden folder beside the output until close(): an interrupt half way leaves every
    frame of an older render in the output folder as it was (they were overwritten one by one before)."""
    out = tmp_path / "frames"
    out.mkdir()
    for i in range(4):
        (out / f"{i:03d}.png").write_bytes(OLD)
    before = digest(out)
    w = ClipWriter(out, 30)
    with pytest.raises(KeyboardInterrupt):
        try:
            for i in range(2):
                w.write(f"{i:03d}", np.full((64, 96, 3), 40 * i, np.uint8))
                assert digest(out) == before  # nothing reaches the output folder while the render runs
            raise KeyboardInterrupt
        finally:
            w.close()  # what render's own finally does
    assert digest(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames"]  # no hidden folder left beside it
    with ClipWriter(out, 30) as w:  # a complete render replaces the frames it wrote and keeps the others
        for i in range(2):
            w.write(f"{i:03d}", np.full((64, 96, 3), 40 * i, np.uint8))
    assert [int(cv2.imread(str(out / f"{i:03d}.png"))[0, 0, 0]) for i in range(2)] == [0, 40]
    assert (out / "002.png").read_bytes() == OLD and (out / "003.png").read_bytes() == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames"]
    new = tmp_path / "new" / "frames"  # no folder there yet: it appears, whole, when the render completes
    w = ClipWriter(new, 30)
    w.write("000", np.zeros((64, 96, 3), np.uint8))
    assert not new.exists()
    w.close()
    assert [p.name for p in new.iterdir()] == ["000.png"] and [p.name for p in new.parent.iterdir()] == ["frames"]


def test_png_output_that_is_a_regular_file_is_one_line_and_kept(tmp_path):
    out = tmp_path / "frames"
    out.write_bytes(OLD)
    with pytest.raises(WriteError, match="is a file, not a folder for PNGs"):
        ClipWriter(out, 30)
    assert out.read_bytes() == OLD and [p.name for p in tmp_path.iterdir()] == ["frames"]


def test_without_pyav_mp4_falls_back_to_mpeg4_part2_with_a_note(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(videowrite, "h264_unavailable", lambda: "PyAV is not installed (pip install av)")
    out = tmp_path / "out.mp4"
    with ClipWriter(out, 30) as w:
        for i in range(5):
            w.write(f"{i:03d}", np.full((64, 96, 3), 40 * i, np.uint8))
    assert w.codec == "mp4v" and "MPEG-4 Part 2" in caplog.text and "pip install av" in caplog.text
    cap = cv2.VideoCapture(str(out))
    assert int(cap.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, "little") in (b"mp4v", b"FMP4")  # MPEG-4 Part 2
    assert sum(1 for _ in iter(lambda: cap.read()[0], False)) == 5


def test_a_full_disk_is_a_write_error_naming_the_path_and_the_old_file_stays(tmp_path):
    out = tmp_path / "out.mp4"
    out.write_bytes(OLD)
    code = (f"import resource, numpy as np\nfrom livestyle.files.video import ClipWriter\n"
            f"resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))\n"
            f"w = ClipWriter({str(out)!r}, 30)\n"
            f"try:\n"
            f"    for i in range(40):\n"
            f"        w.write(str(i), np.random.default_rng(i).integers(0, 255, (128, 160, 3), np.uint8))\n"
            f"finally:\n"
            f"    w.close()\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode != 0 and "WriteError" in p.stderr and str(out) in p.stderr, p.stderr
    assert "too large" in p.stderr, p.stderr
    assert out.read_bytes() == OLD and not leftovers(tmp_path)


# -- render -----------------------------------------------------------------------------------

@pytest.mark.parametrize("existing", [True, False], ids=["over-an-old-video", "new-video"])
def test_ctrl_c_during_a_render_leaves_the_old_video_byte_identical_and_no_partial_file(
        trained, tmp_path, existing):
    clip = make_clip(tmp_path / "clip", 240, (160, 96))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "out.mp4"
    if existing:
        out.write_bytes(OLD)
    p = subprocess.Popen([sys.executable, "-m", "livestyle", "render", str(trained), str(clip), str(out),
                          "--batch", "1"], stderr=subprocess.PIPE, text=True,
                         # a shell's background job ignores SIGINT and so would the child: give it the default
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 240
    while not list(out_dir.glob(".*partial*")) and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)  # until frames are being written to the temporary file
    assert p.poll() is None, "the render ended before it was interrupted: make the clip longer"
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert "Traceback" not in err
    assert not leftovers(out_dir), list(out_dir.iterdir())
    if existing:
        assert out.read_bytes() == OLD
    else:
        assert not out.exists()


@pytest.mark.parametrize("where", ["same", "inside", "contains", "same-video"])
def test_render_refuses_an_output_that_is_in_or_around_its_input(trained, tmp_path, where):
    clip = make_clip(tmp_path / "work" / "clip", 3)
    video = tmp_path / "work" / "in.mp4"
    video.write_bytes(OLD)
    inp, out = {"same": (clip, clip), "inside": (clip, clip / "styled"), "contains": (clip, tmp_path / "work"),
                "same-video": (video, video)}[where]
    before = digest(tmp_path / "work")
    p = run(["render", str(trained), str(inp), str(out)])
    assert_one_line_failure(p, str(out))
    assert p.stderr.count("\n") == 1 and "input" in p.stderr
    assert digest(tmp_path / "work") == before


def test_render_to_a_path_under_a_regular_file_is_one_line(trained, tmp_path):
    clip = make_clip(tmp_path / "clip", 3)
    (tmp_path / "afile").write_text("not a folder")
    for out in (tmp_path / "afile" / "out.mp4", tmp_path / "afile" / "frames"):
        assert_one_line_failure(run(["render", str(trained), str(clip), str(out)]), str(tmp_path / "afile"),
                                "regular file")
    assert (tmp_path / "afile").read_text() == "not a folder"


@pytest.mark.parametrize("output", ["out.mp4", "frames"])
def test_render_on_a_full_disk_is_one_line_and_keeps_what_was_there(trained, tmp_path, output):
    clip = make_clip(tmp_path / "clip", 12, (160, 96))
    out = tmp_path / "o" / output
    out.parent.mkdir()
    if output == "out.mp4":
        out.write_bytes(OLD)
    else:
        out.mkdir()
        (out / "000.png").write_bytes(OLD)
    p = run(["render", str(trained), str(clip), str(out), "--steady", "0"], fsize=6000)
    assert_one_line_failure(p, str(out), "too large")
    assert "wrote" not in p.stderr
    assert not leftovers(tmp_path / "o")
    assert (out if output == "out.mp4" else out / "000.png").read_bytes() == OLD


# -- other commands' files ---------------------------------------------------------------------

def test_train_save_on_a_full_disk_keeps_the_old_model(trained, tmp_path):
    import shutil

    style = tmp_path / "style"
    shutil.copytree(trained, style)
    before = (style / "model.safetensors").read_bytes()
    p = run(["train", str(style), "--iterations", "1", "--no-guides"], fsize=100_000)
    assert_one_line_failure(p, str(style / "model.safetensors"), "too large")
    assert (style / "model.safetensors").read_bytes() == before and not leftovers(style)


def interrupted_train(style: Path) -> subprocess.CompletedProcess[str]:
    """``livestyle train STYLE`` stopped with Ctrl-C a few seconds into training."""
    p = subprocess.Popen([sys.executable, "-m", "livestyle", "train", str(style), "--seconds", "200",
                          "--no-guides"], stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert p.stderr is not None
    first = p.stderr.readline()  # "livestyle: training ...": the trainer is built, steps follow
    assert "training" in first, first
    time.sleep(5)
    assert p.poll() is None, "training ended before it was interrupted"
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    return subprocess.CompletedProcess(p.args, p.returncode, "", first + err)


def test_ctrl_c_during_train_keeps_the_saved_model_and_puts_the_stopped_one_beside_it(trained, tmp_path):
    import shutil

    from livestyle.cli.train import STOPPED_FILE
    from livestyle.engine import checkpoint

    style = tmp_path / "style"
    shutil.copytree(trained, style)
    before = (style / "model.safetensors").read_bytes()
    p = interrupted_train(style)
    assert p.returncode == 130, p.stderr
    assert "Traceback" not in p.stderr
    assert (style / "model.safetensors").read_bytes() == before
    _, info = checkpoint.load(style / STOPPED_FILE)
    assert info.train["state"] == "stopped" and info.train["iterations"] > 0
    assert f"kept {style / 'model.safetensors'}" in p.stderr and STOPPED_FILE in p.stderr
    assert not leftovers(style)


def test_ctrl_c_during_a_first_train_saves_what_it_learned(trained, tmp_path):
    import shutil

    from livestyle.cli.train import STOPPED_FILE
    from livestyle.engine import checkpoint

    style = tmp_path / "style"
    shutil.copytree(trained, style)
    (style / "model.safetensors").unlink()
    p = interrupted_train(style)
    assert p.returncode == 130, p.stderr
    _, info = checkpoint.load(style / "model.safetensors")
    assert info.train["state"] == "stopped" and info.train["iterations"] > 0
    assert not (style / STOPPED_FILE).exists() and not leftovers(style)


def test_stats_json_under_a_regular_file_is_one_line(tmp_path):
    (tmp_path / "afile").write_text("x")
    p = run(["live", "--source", "synthetic", "--output", "null", "--width", "96", "--height", "64",
             "--max-frames", "3", "--no-train", "--stats-json", str(tmp_path / "afile" / "s.json")])
    assert_one_line_failure(p, str(tmp_path / "afile"), "regular file")


def test_a_recording_that_cannot_be_finished_is_an_error_and_live_exits_non_zero(trained, tmp_path):
    rec = tmp_path / "take.mp4"
    rec.write_bytes(OLD)
    p = run(["live", "--style", str(trained), "--source", "synthetic", "--output", f"record:{rec},null",
             "--width", "160", "--height", "96", "--max-frames", "40", "--no-train"], fsize=len(OLD) + 4000)
    assert p.returncode == 1, p.stderr
    assert "Traceback" not in p.stderr
    errors = [ln for ln in p.stderr.splitlines() if ln.startswith("livestyle: error:")]
    assert len(errors) == 1 and str(rec) in errors[0] and "too large" in errors[0], p.stderr
    assert rec.read_bytes() == OLD and not leftovers(tmp_path)


def test_write_error_names_the_cause():
    from livestyle.files.safepaths import write_error

    assert str(write_error("/x/y.mp4", OSError(28, "No space left on device"))) == (
        "/x/y.mp4: cannot write (the disk is full); nothing there was changed")
    assert isinstance(write_error("p", OSError(13, "Permission denied")), WriteError)


def test_settings_and_snapshots_that_cannot_be_written_are_one_line_errors(tmp_path):
    from livestyle.style import StyleFolder
    from livestyle.tui import settings as st

    (tmp_path / "afile").write_text("x")
    with pytest.raises(WriteError, match="afile/settings.toml: cannot write .*regular file"):
        st.save(st.Settings(), tmp_path / "afile" / "settings.toml")
    old = tmp_path / "settings.toml"
    st.save(st.Settings(masked=True), old)
    before = old.read_bytes()
    (tmp_path / "style" / "keys").mkdir(parents=True)
    (tmp_path / "style" / "keys" / "k1.png").mkdir()  # a folder where the snapshot's file would go
    with pytest.raises(WriteError, match="k1.png: cannot write .*it is a folder"):
        StyleFolder(tmp_path / "style").snapshot(np.zeros((32, 32, 3), np.uint8), None, "k1")
    assert old.read_bytes() == before and not leftovers(tmp_path)


def test_ctrl_c_during_live_finishes_the_recording_in_place(trained, tmp_path):
    rec = tmp_path / "take.mp4"
    rec.write_bytes(OLD)
    p = subprocess.Popen([sys.executable, "-m", "livestyle", "live", "--style", str(trained), "--source",
                          "synthetic", "--output", f"record:{rec}", "--width", "160", "--height", "96",
                          "--no-train"], stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert p.stderr is not None
    seen = []
    for line in p.stderr:  # until frames flow, however slow the machine is
        seen.append(line)
        if "livestyle: live:" in line:
            break
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".*partial*")) and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    err = "".join(seen) + err
    assert p.returncode == 130 and "Traceback" not in err, err
    assert not leftovers(tmp_path) and rec.read_bytes() != OLD  # the new take replaced the old one whole
    cap = cv2.VideoCapture(str(rec))
    assert cap.read()[0] and cap.get(cv2.CAP_PROP_FRAME_COUNT) > 3
