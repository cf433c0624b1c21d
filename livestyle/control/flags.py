"""The control flags shared by ``livestyle live`` and the TUI: ``--strength``, ``--transition``, ``--osc``,
``--midi``, ``--midi-map``, ``--record-dir`` (docs/control.md)."""

from __future__ import annotations

import argparse

from livestyle.errors import LivestyleError, check_range


def add_control_arguments(p: argparse.ArgumentParser) -> None:
    """``--strength``, ``--transition``, ``--osc``, ``--midi``, ``--midi-map``, ``--record-dir`` (docs/control.md)."""
    p.add_argument("--strength", type=float, default=None, metavar="S",
                   help="blend of the camera frame (0) and the stylized frame (1) (default 1)")
    p.add_argument("--transition", type=float, default=None, metavar="SECONDS",
                   help="crossfade time of a style switch, 0..10 s (0 = cut; default 0.5)")
    p.add_argument("--osc", metavar="[HOST:]PORT",
                   help="take OSC control messages on this UDP port (127.0.0.1 unless HOST is given, e.g. "
                        "0.0.0.0:9000 for the network; needs livestyle[osc]); addresses in docs/control.md")
    p.add_argument("--midi", nargs="?", const="", metavar="PORT",
                   help="take MIDI control from this input port (default: the first one; needs livestyle[midi])")
    p.add_argument("--midi-map", metavar="FILE",
                   help="MIDI mapping TOML (CC -> parameter, note -> action; default: the built-in one)")
    p.add_argument("--record-dir", default=None, metavar="DIR",
                   help="where the record control (OSC/MIDI) writes its files (default: the current folder)")


def check_control_options(a: argparse.Namespace) -> None:
    """One line for a bad ``--strength``, ``--transition``, ``--osc``, ``--midi-map`` or ``--record-dir`` before
    anything starts."""
    from livestyle.control.commands import TRANSITION_RANGE

    check_range("--strength", getattr(a, "strength", None), 0.0, 1.0)
    check_range("--transition", getattr(a, "transition", None), *TRANSITION_RANGE)
    if getattr(a, "osc", None) is not None:
        from livestyle.control.osc import parse_osc

        parse_osc(a.osc)
    if getattr(a, "midi_map", None):
        from livestyle.control.midimap import load_mapping

        if getattr(a, "midi", None) is None:  # the map alone opens no port: it would do nothing without a word
            raise LivestyleError(f"--midi-map {a.midi_map} needs --midi: add --midi (the first MIDI input) or "
                                 "--midi PORT to open one with this mapping")

        load_mapping(a.midi_map)
    if getattr(a, "record_dir", None):  # the record control writes there: a folder it cannot write is a mistake now
        from pathlib import Path

        from livestyle.files.safepaths import check_writable

        check_writable(Path(a.record_dir).expanduser(), folder=True)


def control_config(a: argparse.Namespace) -> dict:
    """The ``LiveConfig`` fields of the control flags that were given."""
    out = {k: getattr(a, k, None) for k in ("strength", "transition", "osc", "midi", "midi_map", "record_dir")}
    return {k: v for k, v in out.items() if v is not None}
