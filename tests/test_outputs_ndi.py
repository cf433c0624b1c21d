"""The NDI output and source for real over loopback (ndi-python's bundled runtime runs here; discovery does
not, so the receiver connects by address)."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest

from livestyle.capture import make_source
from livestyle.capture.ndi import NdiSource
from livestyle.errors import SinkError, SourceError
from livestyle.outputs import NdiSink
from tests.stage_helpers import listening_ports, needs_ndi, two_colour_frame


@pytest.fixture
def ndi_sender():
    before = listening_ports()
    sink = NdiSink(f"lstest-{os.getpid()}-{time.monotonic_ns()}")
    sink.open(160, 96, 30)
    new = sorted(listening_ports() - before)
    yield sink, new
    sink.close()


@needs_ndi
def test_ndi_send_and_receive_over_loopback(ndi_sender):
    sink, ports = ndi_sender
    assert sink.is_on and sink.source_name.endswith(f"({sink.ndi_name})")
    assert ports, "the NDI sender opened no TCP port"
    stop = threading.Event()

    def pump():  # a sender keeps sending while the receiver connects
        while not stop.is_set():
            sink.send(two_colour_frame())
            time.sleep(1 / 30)

    pumper = threading.Thread(target=pump, daemon=True)
    pumper.start()
    try:
        source = None
        for port in reversed(ports):  # the runtime also listens on its messaging port; the video one is last
            try:
                source = make_source(f"ndi:127.0.0.1:{port}", 160, 96, 30)
                source.open()
                break
            except SourceError:
                source = None
        assert isinstance(source, NdiSource), f"no NDI video on any of the ports {ports}"
        with source:
            frame = None
            for _ in range(20):
                frame = source.read()
                if frame is not None:
                    break
            assert frame is not None and frame.shape == (96, 160, 3) and frame.dtype == np.uint8
            assert (source.width, source.height) == (160, 96)
            # NDI compresses (SpeedHQ): colours arrive within a few levels
            assert np.abs(frame[48, 20].astype(int) - (0, 0, 255)).max() < 16
            assert np.abs(frame[48, 140].astype(int) - (255, 128, 0)).max() < 16
            assert sink.connections() >= 1
    finally:
        stop.set()
        pumper.join(2)
    assert sink.frames > 0


@needs_ndi
def test_ndi_source_resizes_to_the_size_asked_for(ndi_sender):
    sink, ports = ndi_sender
    stop = threading.Event()
    pumper = threading.Thread(target=lambda: [sink.send(two_colour_frame()) or time.sleep(0.03)
                                              for _ in iter(lambda: stop.is_set(), True)], daemon=True)
    pumper.start()
    try:
        source = NdiSource(f"127.0.0.1:{ports[-1]}", 320, 192)
        with source:
            frame = source.read()
            assert frame is not None and frame.shape == (192, 320, 3)
            assert any("resized to 320x192" in w for w in source.warnings)
    finally:
        stop.set()
        pumper.join(2)


@needs_ndi
def test_ndi_name_in_use_is_one_line_with_the_fix(ndi_sender):
    sink, _ = ndi_sender
    twin = NdiSink(sink.ndi_name)
    with pytest.raises(SinkError, match=r"already in use on this machine.*--output ndi:OTHER-NAME") as err:
        twin.open(160, 96, 30)
    assert "\n" not in str(err.value) and twin.state.startswith("error")


@needs_ndi
def test_ndi_source_not_found_lists_what_it_saw():
    source = NdiSource("No Such Source Anywhere", find_seconds=0.3)
    with pytest.raises(SourceError, match=r"no NDI source named 'No Such Source Anywhere'.*ndi:HOST:PORT"):
        source.open()


@needs_ndi
def test_ndi_source_without_video_at_an_address_fails_in_one_line(monkeypatch):
    monkeypatch.setattr("livestyle.capture.ndi.FIRST_FRAME_SECONDS", 0.5)
    with pytest.raises(SourceError, match=r"no video within 0.5 s"):
        NdiSource("127.0.0.1:9").open()  # nothing listens on the discard port


def test_ndi_missing_extra_is_one_line(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_ndi(name, *args, **kwargs):
        if name == "NDIlib":
            raise ImportError("No module named 'NDIlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ndi)
    with pytest.raises(SinkError, match=r"NDI needs the ndi extra: pip install 'livestyle\[ndi\]'"):
        NdiSink("x").open(64, 64, 30)
    with pytest.raises(SourceError, match=r"livestyle\[ndi\]"):
        NdiSource("x").open()


@needs_ndi
def test_ndi_source_returns_no_frame_once_the_sender_is_gone(monkeypatch):
    """The capture thread counts a ``None`` read as bad and reopens the source (tests/test_capture_thread.py)."""
    monkeypatch.setattr("livestyle.capture.ndi.READ_TIMEOUT_MS", 300)
    before = listening_ports()
    sink = NdiSink(f"lsgone-{os.getpid()}")
    sink.open(160, 96, 30)
    port = max(listening_ports() - before)
    stop = threading.Event()
    pumper = threading.Thread(target=lambda: [sink.send(two_colour_frame()) or time.sleep(0.03)
                                              for _ in iter(lambda: stop.is_set(), True)], daemon=True)
    pumper.start()
    source = NdiSource(f"127.0.0.1:{port}")
    try:
        source.open()
        assert source.read() is not None
    finally:
        stop.set()
        pumper.join(2)
        sink.close()
    reads = [source.read() for _ in range(8)]  # frames still buffered, then nothing
    source.close()
    assert reads[-1] is None
