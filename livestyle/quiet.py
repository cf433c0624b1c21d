"""Silence the native libraries' own stderr chatter (mediapipe/TFLite, absl) around calls known to print it.

mediapipe writes INFO and WARNING lines ("Created TensorFlow Lite XNNPACK delegate", "Feedback
manager requires a model with a single signature") straight to file descriptor 2 from C++ when
a graph is built and first run; environment variables do not reach its absl logger. In a
terminal UI those lines land on top of the screen. ``native_stderr_silenced()`` points fd 2 at
the null device for the duration of such a call and restores it after; errors still surface as
Python exceptions.
"""

from __future__ import annotations

import contextlib
import os
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
