"""Process memory housekeeping for long live sessions."""

from __future__ import annotations

import ctypes


def release_free_memory() -> None:
    """Return the C heap's free pages to the OS (glibc's ``malloc_trim``; a no-op elsewhere).

    Buffers whose sizes change from frame to frame (the person's box) leave freed holes that
    glibc keeps; a 640x360 masked soak grew 45 MB over 12,000 frames without this.
    """
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl)
        pass
