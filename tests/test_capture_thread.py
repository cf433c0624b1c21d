"""CaptureThread: frames into the slot, reconnect with backoff on faults, state for the UI, prompt stop.

Faults are injected at the edge with fake ``Source`` subclasses; backoff
delays are read from a stop event that records what it was asked to wait.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from livestyle.capture import CaptureThread, Frame, Source, SyntheticSource
from livestyle.errors import SourceError
from livestyle.live.slot import LatestSlot

W, H = 96, 64


def wait_until(cond: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.005)
    return cond()


class RecordingEvent(threading.Event):
    """A stop event that records every timeout it is asked to wait, and waits only briefly."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float | None] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout)
        return super().wait(0.001 if timeout else timeout)


class FakeSource(Source):
    """Flat frames numbered by level, with faults injected on demand.

    ``fail_opens``: how many coming ``open`` calls raise. ``good_reads``: after
    that many reads since the last open, reads return ``bad()``; a reopen
    clears the fault when ``reopen_fixes``. ``image``: a fixed frame to return
    instead of numbered ones. ``frames_total``: a non-looping source that
    finishes after that many frames.
    """

    live = True

    def __init__(self, *, fail_opens: int = 0, good_reads: int | None = None,
                 bad: Callable[[], object] = lambda: None, reopen_fixes: bool = True,
                 image: np.ndarray | None = None, frames_total: int | None = None) -> None:
        super().__init__()
        self.name = "fake"
        self.fail_opens = fail_opens
        self.good_reads = good_reads
        self.bad = bad
        self.reopen_fixes = reopen_fixes
        self.image = image
        self.frames_total = frames_total
        self.opens = 0
        self.open_attempts = 0
        self.reads_since_open = 0
        self.counter = 0

    @property
    def width(self) -> int:
        return W

    @property
    def height(self) -> int:
        return H

    @property
    def fps(self) -> float:
        return 100.0

    @property
    def finished(self) -> bool:
        return self.frames_total is not None and self.counter >= self.frames_total

    def _open(self) -> None:
        self.open_attempts += 1
        if self.fail_opens > 0:
            self.fail_opens -= 1
            raise SourceError("fake: device busy")
        self.opens += 1
        self.reads_since_open = 0
        if self.opens > 1 and self.reopen_fixes:
            self.good_reads = None

    def _read(self) -> np.ndarray | None:
        time.sleep(0.002)
        self.reads_since_open += 1
        if self.finished:
            return None
        if self.good_reads is not None and self.reads_since_open > self.good_reads:
            return self.bad()  # type: ignore[return-value]
        self.counter += 1
        if self.image is not None:
            return self.image
        return np.full((H, W, 3), self.counter % 256, np.uint8)

    def _close(self) -> None:
        pass  # nothing to release


def run_thread(source: Source, stop: threading.Event | None = None, **kw: float) -> tuple[CaptureThread, LatestSlot[Frame]]:
    slot: LatestSlot[Frame] = LatestSlot()
    thread = CaptureThread(source, slot, stop or threading.Event(), **kw)  # type: ignore[arg-type]
    thread.start()
    return thread, slot


def test_frames_reach_the_slot_with_timestamps_and_increasing_indices() -> None:
    source = SyntheticSource(W, H, 100, paced=True)
    thread, slot = run_thread(source)
    frames = []
    while len(frames) < 5:
        frame = slot.get(timeout=5)
        assert frame is not None
        frames.append(frame)
    assert thread.stop(timeout=2.0)
    assert all(f.image.shape == (H, W, 3) and f.image.dtype == np.uint8 for f in frames)
    assert [f.index for f in frames] == sorted({f.index for f in frames})
    assert all(a.t_capture < b.t_capture for a, b in zip(frames, frames[1:], strict=False))
    stats = thread.stats()
    assert stats.state == "stopped" and stats.frames >= 5 and stats.fps > 0
    assert not source.is_open  # the thread closes what it read


