"""Few-shot patch-based training (Texler et al. 2020), with a stopping rule.

The trainer knows nothing about the UI: it reports through a callback with a
:class:`TrainStats` snapshot, so the CLI, the TUI and calibration scripts all
reuse it. It stops on a budget (seconds or iterations), on ``stop()``, or by
itself when the keyframe loss (tiles of a big keyframe) stops improving.
"""

from __future__ import annotations

import copy
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch

from livestyle.engine import device as devmod
from livestyle.engine.eta import ProgressEstimate
from livestyle.engine.losses import PatchDiscriminator, PerceptualFeatures, lsgan, perceptual_loss
from livestyle.engine.model import (
    PRESETS,
    TRAIN_DEFAULTS,
    Generator,
    GeneratorConfig,
    TrainDefaults,
    pad_to_stride,
)
from livestyle.engine.prior import prior_state
from livestyle.engine.sampler import EVAL_TILES, PatchSampler, eval_tiles, unit
from livestyle.errors import LivestyleError
from livestyle.style import Keyframe

log = logging.getLogger(__name__)
BIG_KEYFRAME = 1920 * 1080  # a keyframe above this (a 4K snapshot, a phone photo) gets a note on the scale it trains at


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters. Defaults: the reference's Adam betas and weight decay; patch, batch and learning
    rate per preset (``model.TRAIN_DEFAULTS``: the paper's 40 x 32 px, 4e-4 for ``paper``); loss mix measured
    (calibration/quality.py, docs/how-it-works.md): L1 alone learns fastest per second on a CPU."""

    preset: str = "fast"
    patch: int | None = None  # patch side in pixels (None = the preset's, model.TRAIN_DEFAULTS)
    batch: int | None = None  # patches per step, split across all keyframes (None = the preset's)
    lr: float | None = None  # Adam (None = the preset's; the paper's 4e-4 for ``paper``)
    ema: float | None = None  # decay of the published weight average, 0 = off (None = the preset's)
    lr_hold: int | None = None  # steps at full lr, then lr * sqrt(lr_hold / step); 0 = constant (None = the preset's)
    betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: float = 1e-5
    l1: float = 4.0  # loss weights; the paper's mix is 4 / 6 / 0.5
    perceptual: float = 0.0
    adversarial: float = 0.0
    seconds: float | None = None  # budget; None with iterations None = stop by itself
    iterations: int | None = None
    max_seconds: float = 300.0  # cap for the automatic stopping rule
    eval_every: float = 2.0  # seconds between full-keyframe evaluations
    patience: float = 10.0  # stop when the eval loss improved < min_delta for this many seconds
    min_delta: float = 0.01  # relative improvement that counts
    guides: tuple[str, ...] = ("blobs",)  # guide names; see livestyle.guides
    guide_dropout: float = 0.25  # share of patches trained with part of their guide missing (PatchSampler)
    diverged: float = 1.5  # eval loss above this x the best so far: restore the best weights (Trainer.run)
    clip: float = 4.0  # clip the gradient norm at this many times its running mean (0 = off); see Trainer.step
    init: str = "prior"  # "prior": the preset's shipped meta-learned starting weights (livestyle.engine.prior), if it
    # has any; "scratch": random weights, as the paper
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise LivestyleError(f"unknown preset {self.preset!r}; choose one of {', '.join(PRESETS)}")
        if self.seconds is not None and not (self.seconds > 0 and math.isfinite(self.seconds)):
            raise LivestyleError(f"--seconds must be a positive number, got {self.seconds}")
        if self.init not in ("prior", "scratch"):
            raise LivestyleError(f"--init must be 'prior' or 'scratch', got {self.init!r}")
        d = TRAIN_DEFAULTS.get(self.preset, TrainDefaults())
        object.__setattr__(self, "patch", self.patch or d.patch)
        object.__setattr__(self, "batch", self.batch or d.batch)
        object.__setattr__(self, "lr", self.lr or d.lr)
        object.__setattr__(self, "ema", d.ema if self.ema is None else self.ema)
        object.__setattr__(self, "lr_hold", d.lr_hold if self.lr_hold is None else self.lr_hold)
        assert self.ema is not None and self.lr_hold is not None
        if self.lr_hold < 0:
            raise LivestyleError(f"lr_hold must be >= 0 steps, got {self.lr_hold}")
        if not 0.0 <= self.ema < 1.0:
            raise LivestyleError(f"ema must be in [0, 1), got {self.ema}")
        if not (self.clip >= 0 and math.isfinite(self.clip)):
            raise LivestyleError(f"clip must be a number >= 0, got {self.clip}")
        if self.iterations is not None and self.iterations <= 0:
            raise LivestyleError(f"--iterations must be a positive integer, got {self.iterations}")


@dataclass
class TrainStats:
    """A snapshot for progress bars and the TUI."""

    state: str = "idle"  # idle | preparing | training | converged | done | stopped | failed
    iteration: int = 0
    elapsed: float = 0.0
    loss: float = float("nan")  # moving average of the training loss
    eval_loss: float = float("nan")  # full-keyframe L1 (mask-weighted), lower is better
    best_eval: float = float("inf")
    history: list[float] = field(default_factory=list)  # eval losses, for sparklines
    its_per_s: float = 0.0
    convergence: float = 0.0  # 0..1 estimate: how close to the plateau
    progress: float = 0.0  # 0..1 share of the run done (of its budget, or of its estimated end): steady (engine.eta)
    recoveries: int = 0  # times the trainer went back to its best weights after a blow-up
    error: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def make_guides(names: tuple[str, ...] | list[str]) -> list:
    """Guide objects by name. Guides turn a frame (+ mask) into extra input channels."""
    if not names:
        return []
    from livestyle.guides import BlobGuide

    known = {"blobs": BlobGuide}
    out = []
    for n in names:
        if n not in known:
            raise LivestyleError(f"unknown guide {n!r}; known guides: {', '.join(known)}")
        out.append(known[n]())
    return out


def key_input(key: np.ndarray, mask: np.ndarray | None, guides: list) -> torch.Tensor:
    """Network input for one keyframe: ``(1, 3 + 3*len(guides), H, W)`` float in [-1, 1]."""
    return unit(key_bytes(key, mask, guides)).unsqueeze(0)


def key_bytes(key: np.ndarray, mask: np.ndarray | None, guides: list) -> torch.Tensor:
    """``key_input`` as ``(3 + 3*len(guides), H, W) uint8`` (RGB, then each guide's channels reversed
    likewise): what the trainer keeps per keyframe, a quarter of the float's memory."""
    parts = [key] + [g.key_guide(key, mask) for g in guides]
    return torch.from_numpy(np.concatenate([p[:, :, ::-1] for p in parts], axis=2)).permute(2, 0, 1)


def _adam(params, cfg: TrainConfig) -> torch.optim.Adam:
    """Adam with the fused kernel where this torch has one for the device: one pass over all
    parameters instead of a dozen small ops per tensor (on CPU, 1.5 ms vs 8+ ms per step for
    the fast preset's then 0.35 M parameters, and far less sensitive to a busy machine)."""
    params = list(params)
    assert cfg.lr is not None  # TrainConfig.__post_init__ fills in the preset's
    try:
        return torch.optim.Adam(params, lr=cfg.lr, betas=cfg.betas, weight_decay=cfg.weight_decay, fused=True)
    except (RuntimeError, TypeError):  # no fused kernel for this device or dtype
        return torch.optim.Adam(params, lr=cfg.lr, betas=cfg.betas, weight_decay=cfg.weight_decay)


class Trainer:
    """Trains one generator on a list of keyframes."""

    def __init__(self, keyframes: list[Keyframe], cfg: TrainConfig = TrainConfig(),
                 on_progress: Callable[[TrainStats], None] | None = None,
                 init_state: dict | None = None):
        self.cfg = cfg
        self.compute = devmod.pick(cfg.device, cfg.precision)
        torch.set_flush_denormal(True)  # denormal weights/grads are ~10x slower on CPU
        self.on_progress = on_progress
        self.stats = TrainStats(state="preparing")
        self._stop = threading.Event()
        torch.manual_seed(cfg.seed)
        self.guides = make_guides(cfg.guides)
        inputs = [key_bytes(k.key, k.mask, self.guides) for k in keyframes]  # uint8: sampler.unit per patch
        for k in keyframes:
            if k.key.shape[0] * k.key.shape[1] > BIG_KEYFRAME:
                log.warning("livestyle: note: keyframe %s is %dx%d: trained at that size (its pixels kept 8-bit, checked "
                            "on %d tiles): it paints frames of about that size best", k.name, k.key.shape[1],
                            k.key.shape[0], EVAL_TILES)
        smallest = min(min(k.key.shape[:2]) for k in keyframes)
        if smallest < cfg.patch and smallest >= 32:  # small keyframes: shrink the patch, not an error
            cfg = self.cfg = replace(cfg, patch=smallest // 16 * 16 if smallest >= 48 else 32)
        targets = [torch.from_numpy(k.styled[:, :, ::-1].copy()).permute(2, 0, 1) for k in keyframes]
        masks = [k.mask for k in keyframes]
        assert cfg.patch is not None  # TrainConfig.__post_init__ fills in the preset's
        self.sampler = PatchSampler(inputs, targets, masks, cfg.patch, seed=cfg.seed,
                                    guide_dropout=cfg.guide_dropout)
        self.gen_cfg: GeneratorConfig = PRESETS[cfg.preset].with_inputs(inputs[0].shape[0])
        dev = self.compute.device
        self.model = Generator(self.gen_cfg).to(dev, memory_format=torch.channels_last)  # type: ignore[call-overload]  # stubs lack memory_format
        # Where the weights start: a given state (resuming, a live retrain), the preset's prior, or random.
        self.init = "given" if init_state is not None else "scratch"
        if init_state is None and cfg.init == "prior":
            init_state = prior_state(cfg.preset, self.gen_cfg)
            self.init = "scratch" if init_state is None else "prior"
        if init_state is not None:
            self.model.load_state_dict(init_state)
        # What the trainer hands out (state_dict, evaluate, the saved model): with cfg.ema > 0 a
        # running average of the optimised weights, which wanders less than Adam's latest step.
        self.result: Generator = copy.deepcopy(self.model).eval() if cfg.ema else self.model
        self._averaged = 0
        self._gnorm = 0.0  # running mean of the generator's gradient norm (for clipping)
        self._steps = 0  # optimiser steps taken (the learning-rate schedule's clock)
        self.clipped = 0  # steps whose gradient was clipped
        self.opt = _adam(self.model.parameters(), cfg)
        self.disc: PatchDiscriminator | None = None
        self.opt_d: torch.optim.Adam | None = None
        if cfg.adversarial > 0:
            self.disc = PatchDiscriminator().to(dev, memory_format=torch.channels_last)  # type: ignore[call-overload]  # stubs lack memory_format
            self.opt_d = _adam(self.disc.parameters(), cfg)
        self.feat = PerceptualFeatures().to(dev) if cfg.perceptual > 0 else None
        # What evaluation stylizes, kept on the device: per keyframe, all of it or tiles (above 640x360)
        self._eval: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]] = []  # (N, C, h, w), (N, 3, h, w), (N, h, w)
        for i, t, m in zip(inputs, targets, masks, strict=True):
            tiles = eval_tiles((t.shape[-2], t.shape[-1]), m)
            self._eval.append((torch.stack([unit(i[:, y:y + h, x:x + w]) for y, x, h, w in tiles]).to(dev),
                               torch.stack([unit(t[:, y:y + h, x:x + w]) for y, x, h, w in tiles]).to(dev),
                               None if m is None else
                               torch.stack([torch.from_numpy(m[y:y + h, x:x + w] > 0) for y, x, h, w in tiles]).to(dev)))

    def stop(self) -> None:
        self._stop.set()

    def state_dict(self) -> dict[str, torch.Tensor]:
        """A CPU copy of the published weights (``result``), safe to hand to another thread."""
        return {k: v.detach().to("cpu", copy=True) for k, v in self.result.state_dict().items()}

    @torch.no_grad()
    def _average(self) -> None:
        """Move ``result`` toward the optimised weights. The decay ramps up (0.1, 0.18, ... up to
        ``cfg.ema``) so that the first steps are not held back by the random initial weights."""
        assert self.cfg.ema is not None
        self._averaged += 1
        n = self._averaged
        keep = min(self.cfg.ema, (1 + n) / (10 + n))
        for avg, new in zip(self.result.parameters(), self.model.parameters(), strict=True):
            avg.lerp_(new, 1.0 - keep)
        for a, b in zip(self.result.buffers(), self.model.buffers(), strict=True):
            a.copy_(b)  # batch-norm statistics (presets that have them) follow the live network

    def step(self) -> float:
        """One optimisation step; returns the generator loss."""
        cfg, dev = self.cfg, self.compute.device
        assert cfg.batch is not None  # TrainConfig.__post_init__ fills in the preset's
        x, y = self.sampler.sample(cfg.batch)
        x = x.to(dev, memory_format=torch.channels_last)
        y = y.to(dev, memory_format=torch.channels_last)
        self.model.train()
        with self.compute.autocast():
            out = self.model(x)
            loss = cfg.l1 * torch.nn.functional.l1_loss(out, y)
            if self.feat is not None:
                loss = loss + cfg.perceptual * perceptual_loss(self.feat, out.float(), y)
            if self.disc is not None:
                loss = loss + cfg.adversarial * lsgan(self.disc(out), True)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self._clip_gradient()
        self._steps += 1
        if cfg.lr_hold and self._steps > cfg.lr_hold:
            assert cfg.lr is not None  # TrainConfig.__post_init__ fills in the preset's
            lr = cfg.lr * math.sqrt(cfg.lr_hold / self._steps)
            for group in self.opt.param_groups:
                group["lr"] = lr
        self.opt.step()
        if self.result is not self.model:
            self._average()
        if self.disc is not None:
            assert self.opt_d is not None  # made together with the discriminator
            real = self.sampler.sample_real(cfg.batch).to(dev, memory_format=torch.channels_last)
            with self.compute.autocast():
                d_loss = 0.5 * (lsgan(self.disc(real), True) + lsgan(self.disc(out.detach()), False))
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
        return float(loss.detach())

    @torch.no_grad()
    def _clip_gradient(self) -> None:
        """Clip the generator's gradient norm at ``cfg.clip`` x its running mean.

        A rare batch gives a gradient hundreds of times the usual (seen with bf16 autocast on the
        fast preset: norm 531 against a median of 0.3 after 4,200 steps). Adam's second moment is
        still small then, so that one step moves every weight far and can kill all the ReLUs: the
        network then outputs a constant change for the rest of the run. Relative to the running
        mean, the threshold needs no tuning per preset, loss mix or precision.
        """
        if self.cfg.clip <= 0:
            return
        params = [p for p in self.model.parameters() if p.grad is not None]
        norm = float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p.grad) for p in params])))
        if not math.isfinite(norm):
            return  # the loss check in run() handles non-finite steps
        if self._gnorm == 0.0:
            self._gnorm = norm
        limit = self.cfg.clip * self._gnorm
        if norm > limit:
            self.clipped += 1
            for p in params:
                p.grad.mul_(limit / norm)
            norm = limit
        self._gnorm += 0.02 * (norm - self._gnorm)

    @torch.no_grad()
    def evaluate(self) -> float:
        """Mean L1 between the stylized keyframes (by ``result``) and their paintings (inside masks), the
        keyframes' means averaged; a keyframe above 640x360 by its tiles (``sampler.eval_tiles``)."""
        net = self.result.eval()
        total = 0.0
        for x, y, m in self._eval:
            xp, (h, w) = pad_to_stride(x, net.stride)
            with self.compute.autocast():
                out = net(xp.contiguous(memory_format=torch.channels_last))[..., :h, :w].float()
            err = (out.clamp(-1, 1) - y).abs().mean(1)  # (N, H, W)
            total += float(err[m].mean() if m is not None and m.any() else err.mean())
        return total / len(self._eval)

    def _restore(self, state: dict[str, torch.Tensor]) -> None:
        """Load ``state`` into the optimised and the published network and restart Adam's moments."""
        self.model.load_state_dict(state)
        self.result.load_state_dict(state)
        self.opt = _adam(self.model.parameters(), self.cfg)
        self._gnorm = 0.0

    def _budget_done(self, elapsed: float) -> bool:
        cfg = self.cfg
        if cfg.seconds is not None and elapsed >= cfg.seconds:
            return True
        if cfg.iterations is not None and self.stats.iteration >= cfg.iterations:
            return True
        if cfg.seconds is None and cfg.iterations is None and elapsed >= cfg.max_seconds:
            return True
        return False

    def run(self) -> TrainStats:
        """Train until the budget, ``stop()``, or the plateau. Never leaves the model NaN."""
        cfg, st = self.cfg, self.stats
        auto = cfg.seconds is None and cfg.iterations is None
        st.state = "training"
        t0 = time.perf_counter()
        last_eval = t0
        best_t = t0
        good = self.state_dict()
        eta = ProgressEstimate(cfg.seconds, cfg.iterations, cfg.patience, cfg.min_delta, cfg.eval_every,
                               cfg.max_seconds)
        while not self._stop.is_set():
            loss = self.step()
            if not math.isfinite(loss):
                self._restore(good)
                st.state, st.error = "failed", f"loss became {loss} at iteration {st.iteration}; kept the last good weights"
                break
            st.iteration += 1
            now = time.perf_counter()
            st.elapsed = now - t0
            st.loss = loss if math.isnan(st.loss) else 0.9 * st.loss + 0.1 * loss
            st.its_per_s = st.iteration / max(st.elapsed, 1e-9)
            done = self._budget_done(st.elapsed)
            if now - last_eval >= cfg.eval_every or done:
                last_eval = now
                ev = self.evaluate()
                if ev > cfg.diverged * st.best_eval:
                    # The network got much worse than its best (a blow-up the clipping did not
                    # stop): back to the best weights with a fresh optimiser state.
                    self._restore(good)
                    st.recoveries += 1
                    ev = self.evaluate()
                st.eval_loss = ev
                st.history.append(ev)
                if ev < st.best_eval * (1 - cfg.min_delta):
                    best_t = now
                if ev < st.best_eval:
                    st.best_eval = ev
                    good = self.state_dict()
                if len(st.history) >= 2:
                    first = st.history[0]
                    st.convergence = float(min(1.0, max(0.0, (first - ev) / max(first - st.best_eval, 1e-9))))
                    st.convergence *= float(min(1.0, (now - best_t) / cfg.patience)) if auto else 1.0
                if auto and now - best_t >= cfg.patience:
                    st.state = "converged"
                    break
            st.progress = eta.update(st.elapsed, st.iteration, st.history, best_t - t0)
            if self.on_progress is not None:
                self.on_progress(st)
            if done:
                break
        if st.state == "training":
            st.state = "stopped" if self._stop.is_set() else "done"
        if st.state in ("done", "converged"):
            st.progress = eta.finish()
        if self.on_progress is not None:
            self.on_progress(st)
        return st
