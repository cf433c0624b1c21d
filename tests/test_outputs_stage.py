"""The stage outputs (issue 18): Spout and Syphon against fakes of their libraries (Windows/macOS only), the
full-screen window against a fake of OpenCV's GUI (no display here), parsing, doctor, the source picker.
NDI runs for real in tests/test_outputs_ndi.py."""

from __future__ import annotations

import importlib.util
import threading
import time
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from livestyle.errors import SinkError
from livestyle.live.slot import LatestSlot
from livestyle.outputs import (
    NullSink,
    Sender,
    SpoutSink,
    SyphonSink,
    WindowSink,
    parse_sinks,
)
from livestyle.outputs.spout import load_spout
from livestyle.outputs.syphon import MTL_PIXEL_FORMAT_BGRA8, load_syphon
from livestyle.outputs.window import Monitor, parse_window_arg
from tests.stage_helpers import two_colour_frame
from tests.tui_helpers import run_async

# ---- Spout (Windows) and Syphon (macOS): their libraries' APIs, faked -----------------------------------


class FakeSpoutSender:
    def __init__(self, log: list) -> None:
        self.log = log

    def setSenderName(self, name: str) -> bool:  # noqa: N802  (SpoutGL's names)
        self.log.append(("name", name))
        return True

    def sendImage(self, buf, width, height, fmt, invert, fbo) -> bool:  # noqa: N802
        self.log.append(("image", np.array(buf, copy=True), width, height, fmt, invert, fbo))
        return True

    def setFrameSync(self, name: str) -> None:  # noqa: N802
        self.log.append(("sync", name))

    def releaseSender(self) -> None:  # noqa: N802
        self.log.append(("release",))


def fake_spoutgl(log: list) -> Any:
    return SimpleNamespace(SpoutSender=lambda: FakeSpoutSender(log),
                           enums=SimpleNamespace(GL_RGBA=0x1908, GL_BGRA_EXT=0x80E1))


def test_spout_hands_over_top_down_bgra_frames_one_send_and_sync_each():
    log: list = []
    sink = SpoutSink("Stage", spout=fake_spoutgl(log))
    sink.open(160, 96, 30)
    frame = two_colour_frame()
    sink.send(frame)
    sink.send(two_colour_frame(320, 192))  # another size: resized to the opened one
    sink.close()
    images = [e for e in log if e[0] == "image"]
    assert log[0] == ("name", "Stage") and len(images) == 2
    assert [e for e in log if e[0] == "sync"] == [("sync", "Stage")] * 2
    _, buf, width, height, fmt, invert, fbo = images[0]
    assert (width, height, fmt, invert, fbo) == (160, 96, 0x80E1, False, 0)
    assert buf.shape == (96, 160, 4) and buf.flags.c_contiguous
    assert np.array_equal(buf[..., :3], frame) and (buf[..., 3] == 255).all()  # BGRA, not flipped
    assert images[1][1].shape == (96, 160, 4)
    assert log[-1] == ("release",) and sink.state == "off"


def test_spout_refused_frame_is_an_error_the_sender_reports():
    log: list = []
    lib = fake_spoutgl(log)
    sink = SpoutSink(spout=lib)
    sink.open(64, 64, 30)
    sink._sender.sendImage = lambda *a: False
    with pytest.raises(SinkError, match="refused the frame"):
        sink.send(np.zeros((64, 64, 3), np.uint8))


@pytest.mark.parametrize(("loader", "system", "words"), [
    (load_spout, "Linux", r"Spout exists on Windows only \(this is Linux\)"),
    (load_spout, "Darwin", r"Spout exists on Windows only \(this is Darwin\)"),
    (load_syphon, "Linux", r"Syphon exists on macOS only \(this is Linux\)"),
    (load_syphon, "Windows", r"Syphon exists on macOS only \(this is Windows\)"),
])
def test_spout_and_syphon_name_the_os_where_they_cannot_open(loader, system, words):
    with pytest.raises(SinkError, match=words):
        loader(system)


@pytest.mark.parametrize(("loader", "system", "extra"), [
    (load_spout, "Windows", r"SpoutGL is not installed: pip install 'livestyle\[spout\]'"),
    (load_syphon, "Darwin", r"syphon-python is not installed: pip install 'livestyle\[syphon\]'"),
])
def test_spout_and_syphon_name_the_extra_where_the_os_fits(loader, system, extra):
    with pytest.raises(SinkError, match=extra):  # neither library is installed on this Linux machine
        loader(system)


def test_spout_and_syphon_sinks_fail_to_open_on_linux_in_one_line():
    for kind in ("spout", "syphon:Stage"):
        sink = parse_sinks(kind)[0].create()
        with pytest.raises(SinkError, match="exists on") as err:
            sink.open(64, 64, 30)
        assert "\n" not in str(err.value) and sink.state.startswith("error")


class FakeTexture:
    def __init__(self, width: int, height: int, fmt: int) -> None:
        self.size, self.fmt = (width, height), fmt
        self.data: np.ndarray | None = None


