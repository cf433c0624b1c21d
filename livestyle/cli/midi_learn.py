"""``livestyle midi-learn``: write a MIDI mapping file by moving each control in turn.

``livestyle midi-learn --out show.toml strength next_style style=1 style=2 masked`` asks for each
name in turn ("move or press the control for strength"), takes the first controller (CC) or note
that arrives, and writes ``show.toml`` (``control.midimap`` format, atomically) for
``livestyle live --midi --midi-map show.toml``. ``NAME=VALUE`` maps a note to a set value
(a style number, a background). Without names it prints every message it receives (to find
numbers), until Ctrl-C.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from livestyle.control.commands import BY_NAME, check
from livestyle.control.midimap import parse_mapping
from livestyle.errors import LivestyleError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("names", nargs="*", metavar="NAME[=VALUE]",
                   help="live parameters and actions to map, in order (e.g. strength next_style style=2)")
    p.add_argument("--port", help="part of the MIDI input port's name (default: the first port)")
    p.add_argument("--out", help="mapping file to write (TOML; required with NAMEs)")


def parse_targets(names: list[str]) -> list[tuple[str, Any]]:
    """``["strength", "style=2"]`` -> ``[("strength", None), ("style", 2)]``, each checked (one line when bad)."""
    out: list[tuple[str, Any]] = []
    for item in names:
        name, eq, raw = item.partition("=")
        if name not in BY_NAME:
            raise LivestyleError(f"midi-learn: {name!r} is not a live parameter; use one of {', '.join(BY_NAME)}")
        value: Any = None
        if eq:
            value = int(raw) if raw.isdigit() else float(raw) if raw.replace(".", "", 1).isdigit() else raw
            check(name, value)
        out.append((name, value))
    return out


def learn(targets: list[tuple[str, Any]], messages: Iterable[Any], ask=print) -> str:
    """The mapping TOML for ``targets``, each bound to the next control that moves in ``messages``
    (``mido.Message``-like). A control already taken is skipped; a note for a number parameter
    needs ``NAME=VALUE``; a CC released back (note_off, velocity 0) is ignored."""
    lines = ["# written by `livestyle midi-learn`; format: docs/control.md"]
    taken: set[tuple[str, int]] = set()
    it: Iterator[Any] = iter(messages)
    for name, value in targets:
        c = BY_NAME[name]
        ask(f"move or press the control for {name}{'' if value is None else f' = {value}'}")
        for msg in it:
            kind = getattr(msg, "type", "")
            if kind == "control_change" and ("cc", msg.control) not in taken and value is None:
                taken.add(("cc", msg.control))
                lines += [f"[cc.{msg.control}]", f'param = "{name}"']
                ask(f"  {name} <- controller {msg.control}")
                break
            if kind == "note_on" and msg.velocity > 0 and ("note", msg.note) not in taken:
                if value is None and c.kind not in ("action", "bool", "record"):
                    ask(f"  a note cannot set {name} over its range: move a fader or knob (or ask for {name}=VALUE)")
                    continue
                taken.add(("note", msg.note))
                lines += [f"[note.{msg.note}]", f'do = "{name}"']
                if value is not None:
                    lines.append(f"value = {value!r}".replace("'", '"'))
                ask(f"  {name} <- note {msg.note}")
                break
        else:
            raise LivestyleError("midi-learn: the MIDI input ended before every control was mapped")
    text = "\n".join(lines) + "\n"
    parse_mapping(text, "learned mapping")  # what we write must load
    return text


def run(a: argparse.Namespace) -> int:
    from livestyle.control.midi import input_names, mido_module, pick_port

    targets = parse_targets(a.names)
    if targets and not a.out:
        raise LivestyleError("midi-learn: give --out FILE to write the mapping to")
    if a.out:  # before the controls are moved one by one, not after
        from livestyle.files.safepaths import check_writable

        check_writable(a.out)
    mido = mido_module()
    port = pick_port(input_names(), a.port)
    print(f"livestyle: listening to {port} (Ctrl-C stops)", file=sys.stderr)
    with mido.open_input(port) as inp:
        if not targets:
            for msg in inp:
                print(msg)
            return 0
        text = learn(targets, inp, ask=lambda s: print(f"livestyle: {s}", file=sys.stderr))
    from livestyle.files.imageio import write_atomic

    write_atomic(a.out, text.encode())
    print(f"livestyle: wrote {a.out}; use it with: livestyle live --midi --midi-map {a.out}", file=sys.stderr)
    return 0
