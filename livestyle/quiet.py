"""Silence the native libraries' own stderr chatter (mediapipe/TFLite, absl) around calls known to print it.

mediapipe writes INFO and WARNING lines ("Created TensorFlow Lite XNNPACK delegate", "Feedback
manager requires a model with a single signature") straight to file descriptor 2 from C++ when
a graph is built and first run; environment variables do not reach its absl logger. In a
terminal UI those lines land on top of the screen. ``native_stderr_silenced()`` points fd 2 at
the null device for the duration of such a call and restores it after; errors still surface as
Python exceptions.

``native_chatter_filtered()`` is the command line's wider net: for a whole command, Python's own
``sys.stderr`` writes straight to the terminal while file descriptor 2 (what C libraries and child
processes write to) goes through a pipe whose lines are passed on, except the known chatter of
libpng, FFmpeg, OpenCV and mediapipe, so that "libpng error: ..." never prints before or instead of
our own one-line error.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from collections.abc import Iterator

_lock = threading.Lock()


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Redirect file descriptor 2 to the null device inside the block (no-op where that fails)."""
    with _lock:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
            null = os.open(os.devnull, os.O_WRONLY)
        except (OSError, ValueError, AttributeError):
            yield
            return
        try:
            os.dup2(null, 2)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(null)


NATIVE_CHATTER = re.compile(
    rb"^(libpng (error|warning)"  # libpng's default handlers (a truncated PNG read by OpenCV)
    rb"|\[[\w ,.-]+ @ 0x[0-9a-f]+\]"  # FFmpeg's av_log: "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x5629...] moov atom not found"
    rb"|\[ *(WARN|INFO|DEBUG|ERROR):"  # OpenCV's own log where its level variable did not reach
    rb"|[IWE]\d{4} \d\d:\d\d:\d\d"  # absl/glog from mediapipe: "W0000 00:00:1712 ..."
    rb"|INFO: Created TensorFlow Lite)"
)


def _forward(read_fd: int, out_fd: int) -> None:
    """Copy lines from ``read_fd`` to ``out_fd`` until end of file, dropping ``NATIVE_CHATTER`` lines."""
    pending = b""
    while True:
        try:
            chunk = os.read(read_fd, 65536)
        except OSError:
            chunk = b""
        if not chunk:
            break
        *lines, pending = (pending + chunk).split(b"\n")
        kept = b"".join(line + b"\n" for line in lines if not NATIVE_CHATTER.match(line))
        if kept:
            os.write(out_fd, kept)
    if pending and not NATIVE_CHATTER.match(pending):
        os.write(out_fd, pending)
    os.close(read_fd)


@contextlib.contextmanager
def native_chatter_filtered() -> Iterator[None]:
    """Inside the block, ``sys.stderr`` writes to the terminal directly and file descriptor 2 through
    ``_forward`` (no-op where the pipe cannot be made, or where ``sys.stderr`` is not the process's own,
    as under pytest's capsys). A native crash message is still passed on, unless the process dies before
    the forwarding thread reads it."""
    if sys.stderr is not sys.__stderr__ or sys.stderr is None:
        yield
        return
    try:
        sys.stderr.flush()
        term = os.dup(2)
        read_fd, write_fd = os.pipe()
    except (OSError, ValueError, AttributeError):
        yield
        return
    own = sys.stderr
    direct = open(term, "w", buffering=1, encoding=own.encoding or "utf-8", errors="backslashreplace",
                  closefd=False)
    os.dup2(write_fd, 2)
    os.close(write_fd)
    forwarder = threading.Thread(target=_forward, args=(read_fd, term), name="stderr-filter", daemon=True)
    forwarder.start()
    sys.stderr = direct
    try:
        yield
    finally:
        direct.flush()
        sys.stderr = own
        os.dup2(term, 2)  # fd 2 no longer holds the pipe: the forwarder reads to the end and stops
        forwarder.join(1.0)  # a child process still holding the pipe must not keep us waiting
        direct.close()
        if not forwarder.is_alive():
            os.close(term)