def test_failing_reads_trigger_reconnect_and_frames_resume() -> None:
    source = FakeSource(good_reads=5)
    stop = RecordingEvent()
    thread, slot = run_thread(source, stop, backoff_start=0.01, backoff_max=0.04)
    assert wait_until(lambda: thread.stats().reconnects >= 1 and thread.stats().frames >= 20)
    assert thread.stop(timeout=2.0)
    stats = thread.stats()
    assert stats.bad_reads == 3  # max_bad_reads in a row, then reopen fixed it
    assert stats.last_error == "the source returned no frame"
    assert source.opens == 2
    assert stop.waits[0] == 0.01  # first reopen after backoff_start


def test_reopen_backs_off_exponentially_up_to_the_cap() -> None:
    source = FakeSource(good_reads=2, fail_opens=0)
    stop = RecordingEvent()
    thread, _ = run_thread(source, stop, backoff_start=0.01, backoff_max=0.04)
    assert wait_until(lambda: source.opens >= 1 and source.reads_since_open > 2)
    source.fail_opens = 4  # the camera is unplugged for four attempts
    assert wait_until(lambda: source.opens >= 2 and thread.stats().state == "running")
    assert thread.stop(timeout=2.0)
    assert stop.waits[:5] == [0.01, 0.02, 0.04, 0.04, 0.04]
    assert thread.stats().reconnects == 1


def test_open_failing_twice_then_working_is_retried() -> None:
    source = FakeSource(fail_opens=2)
    stop = RecordingEvent()
    thread, slot = run_thread(source, stop, backoff_start=0.01, backoff_max=0.04)
    assert slot.get(timeout=10) is not None
    assert thread.stop(timeout=2.0)
    assert source.open_attempts == 3
    assert stop.waits[:2] == [0.01, 0.02]
    assert thread.stats().last_error == "open failed: fake: device busy"


def test_garbage_frames_count_as_faults() -> None:
    wrong_shape = FakeSource(good_reads=1, bad=lambda: np.zeros((H, W), np.uint8), reopen_fixes=False)
    thread, _ = run_thread(wrong_shape, backoff_start=0.01, backoff_max=0.02)
    assert wait_until(lambda: thread.stats().reconnects >= 2)
    assert thread.stop(timeout=2.0)
    assert "shape" in (thread.stats().last_error or "")


def test_reads_that_raise_never_escape_the_thread() -> None:
    def explode() -> object:
        raise OSError("USB disconnected")

    source = FakeSource(good_reads=1, bad=explode, reopen_fixes=False)
    thread, _ = run_thread(source, backoff_start=0.01, backoff_max=0.02)
    assert wait_until(lambda: thread.stats().reconnects >= 1)
    assert thread.is_alive()
    assert thread.stop(timeout=2.0)
    assert thread.stats().last_error == "read failed: OSError: USB disconnected"


def test_state_shows_reconnecting_while_the_device_is_gone_and_stop_is_prompt() -> None:
    source = FakeSource(good_reads=3)
    thread, _ = run_thread(source)  # default backoff: 0.25 s doubling to 4 s
    assert wait_until(lambda: source.reads_since_open >= 3)
    source.fail_opens = 10**6  # unplugged for good
    # The reopen after 0.25 s fails, so the next one waits twice as long.
    assert wait_until(lambda: thread.stats().retry_in_s == 0.5)
    stats = thread.stats()
    assert stats.state == "reconnecting"
    assert stats.last_error == "open failed: fake: device busy"
    assert thread.stop(timeout=2.0)
    assert thread.stats().state == "stopped"


def test_identical_frames_are_not_faults() -> None:
    source = FakeSource(image=np.zeros((H, W, 3), np.uint8))
    thread, _ = run_thread(source)
    assert wait_until(lambda: thread.stats().frames >= 10)
    assert thread.stop(timeout=2.0)
    assert thread.stats().bad_reads == 0


def test_a_finished_source_ends_the_thread() -> None:
    thread, slot = run_thread(FakeSource(frames_total=4))
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert thread.stats().state == "finished"
    assert thread.stats().frames == 4
