"""The training panel: state, iterations, elapsed, loss sparkline, convergence progress bar."""

from __future__ import annotations

import math

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, ProgressBar, Sparkline

from livestyle.tui.widgets.stats import update_if_changed


def _fmt(x: object) -> str:
    return "-" if not isinstance(x, (int, float)) or math.isnan(x) or math.isinf(x) else f"{x:.4f}"


def training_line(tr: dict) -> str:
    """Two lines (``state  it N  T s  R it/s`` / ``loss L  eval E``) for a session's ``training`` dict."""
    state = tr.get("state", "idle")
    if state in ("idle", "") and not tr.get("iteration"):
        return "idle: snapshot (s), paint (p) or auto-style (a)"
    line = (f"{state}  it {tr.get('iteration', 0)}  {tr.get('elapsed', 0.0):.0f} s  {tr.get('its_per_s', 0.0):.1f} it/s"
            f"\nloss {_fmt(tr.get('loss'))}  eval {_fmt(tr.get('eval_loss'))}")
    if tr.get("error"):
        line = f"{state}: {tr['error']}"
    return line


class TrainingPanel(Vertical):
    """Label + Sparkline of eval losses + ProgressBar of the convergence estimate (0..1)."""

    def compose(self) -> ComposeResult:
        yield Label("idle", id="train-state")
        yield Sparkline([], id="train-loss")
        yield ProgressBar(total=100, show_eta=False, id="train-conv")

    def show(self, tr: dict) -> None:
        update_if_changed(self.query_one("#train-state", Label), training_line(tr))
        history = [float(x) for x in tr.get("history", []) or [] if isinstance(x, (int, float)) and math.isfinite(x)]
        spark = self.query_one("#train-loss", Sparkline)
        if list(spark.data or []) != history:
            spark.data = history
        conv = tr.get("convergence", 0.0)
        conv = float(conv) if isinstance(conv, (int, float)) and math.isfinite(conv) else 0.0
        self.query_one("#train-conv", ProgressBar).update(progress=round(100 * min(max(conv, 0.0), 1.0)))
