"""The training progress estimate (``engine.eta``): steady on real runs, reported from the first step,
and shown by the TUI's training panel with the loss."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from textual.widgets import ProgressBar

from livestyle.engine.eta import ProgressEstimate
from livestyle.engine.train import TrainConfig, Trainer, TrainStats
from livestyle.style import Keyframe
from livestyle.tui.widgets.training import training_line

from .conftest import astronaut, paint
from .tui_helpers import make_app, run_async, until

# Evaluation losses (elapsed s, key L1) of two real self-stopping live-style runs: the fast preset, one
# 640x360 SyntheticScene keyframe auto-styled (watercolor; pencil), blob guide, one thread, on the 2-core
# AMD EPYC. Both stopped themselves ("converged"), at 54.3 s and 36.3 s.
WATERCOLOR = [(2.02, 0.07738), (4.02, 0.07091), (6.04, 0.06796), (8.06, 0.06617), (10.06, 0.06382),
              (12.08, 0.06235), (14.13, 0.06096), (16.15, 0.05982), (18.17, 0.0585), (20.17, 0.05691),
              (22.18, 0.05582), (24.19, 0.05484), (26.2, 0.05376), (28.2, 0.05284), (30.21, 0.05223),
              (32.23, 0.05151), (34.24, 0.05053), (36.24, 0.04994), (38.26, 0.04955), (40.28, 0.04914),
              (42.29, 0.04865), (44.29, 0.04816), (46.3, 0.04776), (48.3, 0.04751), (50.3, 0.04717),
              (52.3, 0.04711), (54.31, 0.04669)]
PENCIL = [(2.0, 0.14744), (4.01, 0.14486), (6.02, 0.14001), (8.06, 0.13606), (10.06, 0.13669), (12.09, 0.13739),
          (14.11, 0.13555), (16.12, 0.1356), (18.14, 0.13329), (20.16, 0.13231), (22.17, 0.13276),
          (24.17, 0.13152), (26.19, 0.13012), (28.21, 0.12981), (30.22, 0.1328), (32.29, 0.13467),
          (34.3, 0.13348), (36.31, 0.13174)]


def replay(evals: list[tuple[float, float]], step: float = 0.5) -> list[tuple[float, float]]:
    """(elapsed, progress) every ``step`` s of a run, fed as ``Trainer.run`` feeds it (same best_t rule)."""
    est, cfg = ProgressEstimate(), TrainConfig()
    history: list[float] = []
    best, best_t, out, i = float("inf"), 0.0, [], 0
    for t in np.arange(step, evals[-1][0] + 1e-9, step):
        while i < len(evals) and evals[i][0] <= t:
            ev = evals[i][1]
            history.append(ev)
            if ev < best * (1 - cfg.min_delta):
                best_t = evals[i][0]
            best = min(best, ev)
            i += 1
        out.append((float(t), est.update(float(t), 0, history, best_t)))
    out.append((evals[-1][0], est.finish()))
    return out


@pytest.mark.parametrize("run", [WATERCOLOR, PENCIL], ids=["watercolor", "pencil"])
def test_progress_on_real_runs_rises_steadily_and_never_goes_back(run) -> None:
    seen = replay(run)
    values = [v for _, v in seen]
    assert values == sorted(values)
    assert max(b - a for a, b in zip(values, values[1:], strict=False)) <= 0.25  # no leap, the last one included
    at = dict((round(t, 1), v) for t, v in seen)
    assert 0.02 < at[2.0] < 0.2 and 0.25 < at[20.0] < 0.8  # moving from the start; not 0 at 20 s
    assert values[-2] >= 0.75 and values[-1] == 1.0


def test_the_old_convergence_figure_was_the_jump_this_replaces() -> None:
    # what the panel used to show on the watercolor run: 0 until 36 s, then up, down, and 1 at the end
    stats = TrainStats()
    best, best_t, first = float("inf"), 0.0, WATERCOLOR[0][1]
    conv = []
    for t, ev in WATERCOLOR:
        if ev < best * 0.99:
            best_t = t
        best = min(best, ev)
        conv.append(min(1.0, max(0.0, (first - ev) / max(first - best, 1e-9))) * min(1.0, (t - best_t) / 10.0))
    assert conv[9] == 0.0 and max(conv[:18]) == 0.0 and stats.progress == 0.0
    at20 = dict((round(t, 1), v) for t, v in replay(WATERCOLOR))[20.0]
    assert at20 > 0.3


def test_budgets_count_seconds_or_iterations() -> None:
    by_time, by_its = ProgressEstimate(seconds=20), ProgressEstimate(iterations=400)
    assert by_time.update(5.0, 1000, [], 0.0) == pytest.approx(0.25)
    assert by_its.update(99.0, 100, [], 0.0) == pytest.approx(0.25)
    assert by_time.update(25.0, 0, [], 0.0) == 0.99  # under 1 until the run says it ended
    assert by_time.finish() == 1.0


def test_a_real_run_reports_loss_from_its_first_step_and_progress_that_rises() -> None:
    key = astronaut()
    seen: list[dict] = []
    tr = Trainer([Keyframe("k", key, paint(key), None)],
                 TrainConfig(iterations=30, guides=(), eval_every=0.0), on_progress=lambda st: seen.append(st.as_dict()))
    tr.run()
    assert np.isfinite(seen[0]["loss"]) and seen[0]["iteration"] == 1
    assert "loss 0." in training_line(seen[0]) or "loss 1." in training_line(seen[0])
    progress = [s["progress"] for s in seen]
    assert progress == sorted(progress) and progress[0] == pytest.approx(1 / 30) and progress[-1] == 1.0


@run_async
async def test_the_panel_shows_the_live_trainers_loss_and_a_rising_bar(tmp_path: Path, tiny_style: Path) -> None:
    app = make_app(tmp_path, style=tiny_style, train=True)  # a real trainer process, as live runs it
    async with app.run_test(size=(80, 24)) as pilot:
        bar = app.main.query_one("#train-conv", ProgressBar)
        label = app.main.query_one("#train-state")

        def training() -> dict:
            return app.last_stats.training if app.last_stats is not None else {}

        await until(pilot, lambda: math.isfinite(training().get("loss", math.nan)), timeout=90)
        assert re.search(r"loss \d\.\d{3}  key ", str(label.content)), label.content
        first = bar.progress
        await until(pilot, lambda: bar.progress >= first + 2, timeout=90)  # it moves while training goes on
        assert training()["state"] == "training" and training()["progress"] < 1


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
@run_async
async def test_the_two_training_lines_fit_the_panel_at_80_and_120_columns(tmp_path: Path, size) -> None:
    worst = {"state": "converged", "iteration": 99999, "elapsed": 299.0, "its_per_s": 999.9, "loss": 9.999,
             "eval_loss": 9.9999, "progress": 0.5}
    lines = training_line({**worst, "state": "training"}).splitlines() + training_line(worst).splitlines()
    app = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        label = app.main.query_one("#train-state")
        for _ in range(100):  # a loaded machine may take a few refreshes to lay the panel out
            await pilot.pause(0.05)
            if label.size.width > 10:
                break
        assert label.size.height == 2 and all(len(line) <= label.size.width for line in lines), (label.size, lines)
