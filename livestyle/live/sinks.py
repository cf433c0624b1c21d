"""A live session's outputs: opened from their specs, each failure one event, failed recordings kept.

A ``record:`` output that could not be opened or finished is kept in ``failed_recordings`` as well
(``livestyle live`` exits non-zero for it: the user asked for a file and did not get it).
"""

from __future__ import annotations

from collections.abc import Callable

from livestyle.errors import SinkError
from livestyle.live.config import LiveConfig
from livestyle.outputs import RecordSink, Sink, SinkSpec


class SessionSinks:
    def __init__(self, cfg: LiveConfig, notify: Callable[[str, str], None]):
        self.cfg = cfg
        self.notify = notify
        self.failed_recordings: list[str] = []
        """One line per ``record:`` output that could not be opened or finished."""

    def create(self, spec: SinkSpec) -> Sink:
        return spec.create(mirror=self.cfg.mirror, side_by_side=self.cfg.side_by_side,
                           vcam_backend=self.cfg.vcam_backend, vcam_fmt=self.cfg.vcam_fmt)

    def open_all(self, specs: list[SinkSpec], w: int, h: int, fps: float) -> list[Sink]:
        """Every output opened (or marked with its error, which is also an event)."""
        sinks = []
        for spec in specs:
            sink = self.create(spec)
            try:
                sink.open(w, h, fps)
            except SinkError as e:
                sink.mark_error(str(e))
                self.notify(str(e), "error")
                if isinstance(sink, RecordSink):
                    self.failed_recordings.append(str(e))
            sinks.append(sink)
        if not any(s.is_on for s in sinks):
            self.notify("no output is working; frames are still processed (see the errors above)", "warning")
        return sinks

    def failed(self, sink: Sink, reason: str) -> None:
        """The sender's report of an output that failed while running or closing: an error event at
        once; a recording that could not be finished is also kept for ``live``'s exit code."""
        message = f"{sink.name}: {reason.removeprefix('SinkError: ')}"
        self.notify(message, "error")
        if isinstance(sink, RecordSink):
            self.failed_recordings.append(message)
