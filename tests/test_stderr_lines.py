"""What the command line prints on stderr: only ``livestyle:`` lines, even where a native library (libpng, FFmpeg)
writes its own to file descriptor 2, a source skips a frame, or a livestyle logger warns."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from livestyle.cli.live import DEMO_STYLE

from .test_bad_input import snapshot

# -- native libraries (a real process: they write to file descriptor 2, which capsys does not see) -------------

def _truncate(path: Path) -> None:
    """Replace the PNG at ``path`` with the first half of a noise image's PNG (libpng then says "PNG input
    buffer is incomplete" on fd 2; a smooth photo's half PNG failed without a word, testing nothing)."""
    import cv2
    import numpy as np

    noise = np.random.default_rng(0).integers(0, 256, (64, 96, 3), dtype=np.uint8)
    data = cv2.imencode(".png", noise)[1].tobytes()
    path.write_bytes(data[: len(data) // 2])


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "livestyle", *args], capture_output=True, text=True,
                          timeout=240, cwd=cwd)


@pytest.mark.parametrize("case", ["truncated keyframe", "truncated clip frame", "corrupt video"])
def test_native_library_lines_never_print_before_or_instead_of_ours(case, tiny_style, tiny_clip, tmp_path):
    if case == "truncated keyframe":
        _truncate(tiny_style / "keys" / "000.png")
        args, needle = ["train", str(tiny_style), "--iterations", "1"], "not a readable image"
    elif case == "truncated clip frame":
        _truncate(tiny_clip / "002.png")
        args, needle = ["render", str(DEMO_STYLE), str(tiny_clip), str(tmp_path / "out")], "not a readable image"
    else:
        video = tmp_path / "broken.mp4"
        video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 20)
        args, needle = ["render", str(DEMO_STYLE), str(video), str(tmp_path / "out.mp4")], "cannot decode this video"
    before = snapshot(tmp_path)
    p = _run(args, tmp_path)
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2, p.stderr
    assert lines and all(line.startswith("livestyle:") for line in lines), lines  # no libpng/FFmpeg line
    assert lines[-1].startswith("livestyle: error: ") and needle in lines[-1], lines
    assert len([line for line in lines if line.startswith("livestyle: error:")]) == 1
    assert snapshot(tmp_path) == before


def test_a_skipped_unreadable_frame_is_a_livestyle_warning_line(tiny_clip, tmp_path):
    """Live on a folder source skips a frame it cannot read and goes on; the line said so without the
    ``livestyle:`` prefix every other line has."""
    _truncate(tiny_clip / "002.png")
    p = _run(["live", "--style", str(DEMO_STYLE), "--source", str(tiny_clip), "--output", "null", "--no-train",
              "--width", "96", "--height", "64", "--max-frames", "8"], tmp_path)
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 0, p.stderr
    assert all(line.startswith("livestyle:") for line in lines), lines
    assert any(line.startswith(f"livestyle: warning: {tiny_clip / '002.png'}: ") and line.endswith("skipping it")
               for line in lines), lines


def test_the_loggers_warnings_read_as_the_command_line_s_own_lines(capsys):
    """A camera read that failed, an output that could not close: Python printed them bare."""
    import logging

    from livestyle.cli import log_as_our_lines

    log_as_our_lines()
    log_as_our_lines()  # once is enough: no line twice
    capsys.readouterr()
    logging.getLogger("livestyle.outputs.sender").warning("%s: close failed: %s", "vcam", "device gone")
    logging.getLogger("livestyle.capture.base").warning("livestyle: warning: %s", "a frame skipped")
    logging.getLogger("livestyle.capture.thread").info("not shown")
    assert capsys.readouterr().err.splitlines() == ["livestyle: warning: vcam: close failed: device gone",
                                                    "livestyle: warning: a frame skipped"]
