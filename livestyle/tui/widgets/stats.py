"""Live numbers: stylized and output frame rates, latency, drops, per-stage milliseconds."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

SHORT = {"denoise": "dn", "flow": "fl", "segment": "seg", "guide": "gd", "key flow": "kf", "carry": "ky", "blend": "kb", "prepare": "prep",
         "stylize": "net", "move": "mv", "steady": "st", "upscale": "up", "composite": "comp"}
"""Short stage names so the per-stage line fits a narrow panel (the help screen spells them out)."""


def stats_text(st: object) -> Text:
    """The panel's text for a ``SessionStats`` (duck-typed: any object with its fields)."""
    lat = getattr(st, "latency_ms", {}) or {}
    t = Text()
    t.append("stylized ", "dim").append(f"{st.stylized_fps:5.1f} fps", "bold")  # type: ignore[attr-defined]
    t.append("\noutput   ", "dim").append(f"{st.output_fps:5.1f} fps", "bold")  # type: ignore[attr-defined]
    t.append("\nlatency  ", "dim").append(f"{lat.get('p95', 0.0):5.0f} ms", "bold").append(" p95", "dim")
    t.append("\ndrops    ", "dim").append(str(st.drops))  # type: ignore[attr-defined]
    t.append("  repeats ", "dim").append(str(st.repeats))  # type: ignore[attr-defined]
    strength, styles = float(getattr(st, "strength", 1.0)), list(getattr(st, "styles", []) or [])
    if strength < 1.0 or len(styles) > 1:  # only when in use: a plain session's panel stays as it was
        t.append("\nstrength ", "dim").append(f"{strength:4.2f}", "bold").append("  [ ] change", "dim")
        active = int(getattr(st, "style_index", 0) or 0)
        for i, name in enumerate(styles[:9], 1):
            t.append(f"{' ' if i > 1 else chr(10) + 'styles   '}")
            t.append(f"{i} {name}", "bold reverse" if i == active else "")
    stages = getattr(st, "stage_ms", {}) or {}
    if stages:
        t.append("\nms/stage ", "dim")
        t.append(" ".join(f"{SHORT.get(k, k)} {v:.1f}" for k, v in stages.items()))
    return t


def update_if_changed(widget: Static, text: Text | str) -> None:
    """``widget.update(text)`` only when the text changed, and a layout pass only when its line
    count did: a relayout of the whole screen on every poll was most of the UI's cost."""
    last: Text | str | None = getattr(widget, "_shown_text", None)
    if last is not None and last == text:
        return

    def lines(t: Text | str) -> int:
        return (t if isinstance(t, str) else t.plain).count("\n")

    layout = last is None or lines(last) != lines(text)
    widget._shown_text = text  # type: ignore[attr-defined]
    widget.update(text, layout=layout)


class StatsPanel(Static):
    """Shows ``stats_text``; updated by the app's poll timer."""

    def show(self, st: object) -> None:
        update_if_changed(self, stats_text(st))
