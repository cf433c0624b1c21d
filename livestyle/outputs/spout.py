"""Spout output (``--output spout[:NAME]``, Windows only) through ``SpoutGL`` (Python-SpoutGL, BSD licence).

Resolume, TouchDesigner, OBS (Spout2 plugin) and MadMapper on the same PC list the sender by name. A frame
is handed over as a top-down BGRA buffer (``GL_BGRA_EXT``, no vertical flip: Spout's shared DirectX textures
are top-down, as numpy frames are) with ``sendImage`` and announced with ``setFrameSync``. SpoutGL makes
its own hidden OpenGL context when the calling thread has none.
"""

from __future__ import annotations

import platform
from types import ModuleType
from typing import Any

import cv2
import numpy as np

from livestyle.errors import SinkError
from livestyle.outputs.base import Sink

EXTRA = "pip install 'livestyle[spout]'"
DEFAULT_NAME = "livestyle"


def check_share_name(kind: str, name: str) -> str:
    """``name`` stripped; ``SinkError`` for an empty, over-long (Spout: 255 bytes) or comma name."""
    text = name.strip()
    if not text or len(text.encode()) > 255 or any(c in text for c in ",\n\r\t"):
        raise SinkError(f"bad {kind} name {name!r}: give 1..255 characters without commas, "
                        f"e.g. --output {kind}:livestyle")
    return text


def load_spout(system: str | None = None) -> ModuleType:
    """The ``SpoutGL`` module; ``SinkError`` (one line: the OS, the extra) where it cannot work."""
    system = system or platform.system()
    if system != "Windows":
        raise SinkError(f"spout: Spout exists on Windows only (this is {system}); use --output ndi "
                        "to reach another machine, or syphon on macOS")
    try:
        import SpoutGL
    except ImportError:
        raise SinkError(f"spout: SpoutGL is not installed: {EXTRA}") from None
    return SpoutGL


def spout_available() -> tuple[bool, str]:
    """``(works here, one line)`` for ``livestyle doctor``."""
    try:
        load_spout()
    except SinkError as err:
        return False, str(err)
    return True, "SpoutGL installed: --output spout[:NAME] (docs/outputs.md)"


class SpoutSink(Sink):
    """Shares frames as the Spout sender ``name``. ``spout``: the ``SpoutGL`` module (tests pass a fake)."""

    def __init__(self, name: str | None = None, spout: Any = None) -> None:
        super().__init__()
        self.share_name = check_share_name("spout", name or DEFAULT_NAME)
        self.name = f"spout {self.share_name}"
        self._lib = spout
        self._sender: Any = None
        self._buf: np.ndarray | None = None
        self._format = 0

    def _open(self, width: int, height: int, fps: float) -> None:
        lib = self._lib if self._lib is not None else load_spout()
        self._lib = lib
        sender = lib.SpoutSender()
        if sender.setSenderName(self.share_name) is False:
            raise SinkError(f"spout: cannot use the sender name {self.share_name!r} (in use?); "
                            "pick another: --output spout:OTHER-NAME")
        self._sender = sender
        self._format = int(lib.enums.GL_BGRA_EXT)
        self._buf = np.full((height, width, 4), 255, np.uint8)

    def _send(self, frame_bgr: np.ndarray, original: np.ndarray | None) -> None:
        assert self._buf is not None
        cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2BGRA, dst=self._buf)
        height, width = self._buf.shape[:2]
        if not self._sender.sendImage(self._buf, width, height, self._format, False, 0):
            raise SinkError("spout: the graphics driver refused the frame (no OpenGL/DirectX interop?); "
                            "update the GPU driver or use --output ndi")
        self._sender.setFrameSync(self.share_name)

    def _close(self) -> None:
        sender, self._sender = self._sender, None
        if sender is not None:
            sender.releaseSender()
        self._buf = None