def fake_syphon(log: list) -> Any:
    class Server:
        device = "metal-device"

        def __init__(self, name: str) -> None:
            log.append(("server", name))

        def publish_frame_texture(self, texture, is_flipped=False) -> None:
            log.append(("publish", np.array(texture.data, copy=True), texture.size, texture.fmt, is_flipped))

        def stop(self) -> None:
            log.append(("stop",))

    def create(device, width, height, fmt):
        assert device == "metal-device"
        return FakeTexture(width, height, fmt)

    def copy(image, texture):
        assert image.shape == (texture.size[1], texture.size[0], 4)
        texture.data = image.copy()

    return SimpleNamespace(SyphonMetalServer=Server, utils=SimpleNamespace(
        raw=SimpleNamespace(create_mtl_texture=create), numpy=SimpleNamespace(copy_image_to_mtl_texture=copy)))


def test_syphon_publishes_bgra_metal_textures_unflipped_one_per_frame():
    log: list = []
    sink = SyphonSink("Stage", syphon=fake_syphon(log))
    sink.open(160, 96, 30)
    frames = [two_colour_frame(), two_colour_frame()[::-1].copy()]
    for f in frames:
        sink.send(f)
    sink.close()
    assert log[0] == ("server", "Stage") and log[-1] == ("stop",)
    published = [e for e in log if e[0] == "publish"]
    assert len(published) == 2
    for (_, data, size, fmt, flipped), frame in zip(published, frames, strict=True):
        assert size == (160, 96) and fmt == MTL_PIXEL_FORMAT_BGRA8 and flipped is False
        assert np.array_equal(data[..., :3], frame) and (data[..., 3] == 255).all()


def test_syphon_without_metal_is_one_line():
    lib = fake_syphon([])
    lib.SyphonMetalServer = lambda name: (_ for _ in ()).throw(RuntimeError("no MTLDevice"))
    with pytest.raises(SinkError, match=r"syphon: cannot start a Metal server \(no MTLDevice\)"):
        SyphonSink(syphon=lib).open(64, 64, 30)


# ---- the full-screen window: OpenCV's GUI faked (no display here) -------------------------------------------


class FakeGui:
    WINDOW_NORMAL, WINDOW_GUI_NORMAL, WINDOW_FULLSCREEN = 0x0, 0x10, 1
    WND_PROP_FULLSCREEN, WND_PROP_VISIBLE = 0, 4

    def __init__(self) -> None:
        self.calls: list = []
        self.keys: list[int] = []
        self.visible = 1.0

    def namedWindow(self, title, flags):  # noqa: N802  (OpenCV's names)
        self.calls.append(("named", title, flags))

    def moveWindow(self, title, x, y):  # noqa: N802
        self.calls.append(("move", x, y))

    def setWindowProperty(self, title, prop, value):  # noqa: N802
        self.calls.append(("prop", prop, value))

    def imshow(self, title, image):
        self.calls.append(("show", image.copy()))

    def waitKey(self, ms):  # noqa: N802
        return self.keys.pop(0) if self.keys else -1

    def getWindowProperty(self, title, prop):  # noqa: N802
        return self.visible

    def destroyWindow(self, title):  # noqa: N802
        self.calls.append(("destroy",))


def test_window_goes_full_screen_borderless_on_the_chosen_display_and_shows_frames_unmirrored():
    gui = FakeGui()
    monitors = [Monitor(0, 0, 1920, 1080), Monitor(1920, 0, 1280, 720)]
    sink = WindowSink(1, monitors=lambda: monitors, gui=gui)
    sink.open(160, 96, 30)
    frame = two_colour_frame()
    sink.send(frame)
    assert gui.calls[0] == ("named", sink.title, FakeGui.WINDOW_NORMAL | FakeGui.WINDOW_GUI_NORMAL)
    assert ("move", 1920, 0) in gui.calls
    assert ("prop", FakeGui.WND_PROP_FULLSCREEN, FakeGui.WINDOW_FULLSCREEN) in gui.calls
    shown = [c[1] for c in gui.calls if c[0] == "show"]
    assert np.array_equal(shown[0], frame)  # no overlay, no mirror
    gui.keys = [27]  # Esc leaves full screen, the window stays
    sink.send(frame)
    assert gui.calls[-1] == ("prop", FakeGui.WND_PROP_FULLSCREEN, FakeGui.WINDOW_NORMAL) and sink.is_on
    gui.keys = [ord("f")]
    sink.send(frame)
    assert gui.calls[-1] == ("prop", FakeGui.WND_PROP_FULLSCREEN, FakeGui.WINDOW_FULLSCREEN)
    gui.visible = 0.0  # closed by the user: this output goes off
    sink.send(frame)
    assert sink.state == "off" and ("destroy",) in gui.calls


