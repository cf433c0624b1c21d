"""How far along a training run is: a steady 0..1 estimate for progress bars (the TUI's training panel).

With a budget (seconds or iterations) it is the share of the budget spent. Without one, the trainer
stops by itself once the key's loss stopped improving by ``min_delta`` (relative) for ``patience``
seconds, so the end is estimated: the relative improvement per evaluation of the recent evaluations is
extrapolated (geometric decay, fitted on two windows) to when it falls under ``min_delta``, plus the
patience; never before the rule could stop, nor before ``PRIOR_SECONDS``. The share still to do then
shrinks in proportion to the time passed over the time left, so the bar moves on steadily whichever way
the estimate moves. It never goes back and stays under 1 until the run has ended.

Why: the convergence figure (``TrainStats.convergence``) is 0 for as long as the loss keeps improving
and jumps to 1 in the last ``patience`` seconds. On a real live run (the fast preset, one 640x360
keyframe auto-styled watercolor, blob guide, one thread, 2-core AMD EPYC; it stopped itself at 54 s)
convergence read 0 until 38 s, then 0.2, 0.4, 0.6, back to 0, then 1; this estimate read 5% at 2 s,
49% at 20 s, 74% at 40 s, 99% at 54 s, then 100%. On a noisier run (pencil, stopped at 36 s): 50% at
20 s, 90% at 36 s, then 100% (tests/test_train_progress.py replays both).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

PRIOR_SECONDS = 40.0  # the expected length of a self-stopping run before its losses say more
WINDOW = 3  # evaluations per window of the improvement fit


class ProgressEstimate:
    """Feed it ``update(elapsed, iteration, history, best_t)``; read ``value`` (0..1, never decreasing).

    ``seconds`` / ``iterations``: the run's budget (None: stops by itself, see the module doc);
    ``patience``, ``min_delta``, ``eval_every``, ``max_seconds``: the self-stopping rule's settings.
    """

    def __init__(self, seconds: float | None = None, iterations: int | None = None, patience: float = 10.0,
                 min_delta: float = 0.01, eval_every: float = 2.0, max_seconds: float = 300.0) -> None:
        self.seconds, self.iterations = seconds, iterations
        self.patience, self.min_delta, self.eval_every = patience, min_delta, eval_every
        self.max_seconds = max_seconds
        self.value = 0.0
        self._t = 0.0  # elapsed at the last update
        self.end = PRIOR_SECONDS if seconds is None and iterations is None else float("nan")
        """The estimated elapsed seconds at which the run stops (self-stopping runs only)."""

    def update(self, elapsed: float, iteration: int, history: Sequence[float], best_t: float) -> float:
        """``history``: the evaluation losses so far; ``best_t``: elapsed seconds at the last evaluation
        that improved by ``min_delta``. Returns the new ``value``."""
        if self.seconds is not None:
            share = elapsed / self.seconds
        elif self.iterations is not None:
            share = iteration / self.iterations
        else:
            # The share still to do shrinks in proportion to the time passed over the time left: linear
            # towards a fixed end, slower when the end moves out, faster (never a leap) when it comes in.
            self.end = self._end(elapsed, history, best_t)
            dt = max(elapsed - self._t, 0.0)
            share = self.value + (1.0 - self.value) * min(1.0, dt / max(self.end - self._t, 1e-3))
        self._t = max(self._t, elapsed)
        self.value = max(self.value, min(0.99, share))
        return self.value

    def finish(self) -> float:
        self.value = 1.0
        return self.value

    def _end(self, elapsed: float, h: Sequence[float], best_t: float) -> float:
        earliest = best_t + self.patience  # the rule cannot stop before this
        w = WINDOW
        if len(h) < 2 * w + 1:
            end = earliest
        else:
            g = _rel_gain(h[-w - 1], h[-1], w)  # recent relative improvement per evaluation
            before = _rel_gain(h[-2 * w - 1], h[-w - 1], w)
            if g <= self.min_delta:
                end = earliest
            else:
                q = min(0.98, max(0.5, (g / before) ** (1 / w))) if before > 0 else 0.9  # decay per evaluation
                evals = math.log(self.min_delta / g) / math.log(q)
                end = max(earliest, elapsed + evals * self.eval_every + self.patience)
        return max(min(max(end, PRIOR_SECONDS), self.max_seconds), elapsed + 1e-3)


def _rel_gain(old: float, new: float, n: int) -> float:
    return (old - new) / old / n if old > 0 and math.isfinite(old) and math.isfinite(new) else 0.0
