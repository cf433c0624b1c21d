"""Helpers shared by the stage-output tests: a two-colour frame, the NDI skip mark, this process's listening ports."""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest

needs_ndi = pytest.mark.skipif(importlib.util.find_spec("NDIlib") is None,
                               reason="ndi-python is not installed (pip install 'livestyle[ndi]')")


def two_colour_frame(w: int = 160, h: int = 96) -> np.ndarray:
    img = np.zeros((h, w, 3), np.uint8)
    img[:, : w // 2] = (0, 0, 255)  # red left (BGR)
    img[:, w // 2:] = (255, 128, 0)  # blue-ish right
    return img


def listening_ports() -> set[int]:
    """TCP ports this process listens on (from /proc: the NDI sender's port, for a connection by address)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if cols[3] == "0A" and cols[9] in inodes:  # LISTEN
                ports.add(int(cols[1].rsplit(":", 1)[1], 16))
    return ports


