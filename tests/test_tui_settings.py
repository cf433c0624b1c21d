"""TUI settings: TOML round trip, unknown keys, flags over the file, last session restored, painter argv."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from livestyle.errors import LivestyleError
from livestyle.tui import settings as st
from livestyle.tui.args import add_arguments, apply, settings_path
from livestyle.tui.painter import painter_argv
from tests.tui_helpers import SIZE, make_app, run_async, started


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    add_arguments(p)
    return p.parse_args(argv)


def test_missing_file_gives_the_defaults(tmp_path: Path) -> None:
    assert st.load(tmp_path / "none.toml") == st.Settings()


def test_config_dir_follows_the_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(st.ENV_DIR, str(tmp_path / "cfg"))
    assert st.default_path() == tmp_path / "cfg" / "settings.toml"


def test_save_then_load_round_trips_every_field(tmp_path: Path) -> None:
    s = st.Settings(source="/videos/a \"quoted\" clip.mp4", style="C:\\styles\\ink", outputs="vcam,preview",
                    masked=True, background="blur", painter="krita --nosplash {path}", styles_dir="~/styles",
                    record_dir="/tmp/takes\tx", width=1280, height=720, fps=24.0)
    path = st.save(s, tmp_path / "deep" / "settings.toml")
    assert st.load(path) == st.absolute(s)  # folders are stored absolute


def test_unknown_key_is_one_line_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('source = "synthetic"\ncolour = "red"\n')
    with pytest.raises(LivestyleError, match=r"unknown key 'colour'; valid keys: source, style") as err:
        st.load(path)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("text, key", [("width = \"wide\"", "width"), ("masked = 1", "masked"), ("fps = true", "fps")])
def test_wrong_types_are_errors(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(text + "\n")
    with pytest.raises(LivestyleError, match=f"key '{key}' must be"):
        st.load(path)


def test_bad_toml_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("source = \n")
    with pytest.raises(LivestyleError, match="not valid TOML"):
        st.load(path)


def test_flags_override_the_file_and_absent_flags_keep_it(tmp_path: Path) -> None:
    path = tmp_path / "my.toml"
    st.save(st.Settings(source="1", style="/s/ink", masked=True), path)
    args = parse(["--config", str(path), "--source", "synthetic", "--no-masked"])
    s = apply(st.load(settings_path(args)), args)
    assert (s.source, s.style, s.masked, s.outputs) == ("synthetic", "/s/ink", False, "null")


def test_config_flag_must_name_an_existing_file(tmp_path: Path) -> None:
    with pytest.raises(LivestyleError, match="no such settings file"):
        settings_path(parse(["--config", str(tmp_path / "nope.toml")]))


def test_painter_argv_forms(tmp_path: Path) -> None:
    f = tmp_path / "k.png"
    assert painter_argv("", f, "Linux") == ["xdg-open", str(f)]
    assert painter_argv("", f, "Darwin") == ["open", str(f)]
    assert painter_argv("", f, "Windows") is None
    assert painter_argv("gimp -n", f) == ["gimp", "-n", str(f)]
    assert painter_argv("krita --file={path} --nosplash", f) == ["krita", f"--file={f}", "--nosplash"]


@run_async
async def test_the_last_session_is_saved_and_restored(tmp_path: Path) -> None:
    from livestyle.tui.app import config_from_settings

    path = tmp_path / "cfg" / "settings.toml"
    app = make_app(tmp_path, settings_path=path)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("b")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        app.poll()
    saved = st.load(path)
    assert (saved.source, saved.style, saved.outputs, saved.background) == (
        "synthetic", str(tmp_path / "style"), "null", "blur")
    cfg = config_from_settings(saved)
    assert (cfg.style, cfg.background, cfg.width) == (str(tmp_path / "style"), "blur", 640)


def test_one_recordings_folder_for_the_c_key_and_the_record_control(tmp_path: Path) -> None:
    """--record-dir sent the OSC/MIDI record control's files to one folder and the c key's to settings.toml's."""
    from livestyle.tui.app import config_from_settings
    from livestyle.tui.args import control_overrides

    path = tmp_path / "my.toml"
    st.save(st.Settings(record_dir=str(tmp_path / "takes")), path)
    s = apply(st.load(path), parse(["--config", str(path)]))
    assert config_from_settings(s).record_dir == str(tmp_path / "takes") == str(s.record_path)
    args = parse(["--config", str(path), "--record-dir", str(tmp_path / "show")])
    s = apply(st.load(path), args)
    cfg = config_from_settings(s, **control_overrides(args))
    assert cfg.record_dir == str(tmp_path / "show") == str(s.record_path)


def test_the_tui_takes_preset_precision_and_render_scale_from_calibration(tmp_path: Path, monkeypatch) -> None:
    from livestyle.tui.app import config_from_settings

    monkeypatch.setenv("LIVESTYLE_CONFIG_DIR", str(tmp_path))
    (tmp_path / "calibration.toml").write_text('[live]\npreset = "paper"\nprecision = "fp32"\nrender_scale = 0.5\n'
                                               'steady = 0.0\n')
    cfg = config_from_settings(st.Settings())
    assert (cfg.preset, cfg.precision, cfg.render_scale, cfg.steady) == ("paper", "fp32", 0.5, 0.0)
    assert config_from_settings(st.Settings(), render_scale=1.0).render_scale == 1.0  # explicit wins


def test_paths_are_saved_absolute_whatever_folder_saved_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from livestyle.tui.settings import Settings as S

    (tmp_path / "work" / "clip").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "work")
    path = st.save(S(style="styles/mine", styles_dir="~/st", record_dir="takes", source="clip"), tmp_path / "s.toml")
    monkeypatch.chdir(tmp_path)  # started again from another folder: the same folders
    got = st.load(path)
    assert got.style == str(tmp_path / "work" / "styles" / "mine")
    assert got.styles_dir == str(Path("~/st").expanduser()) and got.record_dir == str(tmp_path / "work" / "takes")
    assert got.source == str(tmp_path / "work" / "clip")
    assert st.load(st.save(S(source="synthetic", record_dir="."), path)) == S(source="synthetic", record_dir=".")


def test_invalid_values_are_never_written_back(tmp_path: Path) -> None:
    from livestyle.tui.settings import Settings as S

    path = st.save(S(width=800, fps=25.0, background="blur"), tmp_path / "s.toml")
    st.save(S(width=0, fps=25.0, background="nope", masked=True), path)  # two bad values, one good change
    got = st.load(path)  # loads: the file is valid
    assert (got.width, got.background, got.masked, got.fps) == (800, "blur", True, 25.0)
    path.write_text("width = -3\n", encoding="utf-8")  # an old file that is itself invalid: defaults
    st.save(S(width=0, height=0), path)
    assert st.load(path) == S()


@run_async
async def test_settings_that_cannot_be_saved_are_said_once_and_kept_for_the_exit_line(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("not a folder\n", encoding="utf-8")
    app = make_app(tmp_path, settings_path=afile / "settings.toml")
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("m")  # more saves follow; the warning is not repeated
        await pilot.pause()
    said = [m for s, m in app.history if m.startswith("settings not saved:")]
    assert len(said) == 1 and str(afile) in said[0], app.history
    assert app.settings_error is not None and str(afile) in app.settings_error  # run() prints it at exit
    assert afile.read_text(encoding="utf-8") == "not a folder\n"
