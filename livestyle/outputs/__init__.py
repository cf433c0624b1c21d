"""Outputs: virtual camera, preview window, recording, null; ``--output`` parsing; the paced sender."""

from __future__ import annotations

from livestyle.outputs.base import OutFrame, Sink, check_frame
from livestyle.outputs.null import NullSink
from livestyle.outputs.preview import PreviewSink, has_display
from livestyle.outputs.record import RecordSink, fourcc_for
from livestyle.outputs.sender import Sender, SenderStats
from livestyle.outputs.spec import SinkSpec, parse_sinks
from livestyle.outputs.vcam import VirtualCameraSink, driver_fix, to_camera_format

__all__ = [
    "NullSink", "OutFrame", "PreviewSink", "RecordSink", "Sender", "SenderStats", "Sink",
    "SinkSpec", "VirtualCameraSink", "check_frame", "driver_fix", "fourcc_for", "has_display",
    "parse_sinks", "to_camera_format",
]
