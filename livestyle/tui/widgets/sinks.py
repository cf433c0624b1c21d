"""Source and outputs with their state: camera, virtual camera (on/off and why not), recording."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from livestyle.tui.widgets.stats import update_if_changed

STATE_STYLE = {"on": "green", "off": "dim"}

VCAM_HINT = "v turns it on"
"""Why the virtual camera is off when it could be on (dim, not an error)."""
VCAM_CHECKING = "checking…"
"""Shown while the start-up probe runs."""


def _state_style(state: str) -> str:
    return STATE_STYLE.get(state, "red" if state.startswith("error") else "yellow")


def sinks_text(st: object, vcam_why: str = "") -> Text:
    """Source line, masked/background line, then one line per sink.

    ``vcam_why``: why the virtual camera is off, as ``"REASON"`` or
    ``"REASON; fix: COMMAND"`` (the fix gets its own line). Lines never wrap
    (a narrow panel cuts them with "…"; the messages panel has them whole).
    """
    src = getattr(st, "source", {}) or {}
    t = Text(no_wrap=True, overflow="ellipsis")
    t.append("source ", "dim").append(str(src.get("name", "-")), "bold")
    if src:
        state = str(src.get("state", ""))
        t.append("\n  ").append(state, _state_style("on" if state == "running" else state))
        t.append(f" {src.get('width', 0)}x{src.get('height', 0)}@{float(src.get('fps', 0)):.0f}", "dim")
    if src.get("error"):
        t.append(f"\n  {src['error']}", "red")
    masked = bool(getattr(st, "masked", False))
    t.append("\nmasked ", "dim").append("on" if masked else "off", "green" if masked else "dim")
    t.append("  bg ", "dim").append(str(getattr(st, "background", "keep")))
    carry = float(getattr(st, "carry", 0.0) or 0.0)
    t.append("  carry ", "dim").append("on" if carry else "off", "green" if carry else "dim")
    sinks = [(str(n), str(s)) for n, s in (getattr(st, "sinks", []) or [])]
    for name, state in sinks:
        t.append("\n● " if state == "on" else "\n○ ", _state_style(state))
        t.append(f"{name} ").append(state, _state_style(state))
    if not any(n.startswith("vcam") for n, _ in sinks):
        t.append("\n○ vcam ", "dim").append("off", "dim")
        why, _, fix = vcam_why.partition("; fix: ")
        if why:
            t.append(f" ({why})", "dim" if why in (VCAM_HINT, VCAM_CHECKING) else "red")
        if fix:
            t.append(f"\n  fix: {fix}", "yellow")
    if not any(n.startswith("record") for n, _ in sinks):
        t.append("\n○ record ", "dim").append("off (c)", "dim")
    return t


class SinksPanel(Static):
    """Shows ``sinks_text``; updated by the app's poll timer."""

    def show(self, st: object, vcam_why: str = "") -> None:
        update_if_changed(self, sinks_text(st, vcam_why))
