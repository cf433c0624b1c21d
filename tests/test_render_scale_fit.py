"""A render scale that `livestyle calibrate` chose at one capture size, used at another: the work size it measured
is kept (live.build.fit_render_scale)."""

from __future__ import annotations


def test_a_calibrated_render_scale_keeps_its_work_size_at_another_capture_size():
    from livestyle.live.build import fit_render_scale, fitted_note
    from livestyle.live.config import LiveConfig

    cal = LiveConfig(render_scale=0.5, render_scale_size=(1280, 720))
    assert fit_render_scale(cal, (640, 360)).render_scale == 1.0  # 640x360 of work, as measured
    assert fit_render_scale(cal, (1920, 1080)).render_scale == 0.33
    assert fit_render_scale(cal, (3840, 2160)).render_scale == 0.25  # the smallest render scale
    assert fit_render_scale(cal, (1280, 720)).render_scale == 0.5
    assert fit_render_scale(LiveConfig(render_scale=0.5), (640, 360)).render_scale == 0.5  # given: as it is
    assert fit_render_scale(cal, (640, 360)).render_scale_size is None
    assert fitted_note(cal, fit_render_scale(cal, (640, 360)), (640, 360)) == (
        "render scale 1 at 640x360 (livestyle calibrate chose 0.5 at 1280x720: the same work size)")


def test_live_at_another_size_than_calibrated_fits_the_render_scale_and_says_so(monkeypatch, tmp_path):
    """Calibrated at 320x192 with render scale 0.5, a 160x96 camera stylized 80x48 pixels: a quarter of what
    calibrate measured. The TUI (its capture size is its own) and `live --width` did so."""
    import argparse

    from livestyle.cli.live import add_arguments, config_from_args
    from livestyle.live.session import LiveSession
    from livestyle.tui import settings as tui_settings
    from livestyle.tui.app import config_from_settings

    monkeypatch.setenv("LIVESTYLE_CONFIG_DIR", str(tmp_path))
    (tmp_path / "calibration.toml").write_text("[live]\nwidth = 320\nheight = 192\nrender_scale = 0.5\n")
    p = argparse.ArgumentParser()
    add_arguments(p)
    cfg = config_from_args(p.parse_args(["--width", "160", "--height", "96", "--output", "null", "--no-train"]))
    assert (cfg.render_scale, cfg.render_scale_size) == (0.5, (320, 192))
    with LiveSession(cfg) as s:
        assert s.cfg.render_scale == 1.0 and s.stage.scale == 1.0
        assert any("render scale 1 at 160x96" in e.message for e in s.drain_events())
    given = config_from_args(p.parse_args(["--width", "160", "--height", "96", "--render-scale", "0.5"]))
    assert given.render_scale_size is None  # --render-scale given: used at any size
    tui = config_from_settings(tui_settings.Settings(width=160, height=96))
    assert (tui.render_scale, tui.render_scale_size) == (0.5, (320, 192))
    assert config_from_settings(tui_settings.Settings(), render_scale=0.5).render_scale_size is None
