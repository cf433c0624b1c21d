"""The TUI's pictures (half blocks or terminal images), keyframe thumbnails, side-by-side preview, vcam probe."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pyvirtualcam
from textual.app import App, ComposeResult

from livestyle import cli
from livestyle.errors import LivestyleError
from livestyle.live.session import LiveConfig
from livestyle.outputs import driver_fix
from livestyle.tui.app import LivestyleApp
from livestyle.tui.args import add_arguments, apply
from livestyle.tui.imaging import cell_pixels, letterbox, pair_layout, resolve_preview
from livestyle.tui.screens.help import help_markdown
from livestyle.tui.settings import Settings
from livestyle.tui.widgets.picture import HALF, BlockPicture, ImagePicture
from livestyle.tui.widgets.preview import BUDGET, Preview
from livestyle.tui.widgets.sinks import sinks_text
from tests.test_outputs import MemoryCamera
from tests.test_tui_snapshots import STATS, FakeSession
from tests.tui_helpers import SIZE, make_app, messages, panel_text, run_async, started, until


def picture_rows(picture: BlockPicture) -> int:
    """How many rows of the half-block picture hold pixels."""
    return sum(HALF in picture.render_line(y).text for y in range(picture.size.height))


# -- pure helpers -------------------------------------------------------------------------------

def test_letterbox_fills_the_exact_pixels_keeping_the_aspect() -> None:
    img = np.zeros((90, 160, 3), np.uint8)
    img[:, :, 2] = 255  # red in BGR
    out = letterbox(img, 100, 100)
    assert out.shape == (100, 100, 3)
    assert out[50, 50].tolist() == [255, 0, 0]  # RGB now: red stays red
    assert out[0, 50].tolist() == [0, 0, 0] and out[99, 50].tolist() == [0, 0, 0]  # bars above and below
    assert (out[:, :, 0] == 255).sum() == 100 * 56  # 160x90 -> 100x56


def test_pair_layout_puts_key_and_painting_side_by_side_only_where_there_is_room() -> None:
    assert pair_layout((640, 360), (1280, 360)) == "row"
    assert pair_layout((640, 360), (640, 720)) == "column"
    assert pair_layout((640, 360), (640, 360)) == "single"


def test_preview_mode_is_checked_and_blocks_never_asks_the_terminal() -> None:
    assert resolve_preview("blocks") == "blocks"
    assert resolve_preview("kitty") == "kitty"
    with pytest.raises(LivestyleError, match="preview 'png' is not one of auto, kitty, sixel, blocks"):
        resolve_preview("png")
    from textual_image.renderable import Image, SixelImage, TGPImage

    expected = "kitty" if Image is TGPImage else "sixel" if Image is SixelImage else "blocks"
    assert resolve_preview("auto") == expected


def test_preview_flag_is_in_help_and_overrides_the_settings(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--preview {auto,kitty,sixel,blocks}" in out
    assert "Kitty graphics protocol or Sixel" in out
    import argparse

    p = argparse.ArgumentParser()
    add_arguments(p)
    assert apply(Settings(preview="kitty"), p.parse_args(["--preview", "blocks"])).preview == "blocks"
    assert apply(Settings(preview="kitty"), p.parse_args([])).preview == "kitty"


def test_sinks_panel_puts_the_vcam_fix_on_its_own_line() -> None:
    text = sinks_text(STATS.__class__(**{**STATS.__dict__, "sinks": []}), "no driver; fix: modprobe it").plain
    assert "○ vcam off (no driver)\n  fix: modprobe it" in text


# -- the live preview ---------------------------------------------------------------------------

class PreviewApp(App[None]):
    def __init__(self, preview: Preview) -> None:
        super().__init__()
        self.preview = preview

    def compose(self) -> ComposeResult:
        yield self.preview


@run_async
async def test_preview_redraws_at_most_max_hz_and_only_new_frames() -> None:
    now = [100.0]
    preview = Preview("blocks", max_hz=10.0, clock=lambda: now[0])
    async with PreviewApp(preview).run_test(size=(40, 12)) as pilot:
        frames = [np.full((36, 64, 3), i, np.uint8) for i in range(30)]
        for f in frames:  # 30 frames within one instant: one picture
            preview.show(f)
        assert preview.drawn == 1
        now[0] += 0.05
        preview.show(frames[0].copy())
        assert preview.drawn == 1  # 50 ms later: still too soon
        now[0] += 0.06
        preview.show(None)  # the last frame kept, drawn now that 110 ms passed
        assert preview.drawn == 2
        assert preview.picture.image is preview._image
        now[0] += 1.0
        preview.show(None)  # nothing new: no redraw
        assert preview.drawn == 2
        await pilot.pause()
        assert picture_rows(preview.picture) > 0


@run_async
async def test_preview_slows_down_when_pictures_are_costly_to_encode() -> None:
    now = [0.0]
    preview = Preview("blocks", max_hz=10.0, clock=lambda: now[0])
    async with PreviewApp(preview).run_test(size=(40, 12)):
        preview.show(np.zeros((36, 64, 3), np.uint8))
        preview.picture.encode_s = 0.02  # 20 ms per picture: at most 2 per second within a 4% budget
        drawn = preview.drawn
        for i in range(1, 10):  # 0.1 s apart, a new frame each time
            now[0] = i * 0.1
            preview.show(np.full((36, 64, 3), i, np.uint8))
        assert preview.drawn - drawn == 1  # at 0.5 s only
        assert 0.02 / BUDGET == pytest.approx(0.5)


@run_async
async def test_x_shows_original_and_stylized_side_by_side(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        preview = app.main.preview
        await until(pilot, lambda: preview.picture.image is not None)
        app._timer.stop()  # no new frames from here: what is drawn can be compared with the last one
        single_rows = picture_rows(preview.picture)
        h, w = preview._image.shape[:2]
        assert preview.picture.image.shape[:2] == (h, w)
        await pilot.press("x")
        assert preview.side_by_side
        assert preview.picture.image.shape[:2] == (h, 2 * w)  # original | stylized
        np.testing.assert_array_equal(preview.picture.image[:, :w], preview._original)
        np.testing.assert_array_equal(preview.picture.image[:, w:], preview._image)
        await pilot.pause()
        assert 0 < picture_rows(preview.picture) < single_rows  # twice as wide, so less tall
        assert "preview: original | stylized" in messages(app)
        await pilot.press("x")
        assert preview.picture.image.shape[:2] == (h, w)
        assert "split (x)" in [c.title for c in app.get_system_commands(app.main)]
        assert "**x**" in help_markdown(LivestyleApp.BINDINGS)
        assert app.main.active_bindings["x"].binding.show  # in the footer


@run_async
async def test_help_screen_pauses_the_preview(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await until(pilot, lambda: app.main.preview.drawn > 0)
        await pilot.press("question_mark")
        drawn = app.main.preview.drawn
        for _ in range(5):
            await pilot.pause(0.12)
            app.poll()
        assert app.main.preview.drawn == drawn  # not visible: no encoding
        await pilot.press("escape")
        await until(pilot, lambda: app.main.preview.drawn > drawn)


# -- terminal image protocols -------------------------------------------------------------------

@pytest.mark.parametrize("protocol", ["kitty", "sixel"])
@run_async
async def test_image_protocols_get_exact_pixels_for_preview_and_thumbnails(protocol: str, tmp_path: Path,
                                                                          tiny_style: Path) -> None:
    from textual_image.widget import SixelImage, TGPImage

    cfg = LiveConfig(style=str(tiny_style), source="synthetic", outputs="vcam")
    app = LivestyleApp(cfg, Settings(), None, session_factory=FakeSession, poll_hz=0, preview=protocol)
    async with app.run_test(size=SIZE) as pilot:
        app._select = "000"
        await until(pilot, lambda: app.session is not None and app.main.preview.drawn > 0)
        await pilot.pause()
        for picture in (app.main.preview.picture, app.main.thumbs.picture):
            assert isinstance(picture, ImagePicture) and picture.sent >= 1
            inner = picture.children[0]
            assert isinstance(inner, SixelImage if protocol == "sixel" else TGPImage)
            cw, ch = cell_pixels(protocol)
            cols, rows = picture.content_size
            assert inner.image is not None and inner.image.size == (cols * cw, rows * ch)
        assert app.main.thumbs.shown in ("row", "column", "painting")


# -- keyframe thumbnails ------------------------------------------------------------------------

@run_async
async def test_thumbnails_show_the_highlighted_keyframe_and_its_painting(tmp_path: Path, tiny_style: Path) -> None:
    app = make_app(tmp_path, style=tiny_style)
    async with app.run_test(size=(160, 40)) as pilot:
        await started(pilot)
        thumbs = app.main.thumbs
        await until(pilot, lambda: thumbs.shown in ("row", "column"))
        assert thumbs.picture.image is not None
        key_h, key_w = 64, 96  # tiny_style's keyframe
        assert thumbs.picture.image.shape[:2] in ((key_h, 2 * key_w), (2 * key_h, key_w))
        assert picture_rows(thumbs.picture) > 0
        await pilot.press("s")  # a new keyframe, not painted yet: its key alone
        await until(pilot, lambda: app.main.keyframes.current not in (None, "000"))
        await until(pilot, lambda: thumbs.shown == "key")
        await pilot.press("up")  # back to 000: key and painting again
        await until(pilot, lambda: thumbs.shown in ("row", "column"))


# -- virtual camera probe -----------------------------------------------------------------------

@run_async
async def test_start_up_probe_finds_the_memory_camera(tmp_path: Path, memcam: type[MemoryCamera]) -> None:
    memcam.last = None
    app = make_app(tmp_path, vcam_backend="livestyle-test-memory")
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await until(pilot, lambda: "vcam off (v turns it on)" in panel_text(app, "#sinks"))
        cam = memcam.last
        assert cam is not None and cam.closed and (cam.width, cam.height) == (64, 64)
        assert "virtual camera unavailable" not in messages(app)


@run_async
async def test_start_up_probe_without_a_driver_says_why_and_the_fix(tmp_path: Path) -> None:
    saved = dict(pyvirtualcam.camera.BACKENDS)
    pyvirtualcam.camera.BACKENDS.clear()  # as on a machine with no v4l2loopback / OBS
    try:
        app = make_app(tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot)
            await until(pilot, lambda: "fix:" in panel_text(app, "#sinks"))
            panel = panel_text(app, "#sinks")
            assert "○ vcam off (no virtual camera backend on this system)" in panel
            assert f"fix: {driver_fix()}" in panel
            assert f"virtual camera unavailable (no virtual camera backend on this system); fix: {driver_fix()}" \
                in messages(app)
    finally:
        pyvirtualcam.camera.BACKENDS.update(saved)


class SlowCamera(MemoryCamera):
    """Opens only when the test says so, like a driver that takes its time."""

    release = threading.Event()

    def __init__(self, **kw: Any) -> None:
        assert SlowCamera.release.wait(20), "the test never released the camera"
        super().__init__(**kw)


@run_async
async def test_start_up_probe_does_not_block_the_ui(tmp_path: Path) -> None:
    pyvirtualcam.register_backend("livestyle-test-slow", SlowCamera)
    SlowCamera.release.clear()
    try:
        app = make_app(tmp_path, vcam_backend="livestyle-test-slow")
        async with app.run_test(size=SIZE) as pilot:
            for _ in range(400):  # wait for the session without waiting on the (blocked) probe worker
                if app.session is not None:
                    break
                await pilot.pause(0.05)
            app.poll()
            assert "vcam off (checking…)" in panel_text(app, "#sinks")
            await pilot.press("r")  # the UI answers while the probe waits
            assert app.main.preview.mirror
            SlowCamera.release.set()
            await started(pilot)
            await until(pilot, lambda: "vcam off (v turns it on)" in panel_text(app, "#sinks"))
    finally:
        SlowCamera.release.set()
        pyvirtualcam.camera.BACKENDS.pop("livestyle-test-slow", None)


def test_every_stage_the_live_path_times_has_a_short_name_spelled_out_in_help():
    """The stats panel abbreviates the stages the live stage reports (``StageTimer`` names), and the help
    screen says what each abbreviation is."""
    from types import SimpleNamespace

    from livestyle.tui.widgets.stats import SHORT, stats_text

    stages = ["denoise", "flow", "segment", "guide", "key flow", "carry", "blend", "prepare", "stylize", "move", "steady",
              "upscale", "composite"]
    st = SimpleNamespace(stylized_fps=30.0, output_fps=30.0, latency_ms={"p95": 40.0}, drops=0, repeats=0,
                         stage_ms={k: 1.0 for k in stages})
    text = stats_text(st).plain
    assert all(f"{SHORT[k]} 1.0" in text for k in stages)
    from livestyle.tui.screens.help import MORE

    assert all(f"{SHORT[k]} (" in " ".join(MORE.split()) for k in stages if k != "prepare")
