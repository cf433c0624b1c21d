"""Outputs: virtual camera, preview window, recording, null; ``--output`` parsing; the paced sender."""

from __future__ import annotations

from .base import OutFrame, Sink, check_frame
from .null import NullSink
from .preview import PreviewSink, has_display
from .record import RecordSink, fourcc_for
from .sender import Sender, SenderStats
from .spec import SinkSpec, parse_sinks
from .vcam import VirtualCameraSink, driver_fix, to_camera_format

__all__ = [
    "NullSink", "OutFrame", "PreviewSink", "RecordSink", "Sender", "SenderStats", "Sink",
    "SinkSpec", "VirtualCameraSink", "check_frame", "driver_fix", "fourcc_for", "has_display",
    "parse_sinks", "to_camera_format",
]
