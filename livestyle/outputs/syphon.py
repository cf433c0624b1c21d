"""Syphon output (``--output syphon[:NAME]``, macOS only) through ``syphon-python`` (MIT, Metal server).

Resolume, TouchDesigner, VDMX, MadMapper and OBS (Syphon Client source) on the same Mac list the server by
name. Each frame is copied into a BGRA8 Metal texture (``MTLPixelFormatBGRA8Unorm``, top-down like numpy,
so ``is_flipped=False``) and published with ``publish_frame_texture``.
"""

from __future__ import annotations

import platform
from types import ModuleType
from typing import Any

import cv2
import numpy as np

from livestyle.errors import SinkError
from livestyle.outputs.base import Sink
from livestyle.outputs.spout import check_share_name

EXTRA = "pip install 'livestyle[syphon]'"
DEFAULT_NAME = "livestyle"
MTL_PIXEL_FORMAT_BGRA8 = 80
"""``Metal.MTLPixelFormatBGRA8Unorm``."""


def load_syphon(system: str | None = None) -> ModuleType:
    """The ``syphon`` module; ``SinkError`` (one line: the OS, the extra) where it cannot work."""
    system = system or platform.system()
    if system != "Darwin":
        raise SinkError(f"syphon: Syphon exists on macOS only (this is {system}); use --output ndi "
                        "to reach another machine, or spout on Windows")
    try:
        import syphon
        import syphon.utils.numpy
        import syphon.utils.raw  # noqa: F401  (create_mtl_texture)
    except ImportError:
        raise SinkError(f"syphon: syphon-python is not installed: {EXTRA}") from None
    return syphon


def syphon_available() -> tuple[bool, str]:
    """``(works here, one line)`` for ``livestyle doctor``."""
    try:
        load_syphon()
    except SinkError as err:
        return False, str(err)
    return True, "syphon-python installed: --output syphon[:NAME] (docs/outputs.md)"


class SyphonSink(Sink):
    """Publishes frames as the Syphon server ``name``. ``syphon``: the ``syphon`` module (tests pass a fake)."""

    def __init__(self, name: str | None = None, syphon: Any = None) -> None:
        super().__init__()
        self.share_name = check_share_name("syphon", name or DEFAULT_NAME)
        self.name = f"syphon {self.share_name}"
        self._lib = syphon
        self._server: Any = None
        self._texture: Any = None
        self._buf: np.ndarray | None = None

    def _open(self, width: int, height: int, fps: float) -> None:
        lib = self._lib if self._lib is not None else load_syphon()
        self._lib = lib
        try:
            server = lib.SyphonMetalServer(self.share_name)
            texture = lib.utils.raw.create_mtl_texture(server.device, width, height, MTL_PIXEL_FORMAT_BGRA8)
        except Exception as err:  # PyObjC raises its own errors (no Metal device, framework not loaded)
            raise SinkError(f"syphon: cannot start a Metal server ({err}); this Mac needs Metal (macOS 11+)") from err
        self._server, self._texture = server, texture
        self._buf = np.full((height, width, 4), 255, np.uint8)

    def _send(self, frame_bgr: np.ndarray, original: np.ndarray | None) -> None:
        assert self._buf is not None
        cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2BGRA, dst=self._buf)
        self._lib.utils.numpy.copy_image_to_mtl_texture(self._buf, self._texture)
        self._server.publish_frame_texture(self._texture, is_flipped=False)

    def _close(self) -> None:
        server, self._server = self._server, None
        self._texture = None
        self._buf = None
        if server is not None:
            server.stop()
