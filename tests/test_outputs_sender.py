"""Sender: paces output, repeats the last frame when the producer stalls, survives a broken sink."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from livestyle.live.slot import LatestSlot
from livestyle.outputs import NullSink, OutFrame, Sender, Sink


def wait_until(cond: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.005)
    return cond()


class BrokenSink(Sink):
    """Works for ``good`` frames, then raises like an unplugged device."""

    def __init__(self, good: int) -> None:
        super().__init__()
        self.name = "broken"
        self.good = good

    def _open(self, width: int, height: int, fps: float) -> None:
        pass  # nothing to open

    def _send(self, frame_bgr: np.ndarray, original: np.ndarray | None) -> None:
        if self.frames >= self.good:
            raise OSError("device vanished")

    def _close(self) -> None:
        pass  # nothing to release


def frame(level: int) -> np.ndarray:
    return np.full((64, 96, 3), level, np.uint8)


def start(sinks: list[Sink], fps: float = 200.0) -> tuple[Sender, LatestSlot[OutFrame]]:
    for sink in sinks:
        sink.open(96, 64, fps)
    slot: LatestSlot[OutFrame] = LatestSlot()
    sender = Sender(slot, sinks, fps, threading.Event())
    sender.start()
    return sender, slot


def test_nothing_is_sent_before_the_first_frame() -> None:
    sink = NullSink()
    sender, _ = start([sink])
    time.sleep(0.05)
    assert sender.stop(timeout=2.0)
    assert sender.stats().sent == 0 and sink.frames == 0


def test_repeats_the_last_frame_when_the_producer_stalls() -> None:
    sink = NullSink()
    sender, slot = start([sink])
    slot.put(OutFrame(frame(1)))
    assert wait_until(lambda: sender.stats().sent >= 10)
    slot.put(OutFrame(frame(2), t_capture=time.perf_counter()))
    assert wait_until(lambda: sender.stats().new == 2 and sender.stats().sent >= 20)
    assert sender.stop(timeout=2.0)
    stats = sender.stats()
    assert stats.repeats == stats.sent - 2
    assert sink.frames == stats.sent
    assert sink.last is not None and int(sink.last.mean()) == 2  # the newest frame is what repeats
    assert stats.latency_ms > 0 and stats.fps > 0
    assert not stats.running


def test_a_new_frame_goes_out_at_once_and_one_frame_per_interval() -> None:
    sink = NullSink()
    sender, slot = start([sink], fps=2.0)  # 500 ms intervals: an arrival is far from any tick
    time.sleep(0.1)
    slot.put(OutFrame(frame(1)))
    assert wait_until(lambda: sink.frames == 1, timeout=0.3)  # not held until the next tick
    slot.put(OutFrame(frame(2)))  # same interval: waits for the next one
    time.sleep(0.1)
    assert sink.frames == 1
    assert wait_until(lambda: sink.frames == 2, timeout=1.0)
    assert sink.last is not None and int(sink.last.mean()) == 2
    assert sender.stop(timeout=2.0)
    assert sender.stats().repeats == sink.frames - 2


def test_accepts_bare_arrays_in_the_slot() -> None:
    sink = NullSink()
    sender, slot = start([sink])
    slot.put(frame(9))  # type: ignore[arg-type]
    assert wait_until(lambda: sink.frames >= 1)
    assert sender.stop(timeout=2.0)
    assert sink.last is not None and int(sink.last.mean()) == 9


def test_a_sink_that_raises_is_disabled_and_the_others_go_on() -> None:
    broken, healthy = BrokenSink(good=3), NullSink()
    sender, slot = start([broken, healthy])
    slot.put(OutFrame(frame(5)))
    assert wait_until(lambda: healthy.frames >= 20)
    assert sender.is_alive()
    states = dict(sender.stats().sinks)
    assert states["broken"] == "error: OSError: device vanished"
    assert states["null"] == "on"
    assert broken.frames == 3
    assert sender.stop(timeout=2.0)


def test_stop_closes_every_sink_and_keeps_errors_visible() -> None:
    broken, healthy = BrokenSink(good=0), NullSink()
    sender, slot = start([broken, healthy])
    slot.put(OutFrame(frame(5)))
    assert wait_until(lambda: healthy.frames >= 2)
    assert sender.stop(timeout=2.0)
    assert healthy.state == "off"
    assert broken.state.startswith("error:")


def test_live_chain_from_synthetic_camera_to_virtual_camera() -> None:
    """Capture thread -> slot -> (identity stage) -> slot -> sender -> real pyvirtualcam.Camera in memory."""
    import pyvirtualcam

    from livestyle.capture import CaptureThread, Frame, SyntheticSource
    from livestyle.outputs import VirtualCameraSink
    from tests.test_outputs import BACKEND, MemoryCamera

    pyvirtualcam.register_backend(BACKEND, MemoryCamera)
    stop = threading.Event()
    frames_in: LatestSlot[Frame] = LatestSlot()
    frames_out: LatestSlot[OutFrame] = LatestSlot()
    capture = CaptureThread(SyntheticSource(128, 72, 60), frames_in, stop)

    def stage() -> None:
        while not stop.is_set():
            item = frames_in.get(timeout=0.1)
            if item is not None:
                frames_out.put(OutFrame(item.image, item.image, item.t_capture))

    worker = threading.Thread(target=stage, daemon=True)
    vcam = VirtualCameraSink(backend=BACKEND)
    sender = Sender(frames_out, [vcam], 60, stop)
    try:
        vcam.open(128, 72, 60)
        for thread in (capture, worker, sender):
            thread.start()
        assert wait_until(lambda: sender.stats().new >= 5)
    finally:
        stop.set()
        for thread in (capture, worker, sender):
            thread.join(timeout=2.0)
        pyvirtualcam.camera.BACKENDS.pop(BACKEND, None)
    cam = MemoryCamera.last
    assert cam is not None and cam.closed and (cam.width, cam.height) == (128, 72)
    assert len(cam.frames) == sender.stats().sent >= 5
    assert capture.stats().state == "stopped" and vcam.state == "off"


def test_a_stopped_recording_is_finished_off_the_senders_thread(tmp_path, monkeypatch) -> None:
    """Stopping a long take rewrites it as a plain MP4 (seconds): the other outputs keep getting frames
    meanwhile, and the sender ends only once the file is finished."""
    import cv2

    from livestyle.files import videowrite
    from livestyle.outputs.record import RecordSink

    release, rewriting = threading.Event(), threading.Event()
    remux = videowrite.remux

    def slow_remux(*args, **kwargs):  # a long take on a slow disk
        rewriting.set()
        release.wait(10.0)
        return remux(*args, **kwargs)

    monkeypatch.setattr(videowrite, "remux", slow_remux)
    path = tmp_path / "take.mp4"
    record, other = RecordSink(path), NullSink()
    sender, slot = start([record, other], fps=100.0)
    for i in range(20):
        slot.put(OutFrame(frame(10 + i)))
        time.sleep(0.012)
    assert wait_until(lambda: record.frames >= 10)
    assert sender.remove_sink("record")
    assert wait_until(rewriting.is_set)
    before = other.frames
    assert wait_until(lambda: other.frames >= before + 10, timeout=5.0)  # not frozen while the take is rewritten
    assert sender.closing and not path.exists()
    release.set()
    assert sender.stop(timeout=10.0)
    assert not sender.closing and path.exists()
    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.read()[0]:
        n += 1
    assert n == record.frames >= 10