def test_window_mirrors_only_when_asked():
    gui = FakeGui()
    display, mirror = parse_window_arg("mirror")
    sink = WindowSink(display, mirror=mirror, gui=gui)
    sink.open(160, 96, 30)
    frame = two_colour_frame()
    sink.send(frame)
    shown = [c[1] for c in gui.calls if c[0] == "show"][0]
    assert np.array_equal(shown, frame[:, ::-1]) and not any(c[0] == "move" for c in gui.calls)


def test_window_display_out_of_range_is_one_line():
    sink = WindowSink(2, monitors=lambda: [Monitor(0, 0, 1920, 1080)], gui=FakeGui())
    with pytest.raises(SinkError, match=r"window:2: only 1 display\(s\) here \(0..0\); pick one of them"):
        sink.open(64, 64, 30)


def test_window_without_a_display_is_one_line(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("platform.system", lambda: "Linux")
    sink = parse_sinks("window")[0].create()
    with pytest.raises(SinkError, match=r"window: no display here \(DISPLAY is not set\)"):
        sink.open(64, 64, 30)


# ---- parsing, and a failing stage output next to working ones ----------------------------------------------


def test_output_parsing_of_the_stage_outputs():
    specs = parse_sinks("ndi,ndi:Stage Left,spout,syphon:Name,window,window:1,window:2:mirror")
    assert [str(s) for s in specs] == ["ndi", "ndi:Stage Left", "spout", "syphon:Name", "window:0", "window:1",
                                       "window:2:mirror"]
    kinds = [type(s.create()).__name__ for s in specs]
    assert kinds == ["NdiSink", "NdiSink", "SpoutSink", "SyphonSink", "WindowSink", "WindowSink", "WindowSink"]
    assert specs[1].create().ndi_name == "Stage Left"
    with pytest.raises(SinkError, match="given twice"):
        parse_sinks("window,window:0")


def test_a_stage_output_failing_while_running_is_an_event_and_the_others_go_on():
    log: list = []
    spout = SpoutSink(spout=fake_spoutgl(log))
    null = NullSink()
    for s in (spout, null):
        s.open(64, 64, 30)
    spout._sender.sendImage = lambda *a: (_ for _ in ()).throw(RuntimeError("device lost"))
    slot: LatestSlot[np.ndarray] = LatestSlot()
    events: list[tuple[str, str]] = []
    stop = threading.Event()
    sender = Sender(slot, [spout, null], 60, stop, on_error=lambda s, why: events.append((s.name, why)))
    sender.start()
    try:
        for i in range(5):
            slot.put(np.full((64, 64, 3), i, np.uint8))
            deadline = time.monotonic() + 2
            while null.frames <= i and time.monotonic() < deadline:
                time.sleep(0.005)
    finally:
        sender.stop()
    assert events and events[0][0] == "spout livestyle" and "device lost" in events[0][1]
    assert spout.state.startswith("error") and null.frames >= 5


def test_doctor_says_for_each_stage_output_whether_it_works_here_and_how_to_install_it(capsys, monkeypatch):
    from livestyle.cli import doctor

    monkeypatch.setattr(doctor, "CHECKS", [c for c in doctor.CHECKS if c[0] in ("ndi", "spout", "syphon", "window")])
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    doctor.run()
    out = capsys.readouterr().out
    assert "[ok] spout           not on Linux (spout exists on Windows only" in out
    assert "[ok] syphon          not on Linux (syphon exists on macOS only" in out
    assert "window          no display: --output window will not open here" in out
    ndi_line = next(line for line in out.splitlines() if "] ndi " in line)
    assert ("NDI runtime 6." in ndi_line) if importlib.util.find_spec("NDIlib") else ("livestyle[ndi]" in ndi_line)
    monkeypatch.setattr("platform.system", lambda: "Windows")
    assert doctor._share("spout", "Windows", "SpoutGL") == (
        True, "not installed (optional, for --output spout[:NAME]): pip install 'livestyle[spout]'")


@run_async
async def test_source_picker_lists_ndi_sources_and_returns_their_spec(monkeypatch):
    from textual.app import App
    from textual.widgets import OptionList

    from livestyle.tui.screens import pick_source

    monkeypatch.setattr(pick_source, "find_ndi_sources", lambda seconds: ["STUDIO (OBS)"])
    monkeypatch.setattr(pick_source, "find_spec", lambda name: object())
    chosen: list[str | None] = []

    class Host(App):
        def on_mount(self) -> None:
            self.push_screen(pick_source.SourcePicker(), chosen.append)

    app = Host()
    async with app.run_test() as pilot:
        for _ in range(50):  # the discovery worker runs in a thread
            await pilot.pause(0.02)
            options = app.screen.query_one("#sources", OptionList)
            ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
            if "ndi:STUDIO (OBS)" in ids:
                break
        assert ids[0] == "synthetic" and ids[-1] == "ndi:STUDIO (OBS)"
        options.highlighted = len(ids) - 1
        await pilot.press("enter")
        await pilot.pause()
    assert chosen == ["ndi:STUDIO (OBS)"]
