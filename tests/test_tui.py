"""The control room driven by keys, headless, against a real live session on the synthetic source."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from textual.widgets import Input, OptionList

from livestyle.tui.screens.ask_name import AskName
from livestyle.tui.screens.help import HelpScreen
from livestyle.tui.screens.pick_source import SourcePicker
from livestyle.tui.screens.pick_style import AskPath, AutoStylePicker
from tests.tui_helpers import (
    SIZE,
    make_app,
    messages,
    panel_text,
    run_async,
    spy_notifications,
    started,
    until,
)


def keyframe_rows(app: Any) -> list[str]:
    options = app.main.keyframes
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


@run_async
async def test_snapshot_writes_the_key_and_lists_it_as_waiting(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("s")
        await until(pilot, lambda: any("waiting for paint" in r for r in keyframe_rows(app)))
        keys = list((tmp_path / "style" / "keys").glob("*.png"))
        assert len(keys) == 1
        assert keys[0].stem in keyframe_rows(app)[0]
        assert app.main.keyframes.current == keys[0].stem


@run_async
async def test_auto_style_paints_the_highlighted_keyframe(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("s")
        await until(pilot, lambda: app.main.keyframes.current is not None)
        name = app.main.keyframes.current
        await pilot.press("a")
        assert isinstance(app.screen, AutoStylePicker)
        await pilot.press("down", "enter")  # the second classical style
        await until(pilot, lambda: any("auto-styled" in r for r in keyframe_rows(app)))
        assert (tmp_path / "style" / "styled" / f"{name}.png").is_file()
        assert "auto-styled (oil)" in keyframe_rows(app)[0]
        assert app.last_stats.keyframes == {name: "painted"}


@run_async
async def test_snapshot_without_a_frame_source_is_a_notification_not_a_crash(tmp_path: Path) -> None:
    app = make_app(tmp_path, source=str(tmp_path / "missing.mp4"))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "cannot start" in messages(app, "error"))
        assert "missing.mp4: no such video file" in messages(app, "error")
        assert app.session is None
        await pilot.press("s")  # no session: a warning, the UI goes on
        assert "no live session" in messages(app, "warning")
        assert app.is_running


@run_async
async def test_masked_mode_and_background_show_on_the_sources_panel(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        assert "masked off" in panel_text(app, "#sinks")
        await pilot.press("m")
        await until(pilot, lambda: "masked on" in panel_text(app, "#sinks"))
        assert app.session.settings.masked
        await pilot.press("b")
        await until(pilot, lambda: "bg blur" in panel_text(app, "#sinks"))
        await pilot.press("b")
        await until(pilot, lambda: "bg solid" in panel_text(app, "#sinks"))


@run_async
async def test_k_turns_the_keyframe_carry_on_and_off(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await until(pilot, lambda: "carry on" in panel_text(app, "#sinks"))  # on by default live
        await pilot.press("k")
        await until(pilot, lambda: "carry off" in panel_text(app, "#sinks"))
        assert app.session.settings.carry == 0.0
        await pilot.press("k")
        await until(pilot, lambda: "carry on" in panel_text(app, "#sinks"))
        assert app.session.settings.carry == 1.0


@run_async
async def test_mirror_flips_the_preview_only(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await until(pilot, lambda: app.main.preview._image is not None)
        await pilot.press("r")
        assert app.main.preview.mirror
        assert not app.session.cfg.mirror
        assert "preview mirror on" in messages(app)


@run_async
async def test_record_starts_and_stop_leaves_a_video_file(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("c")
        await until(pilot, lambda: any(n.startswith("record") and s == "on" for n, s in app.last_stats.sinks))
        assert "record " in panel_text(app, "#sinks")
        await until(pilot, lambda: app.session.stats().frames_out > 5)
        await pilot.press("c")
        await until(pilot, lambda: not any(n.startswith("record") for n, _ in app.last_stats.sinks))
        videos = list((tmp_path / "takes").glob("livestyle-*.mp4"))
        assert len(videos) == 1 and videos[0].stat().st_size > 0
        assert "recording saved" in messages(app)


@run_async
async def test_record_into_a_record_folder_that_is_a_file_says_so_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "takes").write_bytes(b"not a folder\n")  # the settings' record folder
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("c")
        await until(pilot, lambda: "takes: cannot create this folder" in messages(app))
        assert "FileExistsError" not in messages(app) and not any(n.startswith("record") for n, _ in app.last_stats.sinks)


@run_async
async def test_source_picker_switches_to_a_typed_folder(tmp_path: Path, tiny_clip: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        first = app.session
        await pilot.press("o")
        assert isinstance(app.screen, SourcePicker)
        assert app.screen.query_one(OptionList).get_option_at_index(0).id == "synthetic"
        app.screen.query_one(Input).value = str(tiny_clip)
        app.screen.query_one(Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: app.session is not None and app.session is not first)
        assert first.state == "stopped"
        assert app.cfg.source == str(tiny_clip)
        assert "clip" in app.last_stats.source["name"]


@run_async
async def test_source_picker_lists_synthetic_first_and_picks_it(tmp_path: Path, tiny_clip: Path) -> None:
    app = make_app(tmp_path, source=str(tiny_clip))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.session is not None)
        await pilot.press("o", "enter")
        await until(pilot, lambda: app.session is not None and app.cfg.source == "synthetic")
        assert app.last_stats.source["name"].startswith("synthetic")


@run_async
async def test_help_opens_and_closes(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert app.screen is app.main


@run_async
async def test_quit_closes_the_session(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        session = app.session
        await pilot.press("q")
        await pilot.pause()
    assert not app.is_running
    assert session.state == "stopped"
    assert not session.capture.is_alive() and not session.sender.is_alive()


@run_async
async def test_number_keys_new_and_load_switch_style_folders(tmp_path: Path) -> None:
    for name in ("b-style", "a-style"):
        (tmp_path / "styles" / name / "keys").mkdir(parents=True)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("2")
        await until(pilot, lambda: app.session.style.path.name == "b-style")
        await pilot.press("9")
        assert "no style 9" in messages(app, "warning")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, AskName))
        await pilot.press("enter")  # the suggested name
        await until(pilot, lambda: app.session.style.path.name == "style-1")
        assert (tmp_path / "styles" / "style-1" / "keys").is_dir()
        await pilot.press("l")
        assert isinstance(app.screen, AskPath)
        app.screen.query_one(Input).value = str(tmp_path / "elsewhere")
        await pilot.press("enter")
        await until(pilot, lambda: app.session.style.path == tmp_path / "elsewhere")
        assert app.cfg.style == str(tmp_path / "elsewhere")


@run_async
async def test_paint_runs_the_configured_painter_detached(tmp_path: Path) -> None:
    marker = tmp_path / "painted-with.txt"
    painter = f"{sys.executable} -c \"import pathlib, sys; pathlib.Path(sys.argv[2]).write_text(sys.argv[1])\" {{path}} {marker}"
    app = make_app(tmp_path, painter=painter)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("p")
        assert "press s to snapshot" in messages(app, "warning")
        await pilot.press("s")
        await until(pilot, lambda: app.main.keyframes.current is not None)
        await pilot.press("p")
        await until(pilot, lambda: marker.exists() and marker.read_text())
        name = app.main.keyframes.current
        assert marker.read_text() == str(tmp_path / "style" / "keys" / f"{name}.png")
        assert f"styled/{name}.png" in messages(app)
        marker.unlink()
        (tmp_path / "style" / "styled" / f"{name}.jpg").write_bytes(b"a painting saved as JPEG")
        await pilot.press("p")  # opens the painting to paint on, not the keyframe again
        await until(pilot, lambda: marker.exists() and marker.read_text())
        assert marker.read_text() == str(tmp_path / "style" / "styled" / f"{name}.jpg")


@run_async
async def test_a_missing_painter_is_an_error_notification(tmp_path: Path) -> None:
    app = make_app(tmp_path, painter="no-such-painter-here")
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("s")
        await until(pilot, lambda: app.main.keyframes.current is not None)
        await pilot.press("p")
        await until(pilot, lambda: "not found" in messages(app, "error"))
        assert "'no-such-painter-here' not found; set painter" in messages(app, "error")


@run_async
async def test_session_errors_from_threads_become_notifications(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    shown = spy_notifications(app)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        app.session.notify("segmentation failed: boom; fix: reinstall mediapipe", "error")
        await until(pilot, lambda: "boom" in messages(app, "error"))
    assert ("error", "segmentation failed: boom; fix: reinstall mediapipe") in shown


@run_async
async def test_command_palette_offers_every_action(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE):
        titles = [c.title for c in app.get_system_commands(app.main)]
    for key in ("snap (s)", "auto (a)", "vcam (v)", "rec (c)", "source (o)", "new style (n)", "mirror preview (r)"):
        assert key in titles


@run_async
async def test_t_pauses_and_resumes_live_training(tmp_path: Path, tiny_style: Path) -> None:
    app = make_app(tmp_path, style=tiny_style, train=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.session is not None and app.last_stats is not None
                    and app.last_stats.training.get("state") in ("starting", "preparing", "training"))
        await pilot.press("t")
        await until(pilot, lambda: app.last_stats.training.get("state") == "paused")
        assert str(app.main.query_one("#train-state").content).startswith("paused")
        await pilot.press("t")
        await until(pilot, lambda: "training resumed" in messages(app))


class MemoryCamera:
    """A pyvirtualcam backend kept in memory (``register_backend`` takes any duck-typed class)."""

    last: MemoryCamera | None = None

    def __init__(self, *, width: int, height: int, fps: float, fourcc: int, device: str | None, **kw: Any) -> None:
        self.width, self.height, self.frames, self.closed = width, height, 0, False
        MemoryCamera.last = self

    def send(self, frame: Any) -> None:
        self.frames += 1

    def close(self) -> None:
        self.closed = True

    def device(self) -> str:
        return "memcam0"

    def native_fourcc(self) -> int | None:
        return None


@run_async
async def test_v_turns_the_virtual_camera_on_and_frames_arrive(tmp_path: Path) -> None:
    import pyvirtualcam

    pyvirtualcam.register_backend("livestyle-tui-memory", MemoryCamera)
    try:
        app = make_app(tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot)
            await pilot.press("v")
            await until(pilot, lambda: any(n.startswith("vcam") and s == "on" for n, s in app.last_stats.sinks))
            cam = MemoryCamera.last
            assert cam is not None
            await until(pilot, lambda: cam.frames >= 3)
            assert "vcam memcam0 on" in panel_text(app, "#sinks")
            assert app.cfg.outputs == "vcam"
            await pilot.press("v")
            await until(pilot, lambda: not any(n.startswith("vcam") for n, _ in app.last_stats.sinks))
            assert cam.closed
            assert "vcam off" in panel_text(app, "#sinks")
    finally:
        pyvirtualcam.camera.BACKENDS.pop("livestyle-tui-memory", None)


@run_async
async def test_v_without_a_driver_says_why_and_how_to_fix(tmp_path: Path) -> None:
    import pyvirtualcam

    saved = dict(pyvirtualcam.camera.BACKENDS)
    pyvirtualcam.camera.BACKENDS.clear()  # as on a machine with no v4l2loopback / OBS
    try:
        app = make_app(tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot)
            await pilot.press("v")
            await until(pilot, lambda: "virtual camera" in messages(app, "error"))
            assert "fix:" in messages(app, "error")
            assert "vcam off (no virtual camera" in panel_text(app, "#sinks")
    finally:
        pyvirtualcam.camera.BACKENDS.update(saved)


@run_async
async def test_f_restarts_the_session_at_half_size_and_back(tmp_path: Path) -> None:
    """The fix the slow-rate warning names in the TUI (its line says to press f, not to pass flags)."""
    from livestyle.live.stats import SlowWatch
    from livestyle.tui.app import SLOW_FIX_TUI

    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        first = app.session
        assert first.slow_fix == SLOW_FIX_TUI and first.stage.scale == 1.0
        await pilot.press("m", "k")  # changed while it ran: the restarted session keeps them
        await until(pilot, lambda: "masked on" in panel_text(app, "#sinks") and app.last_stats.carry == 0.0)
        await pilot.press("f")
        await until(pilot, lambda: app.session is not None and app.session is not first
                    and app.session.stage.last_input is not None)
        assert app.session.stage.scale == 0.5 and app.cfg.render_scale == 0.5
        assert app.session.settings.masked and app.session.settings.carry == 0.0
        assert app.session.slow_fix == SLOW_FIX_TUI
        assert "half size" in messages(app, "information")
        n = app.session.stats().frames_out
        await until(pilot, lambda: app.session.stats().frames_out > n + 5)  # it runs at half size
        second = app.session
        await pilot.press("f")
        await until(pilot, lambda: app.session is not None and app.session is not second
                    and app.session.stage.last_input is not None)
        assert app.session.stage.scale == 1.0
    watch = SlowWatch(window_s=1.0, fix=SLOW_FIX_TUI)
    said = [watch.update(t, 10 * t, 30 * t, settled=True) for t in (0.0, 0.5, 1.0)]
    assert said[-1] is not None and said[-1].endswith("press f to stylize at half size (render scale 0.5: faster, "
                                                      "softer strokes), or quit and run `livestyle calibrate`, which "
                                                      "finds the settings that keep up on this machine")


@run_async
async def test_f_while_recording_asks_to_stop_the_recording_first(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        first = app.session
        await pilot.press("c")
        await until(pilot, lambda: any(n.startswith("record") and st == "on" for n, st in app.last_stats.sinks))
        await pilot.press("f")
        assert "stop it first (c), then f" in messages(app, "warning")
        assert app.session is first and app.session.stage.scale == 1.0
