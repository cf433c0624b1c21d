"""The catalogue of bad input (issue 17): every numeric flag's out-of-range value, every config key's bad value
and every unwritable path, each one line ``livestyle: error: ...``, exit 2, no traceback, and no file on disk
changed. Validation runs before any training, camera or model load, so each case takes milliseconds in-process
(what a real process prints on stderr, native libraries included: test_stderr_lines.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from livestyle.cli import main
from livestyle.cli.live import DEMO_STYLE
from livestyle.paths import config_dir

# (command line, text the one error line must hold). Placeholders: {style} an unpainted-but-complete style
# folder (tiny_style, no model), {demo} the shipped demo style (trained), {clip} a folder of five PNG frames,
# {file} a regular file, {tmp} the test's folder.
FLAG_CASES: list[tuple[str, str]] = [
    # render
    ("render {style} {clip} {tmp}/out --batch 0", "--batch must be a whole number between 1 and 64, got 0"),
    ("render {style} {clip} {tmp}/out --batch -3", "--batch must be"),
    ("render {style} {clip} {tmp}/out --batch 65", "--batch must be"),
    ("render {style} {clip} {tmp}/out --max-frames 0", "--max-frames must be a whole number of at least 1, got 0"),
    ("render {style} {clip} {tmp}/out --max-frames -1", "--max-frames must be"),
    ("render {style} {clip} {tmp}/out --max-frames -2", "--max-frames must be"),
    ("render {style} {clip} {tmp}/out --steady 0.96", "--steady must be between 0 and 0.95, got 0.96"),
    ("render {style} {clip} {tmp}/out --steady nan", "--steady must be"),
    ("render {style} {clip} {tmp}/out --carry -0.1", "--carry must be between 0 and 1"),
    ("render {style} {clip} {tmp}/out --phases 3", "--phases must be one of 1, 2, 4"),
    ("render {style} {clip} {tmp}/out --live --render-scale 0", "--render-scale must be between 0.25 and 1"),
    ("render {style} {clip} {tmp}/out --live --render-scale 1.5", "--render-scale must be"),
    ("render {style} {clip} {tmp}/out --live --segment-every 0", "--segment-every must be a whole number"),
    ("render {style} {clip} {tmp}/out --live --max-frames -1", "--max-frames must be"),
    # live
    ("live --width 0", "--width must be a whole number between 32 and 7680, got 0"),
    ("live --width 31", "--width must be"),
    ("live --width 100000", "--width must be"),
    ("live --height 0", "--height must be a whole number between 32 and 4320, got 0"),
    ("live --height -360", "--height must be"),
    ("live --fps 0", "--fps must be between 1 and 240, got 0"),
    ("live --fps -30", "--fps must be"),
    ("live --fps inf", "--fps must be"),
    ("live --seconds -1", "--seconds must be a number above 0, got -1"),
    ("live --seconds 0", "--seconds must be"),
    ("live --max-frames 0", "--max-frames must be"),
    ("live --max-frames -1", "--max-frames must be"),
    ("live --max-frames -2", "--max-frames must be"),
    ("live --steady 1", "--steady must be"),
    ("live --carry 1.5", "--carry must be"),
    ("live --phases 0", "--phases must be one of"),
    ("live --render-scale 0", "--render-scale must be"),
    ("live --render-scale 0.1", "--render-scale must be"),
    ("live --segment-every 0", "--segment-every must be"),
    ("live --segment-every -2", "--segment-every must be"),
    ("live --strength 1.5", "--strength must be between 0 and 1, got 1.5"),
    ("render {style} {clip} {tmp}/out --live --strength 2", "--strength must be between 0 and 1, got 2"),
    ("render {style} {clip} {tmp}/out --strength 0.5", "--strength only applies with --live"),
    ("live --strength -0.1", "--strength must be"),
    ("live --transition -1", "--transition must be between 0 and 10, got -1"),
    ("live --transition 11", "--transition must be"),
    ("live --output ndi:", "bad NDI name '': give 1..200 characters"),
    ("live --output ndi:a(b)", "bad NDI name 'a(b)'"),
    ("live --output spout:", "bad spout name ''"),
    ("live --output syphon:", "bad syphon name ''"),
    ("live --output window:x", "window:x: give a display index 0..15 and/or 'mirror'"),
    ("live --output window:16", "window:16: give a display index 0..15"),
    ("live --output window:1,window:1", "output 'window:1' is given twice"),
    ("live --source ndi:", "ndi: give the NDI source's name or HOST:PORT"),
    ("live --source ndi:127.0.0.1:70000", "ndi:127.0.0.1:70000: the port must be 1..65535"),
    ("live --osc 70000", "--osc 70000: give a UDP port 0..65535"),
    ("live --osc host:", "--osc host:: give a UDP port"),
    ("live --midi --midi-map {tmp}/none.toml", "no such file; write one (docs/control.md)"),
    ("live --midi-map {tmp}/none.toml", "needs --midi: add --midi"),
    ("midi-learn strength", "give --out FILE"),
    ("--strength 3", "--strength must be between 0 and 1, got 3"),
    ("--osc nope", "--osc nope: give a UDP port"),
    ("midi-learn volume --out {tmp}/m.toml", "'volume' is not a live parameter"),
    # demo (live's flags on the shipped style)
    ("demo --max-frames 0", "--max-frames must be"),
    ("demo --max-frames -1", "--max-frames must be"),
    ("demo --width 0", "--width must be"),
    ("demo --fps 0", "--fps must be"),
    ("demo --seconds -5", "--seconds must be"),
    ("demo --steady 2", "--steady must be"),
    # train
    ("train {style} --seconds 0", "--seconds must be a number above 0, got 0"),
    ("train {style} --seconds -3", "--seconds must be"),
    ("train {style} --seconds nan", "--seconds must be"),
    ("train {style} --iterations 0", "--iterations must be a whole number of at least 1, got 0"),
    ("train {style} --iterations -5", "--iterations must be"),
    ("train {style} --loss 4,-6,0.5", "--loss weight PERC must be between 0 and 1000"),
    ("train {style} --loss 0,0,0", "all three weights are 0"),
    ("train {style} --loss 4,6", "give three numbers"),
    ("train {style} --seed -1", "--seed must be a whole number between 0 and 4294967295"),
    ("train {style} --init nothing", "--init must be 'prior' or 'scratch'"),
    ("train {style} --preset nope", "unknown preset 'nope'"),
    # calibrate
    ("calibrate --target-fps 0", "--target-fps must be between 1 and 240, got 0"),
    ("calibrate --target-fps -30", "--target-fps must be"),
    ("calibrate --target-fps 1000", "--target-fps must be"),
    ("calibrate --target-fps nan", "--target-fps must be"),
]

PATH_CASES: list[tuple[str, str]] = [
    # a path under a regular file, a folder where a file goes, an output that is or is inside its input
    ("render {demo} {clip} {file}/out", "a folder on the way is a regular file"),
    ("render {demo} {clip} {file}/out.mp4", "a folder on the way is a regular file"),
    ("render {demo} {clip} {clip}", "the output is the input"),
    ("render {demo} {clip} {clip}/styled", "the output is inside the input"),
    ("render {file}/style {clip} {tmp}/out", "is inside"),
    # an output that would write over the style: its keyframes, paintings, masks, model, or the folder
    ("render {style} {clip} {style}/keys", "the style's keys/ folder"),
    ("render {style} {clip} {style}/styled/frames", "the style's styled/ folder"),
    ("render {style} {clip} {style}/masks", "the style's masks/ folder"),
    ("render {style} {clip} {style}/model.safetensors", "the output is the style's model"),
    ("render {style} {clip} {style}", "the output is the style folder"),
    ("render {style} {clip} {style}/keys --live", "the style's keys/ folder"),
    ("train {file}", "not a style folder (is a file)"),
    ("train {file}/style", "which is a file"),
    ("live --style {file}", "not a style folder (is a file)"),
    ("live --style {file}/style", "which is a file"),
    ("live --stats-json {file}/stats.json", "a folder on the way is a regular file"),
    ("live --stats-json {tmp}", "it is a folder"),
    ("live --width 64 --height 64 --output record:{file}/take.mp4", "a folder on the way is a regular file"),
    ("live --width 64 --height 64 --output record:{file}/a.mp4,record:{file}/b.mp4", "a folder on the way is a"),
    ("demo --output record:{file}/demo.mp4", "a folder on the way is a regular file"),
    # an output that cannot be written is refused before the work that would be lost: the model load (the
    # unpainted style has none), a session (null would run it), the controls moved in midi-learn
    ("render {style} {clip} {file}/out.mp4", "a folder on the way is a regular file"),
    ("render {style} {clip} {file}/frames", "a folder on the way is a regular file"),
    ("live --max-frames 2 --output null,record:{file}/take.mp4", "a folder on the way is a regular file"),
    ("live --max-frames 2 --record-dir {file}", "it is a file, not a folder"),
    ("live --max-frames 2 --record-dir {file}/takes", "a folder on the way is a regular file"),
    ("midi-learn strength --out {file}/m.toml", "a folder on the way is a regular file"),
    ("--style {file}/style", "which is a file"),  # the TUI's flag: refused before the TUI opens
    ("--config {tmp}/missing.toml", "no such settings file"),
]

# calibration.toml (read by live, demo, render --live and the TUI): one bad key each, then `live`.
CALIBRATION_CASES: list[tuple[str, str]] = [
    ('width = "wide"', "key 'width' must be an int"),
    ("width = 640.5", "key 'width' must be an int"),
    ("width = true", "key 'width' must be an int"),
    ("width = 0", "key width must be a whole number between 32 and 7680"),
    ("height = 99999", "key height must be"),
    ("steady = 2.0", "key steady must be between 0 and 0.95"),
    ('carry = "lots"', "key 'carry' must be a float"),
    ("carry = -1", "key carry must be"),
    ("phases = 3", "key phases must be one of 1, 2, 4"),
    ("render_scale = 0.0", "key render_scale must be"),
    ('preset = "huge"', "key 'preset' must be one of"),
    ('precision = "fp8"', "key 'precision' must be one of"),
    ("target_fps = 0", "key target_fps must be"),
    ("colour = 3", "unknown key 'colour'"),
    ("width = ", "not valid TOML"),
]

# settings.toml (the TUI's): wrong types, values out of range, unknown keys; the TUI stops before it opens.
SETTINGS_CASES: list[tuple[str, str]] = [
    ('width = "640"', "key 'width' must be an int"),
    ("width = 0", "key width must be a whole number between 32 and 7680"),
    ("height = -1", "key height must be"),
    ("fps = 0", "key fps must be between 1 and 240"),
    ("fps = 1000.0", "key fps must be"),
    ("masked = 1", "key 'masked' must be a bool"),
    ('background = "pink"', "key background must be one of"),
    ('preview = "ascii"', "key preview must be one of"),
    ("style = 3", "key 'style' must be a str"),
    ("colour = 3", "unknown key 'colour'"),
]


def snapshot(*roots: Path) -> dict[str, bytes | None]:
    """Every file (its bytes) and folder (None) under ``roots``: what a failed command must leave as it was."""
    out: dict[str, bytes | None] = {}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            for d in dirnames:
                out[os.path.join(dirpath, d)] = None
            for f in filenames:
                out[os.path.join(dirpath, f)] = Path(dirpath, f).read_bytes()
    return out


@pytest.fixture
def places(tiny_style: Path, tiny_clip: Path, tmp_path: Path) -> dict[str, str]:
    afile = tmp_path / "afile"
    afile.write_bytes(b"not a folder\n")
    return {"style": str(tiny_style), "demo": str(DEMO_STYLE), "clip": str(tiny_clip), "file": str(afile),
            "tmp": str(tmp_path)}


def assert_refused(capsys, argv: list[str], needle: str, roots: list[Path]) -> str:
    """``main(argv)`` exits 2 with exactly one stderr line, ``livestyle: error: ...`` holding ``needle``, no
    traceback, and leaves every file and folder under ``roots`` as it was."""
    capsys.readouterr()
    before = snapshot(*roots)
    rc = main(argv)
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert rc == 2, (rc, captured.err)
    assert len(lines) == 1 and lines[0].startswith("livestyle: error: "), lines
    assert needle in lines[0], lines[0]
    assert "Traceback" not in captured.err + captured.out
    assert snapshot(*roots) == before, "a refused command changed files on disk"
    return lines[0]


@pytest.mark.parametrize(("line", "needle"), FLAG_CASES + PATH_CASES, ids=[c[0] for c in FLAG_CASES + PATH_CASES])
def test_a_bad_flag_or_path_is_one_line_exit_2_and_changes_nothing(line, needle, places, tmp_path, capsys):
    argv = [part.format(**places) for part in line.split()]
    assert_refused(capsys, argv, needle.format(**places), [tmp_path, config_dir()])


@pytest.mark.parametrize(("entry", "needle"), CALIBRATION_CASES, ids=[c[0] for c in CALIBRATION_CASES])
def test_a_bad_calibration_value_names_the_file_and_key(entry, needle, tmp_path, capsys):
    cal = config_dir() / "calibration.toml"
    cal.parent.mkdir(parents=True, exist_ok=True)
    cal.write_text(f'[live]\npreset = "fast"\n{entry}\n' if not entry.startswith("preset") else f"[live]\n{entry}\n")
    line = assert_refused(capsys, ["live", "--max-frames", "1"], needle, [tmp_path, config_dir()])
    assert line.startswith(f"livestyle: error: {cal}: ")


def test_an_unknown_calibration_table_is_refused(tmp_path, capsys):
    cal = config_dir() / "calibration.toml"
    cal.parent.mkdir(parents=True, exist_ok=True)
    cal.write_text("[live]\nwidth = 640\n[extra]\nx = 1\n")
    assert_refused(capsys, ["demo", "--max-frames", "1"], "unknown table or key 'extra'", [tmp_path, config_dir()])


def test_calibrate_refuses_a_config_folder_it_cannot_write_before_measuring(tmp_path, monkeypatch, capsys):
    """Measuring takes minutes; the file it is saved to failed only at the end."""
    afile = tmp_path / "afile"
    afile.write_bytes(b"not a folder\n")
    monkeypatch.setenv("LIVESTYLE_CONFIG_DIR", str(afile / "livestyle"))
    line = assert_refused(capsys, ["calibrate"], "a folder on the way is a regular file", [tmp_path])
    assert line.startswith(f"livestyle: error: {afile}/livestyle/calibration.toml: ") and "LIVESTYLE_CONFIG_DIR" in line


def test_no_permission_and_a_read_only_disk_say_how_to_fix_them():
    import errno

    from livestyle.files.safepaths import write_error

    for code, fix in ((errno.EACCES, "choose a place you can write to"), (errno.EROFS, "a disk that is not read-only")):
        msg = str(write_error("/x/out.mp4", OSError(code, "")))
        assert msg.startswith("/x/out.mp4: cannot write (") and fix in msg, msg


@pytest.mark.parametrize("output", ["out.mp4", "out", "existing"])
def test_a_read_only_output_folder_is_refused_before_rendering(output, tiny_clip, tmp_path, capsys):
    """The real case (a folder without write permission), where permissions hold: not for root."""
    ro = tmp_path / "ro"
    (ro / "existing").mkdir(parents=True)
    target = ro / output
    (target if output == "existing" else ro).chmod(0o555)
    if os.access(target if output == "existing" else ro, os.W_OK):
        pytest.skip("permissions are not enforced for this user (root, or CAP_DAC_OVERRIDE)")
    line = assert_refused(capsys, ["render", str(DEMO_STYLE), str(tiny_clip), str(target)], "permission denied",
                          [tmp_path])
    assert line.startswith(f"livestyle: error: {target}: ") and "choose a place you can write to" in line


@pytest.mark.parametrize("case", ["under a file", "read-only"])
def test_a_snapshot_into_a_style_folder_that_cannot_be_made_is_one_line(case, tiny_style, tmp_path):
    """Live's snapshot (TUI key, OSC, MIDI) said "OSC: PermissionError: [Errno 13] Permission denied: '.../masks'"."""
    import numpy as np

    from livestyle.errors import WriteError
    from livestyle.style import StyleFolder

    if case == "under a file":
        afile = tmp_path / "afile"
        afile.write_bytes(b"not a folder\n")
        style, needle = afile / "style", "a folder on the way is a regular file"
    else:
        style, needle = tiny_style, "permission denied"  # keys/ and styled/ there, masks/ to be made
        style.chmod(0o555)
        if os.access(style, os.W_OK):
            pytest.skip("permissions are not enforced for this user (root, or CAP_DAC_OVERRIDE)")
    with pytest.raises(WriteError, match=needle) as err:
        StyleFolder(style).snapshot(np.zeros((64, 64, 3), np.uint8), name="k1")
    assert str(style) in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("case", ["model is a folder", "read-only style"])
