"""MIDI mapping files: which controller (CC) sets which parameter, which note fires which action.

The file is TOML (stdlib ``tomllib``)::

    [cc.7]                  # controller 7 (0..127) ...
    param = "strength"      # ... sets strength over its whole range (0..1)
    [cc.1]
    param = "carry"
    range = [0.0, 0.5]      # or only part of it
    channel = 1             # optional: only from MIDI channel 1 (1..16); default any
    [note.36]               # note 36 (C1), pressed ...
    do = "next_style"       # ... fires an action
    [note.40]
    do = "style"            # ... or sets a parameter to a value
    value = 1
    [note.44]
    do = "masked"           # a 0/1 parameter without a value: each press toggles it

A CC on a number sets ``lo + (hi - lo) * value / 127``; on a 0/1 parameter it is on from 64; on a
choice or a style it picks among them across the controller's travel; on an action it fires when
the controller crosses 64 upwards. Every mistake is one ``LivestyleError`` line naming the file
and the entry. Messages are ``mido.Message``-like objects (``type``, ``channel``, ``control``,
``value``, ``note``, ``velocity``); this module does not import mido.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from livestyle.control.commands import BY_NAME, check, state
from livestyle.errors import LivestyleError

DEFAULT_MAPPING = """\
# livestyle's built-in MIDI mapping (used when --midi-map is not given)
[cc.1]        # the modulation wheel, or a controller's first fader
param = "strength"
[cc.2]
param = "carry"
[note.36]     # pads of many controllers start at C1 = 36
do = "style"
value = 1
[note.37]
do = "style"
value = 2
[note.38]
do = "style"
value = 3
[note.39]
do = "style"
value = 4
[note.40]
do = "prev_style"
[note.41]
do = "next_style"
[note.42]
do = "snapshot"
[note.43]
do = "masked"
"""


@dataclass(frozen=True)
class CcRule:
    control: int
    param: str
    lo: float | None = None  # None: the parameter's own range
    hi: float | None = None
    channel: int | None = None  # 1..16; None = any


@dataclass(frozen=True)
class NoteRule:
    note: int
    do: str
    value: Any = None  # None: fire the action, or toggle a 0/1 parameter
    channel: int | None = None


@dataclass(frozen=True)
class Mapping:
    cc: tuple[CcRule, ...] = ()
    notes: tuple[NoteRule, ...] = ()
    port: str | None = None  # part of the input port's name (``[port] name = "..."``)


def load_mapping(path: str | Path | None) -> Mapping:
    """The mapping in ``path`` (None: ``DEFAULT_MAPPING``); ``LivestyleError`` (one line) for any mistake."""
    if path is None:
        return parse_mapping(DEFAULT_MAPPING, "built-in MIDI mapping")
    p = Path(path).expanduser()
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LivestyleError(f"--midi-map {path}: no such file; write one (docs/control.md) or run "
                             "`livestyle midi-learn --out FILE`") from None
    except (OSError, UnicodeDecodeError) as e:
        raise LivestyleError(f"--midi-map {path}: cannot read it ({e})") from None
    return parse_mapping(text, str(p))


def _number(where: str, key: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise LivestyleError(f"{where}: {key} must be a whole number {lo}..{hi}, got {value!r}")
    return value


def parse_mapping(text: str, name: str) -> Mapping:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise LivestyleError(f"{name}: not valid TOML ({e}); fix that line") from None
    for key in data:
        if key not in ("cc", "note", "port"):
            raise LivestyleError(f"{name}: unknown table [{key}]; use [cc.N], [note.N] and [port]")
    port = data.get("port", {})
    if not isinstance(port, dict) or set(port) - {"name"} or not isinstance(port.get("name", ""), str):
        raise LivestyleError(f'{name}: [port] takes one key, name = "part of the port name"')
    ccs, notes = [], []
    for kind in ("cc", "note"):
        table = data.get(kind, {})
        if not isinstance(table, dict):
            raise LivestyleError(f"{name}: {kind} must be tables such as [{kind}.7]")
        for number, rule in table.items():
            where = f"{name}: [{kind}.{number}]"
            if not number.isdigit() or not 0 <= int(number) <= 127:
                raise LivestyleError(f"{where}: {'controller' if kind == 'cc' else 'note'} numbers are 0..127, "
                                     f"got {number!r}")
            if not isinstance(rule, dict):
                raise LivestyleError(f"{where}: must be a table of keys")
            channel = rule.get("channel")
            if channel is not None:
                _number(where, "channel", channel, 1, 16)
            if kind == "cc":
                ccs.append(_cc_rule(where, int(number), rule, channel))
            else:
                notes.append(_note_rule(where, int(number), rule, channel))
    return Mapping(tuple(ccs), tuple(notes), port.get("name") or None)


def _known(where: str, key: str, name: Any) -> None:
    if not isinstance(name, str) or name not in BY_NAME:
        raise LivestyleError(f"{where}: {key} = {name!r} is not a live parameter; use one of {', '.join(BY_NAME)}")


def _cc_rule(where: str, control: int, rule: dict, channel: int | None) -> CcRule:
    extra = set(rule) - {"param", "range", "channel"}
    if extra:
        raise LivestyleError(f"{where}: unknown key {sorted(extra)[0]!r}; a [cc.N] takes param, range, channel")
    _known(where, "param", rule.get("param"))
    c = BY_NAME[rule["param"]]
    lo = hi = None
    if "range" in rule:
        r = rule["range"]
        ok = isinstance(r, list) and len(r) == 2 and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in r)
        if not ok or c.kind not in ("float", "int"):
            raise LivestyleError(f"{where}: range = [LO, HI] (two numbers) is only for number parameters, got {r!r}")
        assert c.lo is not None and c.hi is not None
        lo, hi = float(r[0]), float(r[1])
        for x in (lo, hi):
            if not c.lo <= x <= c.hi:
                raise LivestyleError(f"{where}: range {r} goes outside {c.name}'s {c.allowed()}")
    return CcRule(control, c.name, lo, hi, channel)


def _note_rule(where: str, note: int, rule: dict, channel: int | None) -> NoteRule:
    extra = set(rule) - {"do", "value", "channel"}
    if extra:
        raise LivestyleError(f"{where}: unknown key {sorted(extra)[0]!r}; a [note.N] takes do, value, channel")
    _known(where, "do", rule.get("do"))
    c = BY_NAME[rule["do"]]
    value = rule.get("value")
    if value is None and c.kind not in ("action", "bool", "record"):
        raise LivestyleError(f"{where}: do = {c.name!r} needs a value ({c.allowed()})")
    if value is not None:
        try:
            check(c.name, value)
        except LivestyleError as e:
            raise LivestyleError(f"{where}: {e}") from None
    return NoteRule(note, c.name, value, channel)


def _channel_ok(rule_channel: int | None, msg: Any) -> bool:
    return rule_channel is None or getattr(msg, "channel", -1) + 1 == rule_channel  # mido: channels 0..15


def cc_value(rule: CcRule, value: int, session: Any) -> Any:
    """What controller position ``value`` (0..127) means for ``rule``'s parameter."""
    c = BY_NAME[rule.param]
    x = max(0, min(127, int(value))) / 127.0
    if c.kind in ("float", "int"):
        lo = c.lo if rule.lo is None else rule.lo
        hi = c.hi if rule.hi is None else rule.hi
        assert lo is not None and hi is not None
        v = lo + (hi - lo) * x
        return round(v) if c.kind == "int" else round(v, 4)
    if c.kind in ("bool", "record"):
        return value >= 64
    if c.kind == "choice":
        return c.choices[min(len(c.choices) - 1, int(x * len(c.choices)))]
    if c.kind == "style":
        n = max(1, len(session.styles.entries))
        return 1 + min(n - 1, int(x * n))
    return None


