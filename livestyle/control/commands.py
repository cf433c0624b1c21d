"""Every live parameter and action as data, and the one door through which control surfaces use them.

The TUI, the OSC server (``control.osc``) and the MIDI mapper (``control.midi``) all call
``apply(session, name, value)``: it checks the value against the table (type, range, choices)
and calls the session's commands; ``state(session)`` reads the current value of every
parameter back (feedback to control surfaces). Nothing outside this table can be reached: a
name that is not here is a ``ControlError``, never a lookup on the session.

``session`` is a ``live.session.LiveSession`` (duck-typed here so that this module stays a leaf).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from livestyle.errors import LivestyleError
from livestyle.live.composite import BACKGROUNDS

KINDS = ("float", "int", "bool", "choice", "action", "style", "record")
TRAINING_STATES = ("starting", "preparing", "training")  # the trainer's states that count as "train 1"
TRANSITION_RANGE = (0.0, 10.0)
RECORD_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,120}\.(mp4|mkv|mov|avi)$")


class ControlError(LivestyleError):
    """A control message that cannot be applied: unknown name, wrong type, out of range (one line)."""


@dataclass(frozen=True)
class Command:
    """One live parameter or action.

    ``kind``: ``float`` / ``int`` (a number in ``lo..hi``), ``bool`` (0 or 1), ``choice`` (one of
    ``choices``), ``action`` (no value), ``style`` (a 1-based index into the session's style set or a
    style's name), ``record`` (0 stops, 1 starts a recording named by the time, or a bare file name).
    """

    name: str
    kind: str
    help: str
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] = ()

    def allowed(self) -> str:
        """The valid values, in words (for error messages and the docs)."""
        if self.kind in ("float", "int"):
            return f"{'a whole number ' if self.kind == 'int' else ''}{self.lo:g}..{self.hi:g}"
        if self.kind == "bool":
            return "0 or 1"
        if self.kind == "choice":
            return " | ".join(self.choices)
        if self.kind == "style":
            return "a style number (1 = the first) or a style name"
        if self.kind == "record":
            return "0 (stop), 1 (start) or a file name such as take1.mp4"
        return "no value"


COMMANDS: tuple[Command, ...] = (
    Command("strength", "float", "blend of the camera frame (0) and the stylized frame (1)", 0.0, 1.0),
    Command("style", "style", "switch to a style of the set (crossfades over `transition` seconds)"),
    Command("next_style", "action", "switch to the next style of the set"),
    Command("prev_style", "action", "switch to the previous style of the set"),
    Command("transition", "float", "crossfade time of a style switch, in seconds (0 = cut)", *TRANSITION_RANGE),
    Command("masked", "bool", "stylize only the person (1) or the whole frame (0)"),
    Command("background", "choice", "background in masked mode", choices=BACKGROUNDS),
    Command("carry", "float", "keyframe carry strength (0 = off)", 0.0, 1.0),
    Command("steady", "float", "output stabiliser strength along the optical flow (0 = off)", 0.0, 0.95),
    Command("stylize", "bool", "stylize (1) or pass the camera frames through (0)"),
    Command("snapshot", "action", "save the current camera frame as a keyframe of the active style"),
    Command("train", "bool", "learn from the active style's paintings (1) or pause (0)"),
    Command("record", "record", "record the output to a file in the session's record folder"),
)
BY_NAME = {c.name: c for c in COMMANDS}


def command(name: str) -> Command:
    try:
        return BY_NAME[name]
    except KeyError:
        raise ControlError(f"unknown control {name!r}; known: {', '.join(BY_NAME)}") from None


def _number(c: Command, value: Any) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
    if ok and c.kind == "int":
        ok = float(value).is_integer()
    if not ok or not (c.lo is not None and c.hi is not None and c.lo <= value <= c.hi):
        raise ControlError(f"{c.name} must be {c.allowed()}, got {value!r}")
    return float(value)


def _bool(c: Command, value: Any) -> bool:
    if isinstance(value, bool) or (isinstance(value, (int, float)) and value in (0, 1)):
        return bool(value)
    raise ControlError(f"{c.name} must be {c.allowed()}, got {value!r}")


def check(name: str, value: Any = None) -> Any:
    """``value`` converted for command ``name`` (float, bool, str, int...), or ``ControlError`` (one line)."""
    c = command(name)
    if c.kind == "action":
        if value is not None and value is not True:
            raise ControlError(f"{c.name} takes no value, got {value!r}")
        return None
    if value is None:
        raise ControlError(f"{c.name} needs a value: {c.allowed()}")
    if c.kind in ("float", "int"):
        v = _number(c, value)
        return int(v) if c.kind == "int" else v
    if c.kind == "bool":
        return _bool(c, value)
    if c.kind == "choice":
        if not isinstance(value, str) or value not in c.choices:
            raise ControlError(f"{c.name} must be one of {c.allowed()}, got {value!r}")
        return value
    if c.kind == "style":
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ControlError(f"{c.name} must be {c.allowed()}, got {value!r}")
        return value
    # record
    if isinstance(value, str):
        if not RECORD_NAME.match(value):
            raise ControlError(f"record: {value!r} is not a plain file name ending in .mp4, .mkv, .mov or .avi "
                               "(no folders: the file goes to the session's record folder)")
        return value
    return _bool(c, value)


def apply(session: Any, name: str, value: Any = None) -> None:
    """Check ``value`` for ``name`` and run it on ``session``; ``ControlError`` (one line) when it does not fit.

    Errors from the session itself (no keyframe yet, a style that does not exist) are ``LivestyleError``s."""
    v = check(name, value)
    s = session.settings
    if name == "strength":
        s.strength = v
    elif name == "style":
        session.styles.select(v)
    elif name == "next_style":
        session.styles.step(1)
    elif name == "prev_style":
        session.styles.step(-1)
    elif name == "transition":
        s.transition = v
    elif name == "masked":
        session.set_masked(v)
    elif name == "background":
        s.background = v
    elif name == "carry":
        session.set_carry(v)
    elif name == "steady":
        s.steady = v
    elif name == "stylize":
        session.set_stylize(v)
    elif name == "snapshot":
        session.snapshot()
    elif name == "train":
        session.resume_training() if v else session.pause_training()
    elif name == "record":
        session.set_recording(v)
    else:  # pragma: no cover - every name of COMMANDS is handled above (tests/test_control.py)
        raise ControlError(f"control {name!r} has no handler")


def state(session: Any) -> dict[str, Any]:
    """The current value of every parameter (not the actions): what a control surface shows."""
    s = session.settings
    training = (getattr(session, "train_stats", None) or {}).get("state", "idle")
    return {
        "strength": float(s.strength),
        "style": int(session.styles.active + 1) if session.styles.entries else 0,
        "transition": float(s.transition),
        "masked": int(bool(s.masked)),
        "background": str(s.background),
        "carry": float(s.carry),
        "steady": float(s.steady),
        "stylize": int(bool(s.enabled)),
        "train": int(training in TRAINING_STATES),
        "record": int(bool(session.recording)),
    }


def parameters() -> Sequence[Command]:
    """The commands that have a value (what ``state`` reports)."""
    return [c for c in COMMANDS if c.kind != "action"]