def test_train_that_could_not_save_is_refused_before_training(case, tiny_style, capsys):
    """It trained for the whole budget, then failed to save: the training was lost."""
    if case == "model is a folder":
        (tiny_style / "model.safetensors").mkdir()
        needle = "a folder, not a model file"
    else:
        tiny_style.chmod(0o555)
        needle = "make " + str(tiny_style) + " writable"
        if os.access(tiny_style, os.W_OK):
            pytest.skip("permissions are not enforced for this user (root, or CAP_DAC_OVERRIDE)")
    try:
        line = assert_refused(capsys, ["train", str(tiny_style), "--seconds", "600"], needle, [tiny_style])
    finally:
        tiny_style.chmod(0o755)
    assert line.startswith(f"livestyle: error: {tiny_style / 'model.safetensors'}: ")


def test_a_calibration_toml_that_is_a_folder_is_one_warning_and_live_goes_on(capsys):
    """It was ignored without a word (a file of bad TOML, or one that cannot be read, stays an error: above)."""
    cal = config_dir() / "calibration.toml"
    cal.mkdir(parents=True)
    capsys.readouterr()
    assert main(["demo", "--output", "null", "--max-frames", "1", "--width", "64", "--height", "64"]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "calibration" in line]
    assert len(warnings) == 1 and warnings[0].startswith(f"livestyle: warning: {cal}: a folder, not a calibration "), warnings
    assert "built-in defaults" in warnings[0] and "livestyle calibrate" in warnings[0]


