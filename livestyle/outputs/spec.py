"""Parsing ``--output`` strings ("vcam,preview,record:out.mp4") into sink specifications."""

from __future__ import annotations

from dataclasses import dataclass

from livestyle.errors import SinkError
from livestyle.outputs.base import Sink
from livestyle.outputs.ndi import NdiSink, check_ndi_name
from livestyle.outputs.null import NullSink
from livestyle.outputs.preview import PreviewSink
from livestyle.outputs.record import RecordSink, fourcc_for
from livestyle.outputs.spout import SpoutSink, check_share_name
from livestyle.outputs.syphon import SyphonSink
from livestyle.outputs.vcam import VirtualCameraSink
from livestyle.outputs.window import WindowSink, parse_window_arg

VALID = ("vcam, vcam:DEVICE (e.g. vcam:/dev/video4), preview, record:FILE (.mp4, .avi, .mkv, .mov), null, "
         "ndi[:NAME], spout[:NAME], syphon[:NAME], window[:DISPLAY]")


@dataclass(frozen=True)
class SinkSpec:
    """One parsed output: ``kind`` in {vcam, preview, record, null, ndi, spout, syphon, window}; ``arg`` the
    device, file, share name or display, if any."""

    kind: str
    arg: str | None = None

    def create(self, *, mirror: bool = False, side_by_side: bool = False,
               vcam_backend: str | None = None, vcam_fmt: str = "I420") -> Sink:
        """Build the (unopened) sink; ``mirror``/``side_by_side`` apply to the preview only."""
        if self.kind == "vcam":
            return VirtualCameraSink(device=self.arg, backend=vcam_backend, fmt=vcam_fmt)
        if self.kind == "preview":
            return PreviewSink(mirror=mirror, side_by_side=side_by_side)
        if self.kind == "record":
            assert self.arg is not None
            return RecordSink(self.arg)
        if self.kind == "null":
            return NullSink()
        if self.kind == "ndi":
            return NdiSink(self.arg)
        if self.kind == "spout":
            return SpoutSink(self.arg)
        if self.kind == "syphon":
            return SyphonSink(self.arg)
        if self.kind == "window":
            display, mirror_window = parse_window_arg(self.arg)
            return WindowSink(display, mirror=mirror_window)
        raise SinkError(f"unknown output {self.kind!r}; valid outputs: {VALID}")

    def __str__(self) -> str:
        return f"{self.kind}:{self.arg}" if self.arg else self.kind


def parse_sinks(spec: str) -> list[SinkSpec]:
    """Parse a comma-separated ``--output`` value; ``SinkError`` (one line) for anything unknown.

    ``"vcam"``, ``"vcam:/dev/video4"``, ``"preview"``, ``"record:out.mp4"``,
    ``"null"``, ``"ndi"``/``"ndi:Name"``, ``"spout"``/``"spout:Name"``, ``"syphon"``/``"syphon:Name"``,
    ``"window"``/``"window:1"``/``"window:1:mirror"``; e.g. ``"vcam,preview"``. Duplicates are errors; whether
    an output works on this OS is found out when it opens (one line, with the extra to install).
    """
    parts = [p.strip() for p in spec.split(",")]
    if not spec.strip() or any(not p for p in parts):
        raise SinkError(f"empty output in {spec!r}; valid outputs: {VALID}")
    specs: list[SinkSpec] = []
    for part in parts:
        kind, sep, arg = part.partition(":")
        kind, arg = kind.strip().lower(), arg.strip()
        if kind == "vcam":
            item = SinkSpec("vcam", arg or None)
        elif kind in ("preview", "null"):
            if sep:
                raise SinkError(f"output {part!r} takes no argument; valid outputs: {VALID}")
            item = SinkSpec(kind)
        elif kind == "record":
            if not arg:
                raise SinkError(f"output {part!r} needs a file name, e.g. record:out.mp4")
            fourcc_for(arg)  # unknown extension: fail now, not after the session started
            item = SinkSpec("record", arg)
        elif kind == "ndi":
            item = SinkSpec("ndi", check_ndi_name(arg) if sep else None)
        elif kind in ("spout", "syphon"):
            item = SinkSpec(kind, check_share_name(kind, arg) if sep else None)
        elif kind == "window":
            display, mirror = parse_window_arg(arg)
            item = SinkSpec("window", f"{display}:mirror" if mirror else str(display))
        else:
            raise SinkError(f"unknown output {part!r}; valid outputs: {VALID}")
        if item in specs:
            raise SinkError(f"output {part!r} is given twice in {spec!r}")
        specs.append(item)
    return specs
