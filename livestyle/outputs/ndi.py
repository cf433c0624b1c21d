"""NDI output (``--output ndi[:NAME]``) through ``ndi-python`` (module ``NDIlib``), which bundles the NDI runtime.

Why ``ndi-python`` and not ``cyndilib`` (calibration/results/outputs-2026-12-04.md): both are MIT wrappers
whose wheels (Linux x86_64/aarch64, Windows, macOS arm64, Python 3.11) carry the NDI runtime (NDI SDK
licence: free to redistribute, see ``NDIlib/libndi_licenses.txt``); a 640x360 frame costs the same to send
with either (0.9 vs 1.1 ms with a receiver connected), but ``ndi-python`` follows the C SDK one to one, needs
only numpy and ships the newer runtime (6.3). Frames go out as BGRX with the asynchronous send: the call
returns at once and the runtime compresses on its own thread; two buffers alternate because the runtime
reads a buffer until the next send. The sender thread paces the output, so the runtime's clock is off.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import cv2
import numpy as np

from livestyle.errors import LivestyleError, SinkError
from livestyle.outputs.base import Sink

EXTRA = "pip install 'livestyle[ndi]'"
DEFAULT_NAME = "livestyle"
MAX_NAME = 200


def load_ndi(error: type[LivestyleError] = SinkError) -> ModuleType:
    """The initialised ``NDIlib`` module; ``error`` (one line with the fix) when it is missing or cannot start."""
    try:
        import NDIlib
    except ImportError:
        raise error(f"NDI needs the ndi extra: {EXTRA}") from None
    except OSError as err:  # the bundled runtime does not load (wrong CPU or libc)
        raise error(f"the NDI runtime does not load here ({err}); reinstall it: {EXTRA}") from None
    if not NDIlib.initialize():
        raise error("the NDI runtime refuses to start on this CPU (it needs SSE4.2); NDI is not available here")
    return NDIlib


def ndi_available() -> tuple[bool, str]:
    """``(installed, one line)`` for ``livestyle doctor``."""
    try:
        ndi = load_ndi()
    except SinkError as err:
        return False, str(err)
    version = str(ndi.version()).split()[-1] if hasattr(ndi, "version") else "runtime"
    return True, f"NDI runtime {version} loads: --output ndi[:NAME], --source ndi:NAME (docs/outputs.md)"


def check_ndi_name(name: str) -> str:
    """``name`` stripped; ``SinkError`` for an empty, over-long or bracketed name (NDI adds "HOST (NAME)")."""
    text = name.strip()
    if not text or len(text) > MAX_NAME or any(c in text for c in "()[],\n\r\t"):
        raise SinkError(f"bad NDI name {name!r}: give 1..{MAX_NAME} characters without brackets or commas, "
                        "e.g. --output ndi:livestyle")
    return text


class NdiSink(Sink):
    """Sends frames as the NDI source ``HOST (name)`` that OBS (DistroAV), Resolume or vMix can pick.

    ``ndi``: the ``NDIlib`` module to use (tests pass a fake); ``None`` loads the real one at ``open``.
    """

    def __init__(self, name: str | None = None, ndi: Any = None) -> None:
        super().__init__()
        self.ndi_name = check_ndi_name(name or DEFAULT_NAME)
        self.name = f"ndi {self.ndi_name}"
        self._ndi = ndi
        self._sender: Any = None
        self._frame: Any = None
        self._bufs: list[np.ndarray] = []
        self.source_name = ""
        """The full NDI name receivers see (``"HOST (name)"``), once open."""

    def _open(self, width: int, height: int, fps: float) -> None:
        ndi = self._ndi if self._ndi is not None else load_ndi()
        self._ndi = ndi
        desc = ndi.SendCreate()
        desc.ndi_name = self.ndi_name
        desc.clock_video = False
        send = ndi.send_create(desc)
        if send is None:
            raise SinkError(f"NDI name {self.ndi_name!r} is already in use on this machine "
                            "(another livestyle or NDI sender); pick another: --output ndi:OTHER-NAME")
        frame = ndi.VideoFrameV2()
        frame.FourCC = ndi.FOURCC_VIDEO_TYPE_BGRX
        num = round(fps * 1000)
        frame.frame_rate_N, frame.frame_rate_D = num, 1000
        self._sender, self._frame = send, frame
        self._bufs = [np.full((height, width, 4), 255, np.uint8) for _ in range(2)]
        self.source_name = str(ndi.send_get_source_name(send).ndi_name)

    def _send(self, frame_bgr: np.ndarray, original: np.ndarray | None) -> None:
        buf = self._bufs[self.frames % 2]  # the runtime still reads the other one (the previous async send)
        cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2BGRA, dst=buf)
        self._frame.data = buf
        self._ndi.send_send_video_async_v2(self._sender, self._frame)

    def connections(self) -> int:
        """How many receivers are connected now (0 when closed)."""
        if self._sender is None or self._ndi is None:
            return 0
        return int(self._ndi.send_get_no_connections(self._sender, 0))

    def _close(self) -> None:
        send, self._sender = self._sender, None
        if send is not None and self._ndi is not None:
            self._ndi.send_destroy(send)  # waits for the pending async frame
        self._bufs = []