def actions_for(mapping: Mapping, msg: Any, session: Any, last_cc: dict[tuple[int, int], int]) -> list[tuple[str, Any]]:
    """The ``(name, value)`` calls of ``control.commands.apply`` that message ``msg`` asks for under ``mapping``.

    ``last_cc``: the previous value of each ``(channel, controller)`` (updated here): an action
    on a controller fires when it crosses 64 upwards, and an unchanged position does nothing."""
    out: list[tuple[str, Any]] = []
    kind = getattr(msg, "type", "")
    if kind == "control_change":
        key = (msg.channel, msg.control)
        before, last_cc[key] = last_cc.get(key), msg.value
        if before == msg.value:
            return out
        for r in mapping.cc:
            if r.control == msg.control and _channel_ok(r.channel, msg):
                if BY_NAME[r.param].kind == "action":
                    if msg.value >= 64 and (before is None or before < 64):
                        out.append((r.param, None))
                else:
                    out.append((r.param, cc_value(r, msg.value, session)))
    elif kind == "note_on" and msg.velocity > 0:
        for n in mapping.notes:
            if n.note == msg.note and _channel_ok(n.channel, msg):
                c = BY_NAME[n.do]
                if n.value is None and c.kind in ("bool", "record"):
                    out.append((n.do, not bool(state(session)[n.do])))  # toggle
                else:
                    out.append((n.do, n.value))
    return out
