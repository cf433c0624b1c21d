"""Opening the session's control surfaces (``--osc``, ``--midi``): each that cannot open is one error event
with its fix, and the show goes on without it."""

from __future__ import annotations

from typing import Any, Protocol

from livestyle.errors import LivestyleError


class Surface(Protocol):
    def close(self) -> None: ...


def open_surfaces(session: Any) -> list[Surface]:
    """The control surfaces ``session.cfg`` asks for, started; failures become ``session.notify`` errors."""
    cfg = session.cfg
    out: list[Surface] = []
    if cfg.osc is not None:
        try:
            from livestyle.control.osc import OscServer, parse_osc

            out.append(OscServer(session, *parse_osc(cfg.osc)).start())
        except LivestyleError as e:
            session.notify(str(e), "error")
    if cfg.midi is not None:
        try:
            from livestyle.control.midi import MidiControl

            out.append(MidiControl.open(session, cfg.midi or None, cfg.midi_map).start())
        except LivestyleError as e:
            session.notify(str(e), "error")
    return out
