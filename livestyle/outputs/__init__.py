"""Outputs: virtual camera, preview, recording, null, NDI, Spout, Syphon, full-screen window; ``--output`` parsing;
the paced sender."""

from __future__ import annotations

from livestyle.outputs.base import OutFrame, Sink, check_frame
from livestyle.outputs.ndi import NdiSink
from livestyle.outputs.null import NullSink
from livestyle.outputs.preview import PreviewSink, has_display
from livestyle.outputs.record import RecordSink, fourcc_for
from livestyle.outputs.sender import Sender, SenderStats
from livestyle.outputs.spec import SinkSpec, parse_sinks
from livestyle.outputs.spout import SpoutSink
from livestyle.outputs.syphon import SyphonSink
from livestyle.outputs.vcam import VirtualCameraSink, driver_fix, to_camera_format
from livestyle.outputs.window import WindowSink

__all__ = [
    "NdiSink", "NullSink", "OutFrame", "PreviewSink", "RecordSink", "Sender", "SenderStats", "Sink",
    "SinkSpec", "SpoutSink", "SyphonSink", "VirtualCameraSink", "WindowSink", "check_frame", "driver_fix",
    "fourcc_for", "has_display", "parse_sinks", "to_camera_format",
]
