"""An NDI source as input (``--source ndi:NAME``): a camera, a mixer or OBS feeding livestyle over the network.

``NAME`` is the source's NDI name (``"HOST (Name)"``, or the part in brackets, case-insensitive) found by
NDI discovery, or ``HOST:PORT`` to connect by address where discovery does not reach (mDNS blocked, another
subnet). Frames arrive as BGRX and are handed on as ``(H, W, 3) uint8 BGR``, resized to the size asked for.
"""

from __future__ import annotations

import re
import time
from typing import Any

import cv2
import numpy as np

from livestyle.capture.base import Source, check_fps, check_size
from livestyle.errors import SourceError
from livestyle.outputs.ndi import load_ndi

ADDRESS = re.compile(r"^[\w.\-]+:\d{1,5}$")
FIND_SECONDS = 3.0
"""How long ``open`` looks for a source by name."""
FIRST_FRAME_SECONDS = 5.0
READ_TIMEOUT_MS = 1000


def find_ndi_sources(seconds: float = 1.0, ndi: Any = None) -> list[str]:
    """NDI names discovery sees within ``seconds`` (``[]`` when NDI is not installed)."""
    try:
        ndi = ndi if ndi is not None else load_ndi(SourceError)
    except SourceError:
        return []
    finder = ndi.find_create_v2()
    try:
        ndi.find_wait_for_sources(finder, int(seconds * 1000))
        return [str(s.ndi_name) for s in ndi.find_get_current_sources(finder)]
    finally:
        ndi.find_destroy(finder)


def _matches(wanted: str, full: str) -> bool:
    short = full[full.find("(") + 1:full.rfind(")")] if "(" in full and full.endswith(")") else full
    return wanted.lower() in (full.lower(), short.lower())


class NdiSource(Source):
    """Frames from the NDI source ``spec`` (a name or ``HOST:PORT``), paced by the sender (``live``)."""

    live = True

    def __init__(self, spec: str, width: int | None = None, height: int | None = None,
                 fps: float | None = None, ndi: Any = None,
                 find_seconds: float = FIND_SECONDS) -> None:
        super().__init__()
        self.spec = spec.strip()
        if not self.spec:
            raise SourceError("ndi: give the NDI source's name or HOST:PORT, e.g. --source 'ndi:STUDIO (OBS)'")
        self.name = f"ndi:{self.spec}"
        if ADDRESS.match(self.spec) and not 0 < int(self.spec.rsplit(":", 1)[1]) <= 65535:
            raise SourceError(f"{self.name}: the port must be 1..65535, e.g. --source ndi:192.168.1.20:5961")
        self._want = (int(width), int(height)) if width and height else None
        if self._want:
            check_size(self.name, *self._want)
        self._fps = check_fps(self.name, fps) if fps else 30.0
        self._ndi = ndi
        self._recv: Any = None
        self._pending: np.ndarray | None = None
        self.find_seconds = find_seconds

    def _resolve(self, ndi: Any) -> Any:
        src = ndi.Source()
        if ADDRESS.match(self.spec):
            src.ndi_name, src.url_address = self.spec, self.spec
            return src
        finder = ndi.find_create_v2()
        try:
            seen: list[str] = []
            end = time.monotonic() + self.find_seconds
            while True:
                ndi.find_wait_for_sources(finder, 300)
                found = list(ndi.find_get_current_sources(finder))
                seen = [str(s.ndi_name) for s in found]
                match = next((s for s in found if _matches(self.spec, str(s.ndi_name))), None)
                if match is not None:
                    return match
                if time.monotonic() > end:
                    break
        finally:
            ndi.find_destroy(finder)
        listing = ", ".join(repr(n) for n in seen) or "none"
        raise SourceError(f"no NDI source named {self.spec!r} (sources seen: {listing}); start the sender, "
                          "or connect by address: --source ndi:HOST:PORT")

    def _capture(self, timeout_ms: int) -> np.ndarray | None:
        ndi = self._ndi
        kind, video, audio, meta = ndi.recv_capture_v2(self._recv, timeout_ms)
        if kind == ndi.FRAME_TYPE_VIDEO:
            try:
                frame = cv2.cvtColor(np.asarray(video.data), cv2.COLOR_BGRA2BGR)  # a copy: the buffer goes back
            finally:
                ndi.recv_free_video_v2(self._recv, video)
            return frame
        if kind == ndi.FRAME_TYPE_AUDIO:
            ndi.recv_free_audio_v2(self._recv, audio)
        elif kind == ndi.FRAME_TYPE_METADATA:
            ndi.recv_free_metadata(self._recv, meta)
        elif kind == ndi.FRAME_TYPE_ERROR:
            raise SourceError(f"{self.name}: the NDI connection failed; check that the sender still runs")
        return None

    def _open(self) -> None:
        ndi = self._ndi if self._ndi is not None else load_ndi(SourceError)
        self._ndi = ndi
        src = self._resolve(ndi)
        create = ndi.RecvCreateV3()
        create.color_format = ndi.RECV_COLOR_FORMAT_BGRX_BGRA
        create.bandwidth = ndi.RECV_BANDWIDTH_HIGHEST
        recv = ndi.recv_create_v3(create)
        if recv is None:
            raise SourceError(f"{self.name}: the NDI runtime cannot create a receiver")
        self._recv = recv
        ndi.recv_connect(recv, src)
        end = time.monotonic() + FIRST_FRAME_SECONDS
        frame = None
        while frame is None and time.monotonic() < end:
            frame = self._capture(200)
        if frame is None:
            self._close()
            raise SourceError(f"{self.name}: no video within {FIRST_FRAME_SECONDS:g} s; check that the sender "
                              "sends video and that TCP ports 5960+ on its machine are reachable")
        height, width = frame.shape[:2]
        if self._want is None:
            check_size(self.name, width, height)
            self._size = (width, height)
        else:
            self._size = self._want
            if (width, height) != self._want:
                self.warn(f"{self.name}: sends {width}x{height}, resized to {self._want[0]}x{self._want[1]}")
        self._pending = frame

    def _read(self) -> np.ndarray | None:
        frame, self._pending = self._pending, None
        if frame is None:
            frame = self._capture(READ_TIMEOUT_MS)
        if frame is None:
            return None
        if frame.shape[1::-1] != self._size:
            frame = cv2.resize(frame, self._size, interpolation=cv2.INTER_AREA)
        return frame

    def _close(self) -> None:
        recv, self._recv = self._recv, None
        self._pending = None
        if recv is not None and self._ndi is not None:
            self._ndi.recv_destroy(recv)