@pytest.mark.parametrize(("entry", "needle"), SETTINGS_CASES, ids=[c[0] for c in SETTINGS_CASES])
def test_a_bad_settings_value_stops_the_tui_before_it_opens(entry, needle, tmp_path, capsys):
    settings = tmp_path / "settings.toml"
    settings.write_text(entry + "\n")
    line = assert_refused(capsys, ["--config", str(settings)], needle, [tmp_path, config_dir()])
    assert line.startswith(f"livestyle: error: {settings}: ")


def test_a_good_calibration_still_sets_the_live_defaults(capsys):
    """The checks refuse only what is wrong: the values `livestyle calibrate` writes are read back."""
    from livestyle.live.build import load_calibration

    cal = config_dir() / "calibration.toml"
    cal.parent.mkdir(parents=True, exist_ok=True)
    cal.write_text('[live]\npreset = "fast"\nwidth = 480\nheight = 270\nrender_scale = 0.5\nprecision = "fp32"\n'
                   'steady = 0.0\ncarry = 1\nphases = 2\nmeasured_fps = 31.5\ntarget_fps = 30.0\n')
    got = load_calibration()
    assert got["carry"] == 1.0 and isinstance(got["carry"], float) and got["width"] == 480


def test_live_width_and_height_given_are_used_not_replaced_by_defaults():
    """`a.width or default` once turned --width 0 into 640; a given value is used exactly (0 is refused above)."""
    import argparse

    from livestyle.cli.live import add_arguments, config_from_args

    p = argparse.ArgumentParser()
    add_arguments(p)
    cfg = config_from_args(p.parse_args(["--width", "320", "--height", "192", "--render-scale", "1"]))
    assert (cfg.width, cfg.height, cfg.render_scale) == (320, 192, 1.0)


@pytest.mark.parametrize("name", ["keys/000.png", "styled/000.png", "model.safetensors"])
def test_a_folder_where_a_style_file_goes_is_called_a_folder_not_missing(name, tiny_style, tiny_clip, capsys):
    """A folder named like a keyframe, painting or model was reported as "no such file" / "no trained model"."""
    where = tiny_style / name
    where.unlink(missing_ok=True)
    where.mkdir()
    argv = (["render", str(tiny_style), str(tiny_clip), str(tiny_clip.parent / "out")] if name.startswith("model")
            else ["train", str(tiny_style), "--iterations", "1"])
    line = assert_refused(capsys, argv, f"{where}: a folder, not ", [tiny_style, tiny_clip])
    assert "move it away" in line
