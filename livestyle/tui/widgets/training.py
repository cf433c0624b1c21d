"""The training panel: state, iterations, elapsed, loss, loss sparkline, and a progress bar.

The trainer reports a stats dict (``engine.train.TrainStats.as_dict``) after its first step and then
twice a second (``live.trainer_proc``). The bar shows ``progress``: the share of the run done, a
steady estimate that never goes back (``engine.eta``).
"""

from __future__ import annotations

import math

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, ProgressBar, Sparkline

from livestyle.tui.widgets.stats import update_if_changed


def _fmt(x: object, digits: int = 4) -> str:
    return "-" if not isinstance(x, (int, float)) or math.isnan(x) or math.isinf(x) else f"{x:.{digits}f}"


def _left(tr: dict) -> str:
    """``  ~N s left`` while training, from the elapsed time and the progress estimate."""
    p, t = tr.get("progress"), tr.get("elapsed")
    if tr.get("state") != "training" or not isinstance(p, (int, float)) or not isinstance(t, (int, float)) \
            or not 0.03 <= p < 1:
        return ""
    return f"  ~{t * (1 / p - 1):.0f} s left"


def training_line(tr: dict) -> str:
    """Two lines (``state  it N  T s  R it/s`` / ``loss L  key E  ~S s left``) for a ``training`` dict."""
    state = tr.get("state", "idle")
    if state in ("idle", "") and not tr.get("iteration"):
        return "idle: snapshot (s), paint (p) or auto-style (a)"
    line = (f"{state}  it {tr.get('iteration', 0)}  {tr.get('elapsed', 0.0):.0f} s  {tr.get('its_per_s', 0.0):.1f} it/s"
            f"\nloss {_fmt(tr.get('loss'), 3)}  key {_fmt(tr.get('eval_loss'))}{_left(tr)}")
    if tr.get("error"):
        line = f"{state}: {tr['error']}"
    return line


class TrainingPanel(Vertical):
    """Label + Sparkline of the key's losses + ProgressBar of the run's progress estimate (0..1)."""

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
        done = tr.get("progress", 0.0)
        done = float(done) if isinstance(done, (int, float)) and math.isfinite(done) else 0.0
        self.query_one("#train-conv", ProgressBar).update(progress=round(100 * min(max(done, 0.0), 1.0)))
