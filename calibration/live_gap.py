"""Where the live path loses to ``livestyle render`` on the same snapshot: an ablation.

For each scene of ``quality.py`` (same clips, ground truth and metrics), one ``fast`` model is
trained for ``--budget`` seconds of step time; its snapshot is then scored through
``livestyle render``'s path (phases 4, keyframe carry, stabiliser) and through the live path
(``LiveReplay``, the live stage's own per-frame function) in variants that each swap one live
approximation for render's: the keyframe carry's flow at full size and on every frame, the
stabiliser's flow, the denoiser, the guide (render's chained-flow blobs instead of the tracker),
phases. Prints one table of PSNR / SSIM / warping error per scene and variant, and the mean
difference of each variant to render.

    python calibration/live_gap.py [--photos astronaut,chelsea] [--styles stylize,brush] [--motion mixed]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import get_photo, load_average, machine_line, markdown_table, parse_list, parse_size, setup_torch  # noqa: E402, I001
from quality import PHOTOS, Scene, make_scene  # noqa: E402, I001
from gt_styles import STYLES  # noqa: E402, I001
from occluder import Occluder  # noqa: E402, I001

import livestyle.temporal.carry as carry_mod  # noqa: E402
import livestyle.temporal.flow as flow_mod  # noqa: E402
from livestyle.temporal import FlowEstimator  # noqa: E402
from livestyle.engine.device import Compute  # noqa: E402
from livestyle.engine.infer import Stylizer  # noqa: E402
from livestyle.live.config import LiveConfig  # noqa: E402
from livestyle.live.replay import LiveReplay  # noqa: E402
from livestyle.engine.model import Generator  # noqa: E402
from livestyle.style import Keyframe  # noqa: E402
from livestyle.capture.synthclip import homography_clip, load_photo  # noqa: E402
from livestyle.engine.train import TrainConfig, Trainer  # noqa: E402


class _Replayed:
    """A guide 'tracker' that hands out precomputed guide frames in order (render's chained-flow guide)."""

    def __init__(self, seq: list[np.ndarray]):
        self.seq, self.t = seq, 0

    def update(self, img, mask, flow_to_prev=None, busy=False) -> np.ndarray:
        g = self.seq[min(self.t, len(self.seq) - 1)]
        self.t += 1
        return g


@contextlib.contextmanager
def patched(obj, name: str, value) -> Iterator[None]:
    old = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, old)


Setup = Callable[[LiveReplay, list], None]


class _Refined:
    """The key flow as DIS medium-r2 at half size, then OpenCV's variational refinement at full size
    (``fixed`` fixed-point iterations): full-size precision for less (calibration/bench_flow.py)."""

    def __init__(self, fixed: int = 1) -> None:
        self.half = FlowEstimator("medium-r2", 0.5)
        self.vr = cv2.VariationalRefinement_create()  # type: ignore[attr-defined]
        self.vr.setFixedPointIterations(fixed)

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ga, gb = (cv2.cvtColor(x, cv2.COLOR_BGR2GRAY) if x.ndim == 3 else x for x in (a, b))
        f = self.half(ga, gb)
        self.vr.calc(ga, gb, f)
        return f


def _refined(fixed: int) -> Setup:
    def setup(r: LiveReplay, g: list) -> None:
        r.stage._carrier.flow = _Refined(fixed)  # type: ignore[union-attr]
    return setup
# DIS settings tried for the carry beside the named ones (livestyle.temporal.flow.PRESETS)
flow_mod.PRESETS.setdefault("medium-s4i12", (cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
                                             {"PatchStride": 4, "GradientDescentIterations": 12}))
flow_mod.PRESETS.setdefault("medium-v2", (cv2.DISOPTICAL_FLOW_PRESET_MEDIUM, {"VariationalRefinementIterations": 2}))
flow_mod.PRESETS.setdefault("medium-lite", (cv2.DISOPTICAL_FLOW_PRESET_MEDIUM, {
    "PatchStride": 6, "GradientDescentIterations": 8, "VariationalRefinementIterations": 3}))
_FAST_FLOW: Setup = lambda r, g: setattr(r.stage.denoiser, "flow", FlowEstimator("fast", 1.0))  # noqa: E731
# name -> (LiveConfig overrides, carry flow (preset, scale) and every, setup of the replay after it is built)
VARIANTS: dict[str, tuple[dict, tuple | None, Setup | None]] = {
    "live": ({}, None, None),
    "carry": ({"carry": 1.0}, None, None),
    "carry every1": ({"carry": 1.0}, (("medium", 0.5), 1), None),
    "carry full": ({"carry": 1.0}, (("medium", 1.0), 1), None),
    "carry +flow": ({"carry": 1.0}, None, lambda r, g: setattr(r.stage.denoiser, "flow", FlowEstimator("fast", 1.0))),
    "carry -denoise": ({"carry": 1.0, "denoise": False}, None, None),
    "carry +guides": ({"carry": 1.0}, None, lambda r, g: setattr(r.stage, "_trackers", [_Replayed(s) for s in g])),
    "carry +phases4": ({"carry": 1.0, "phases": 4}, None, None),
    "carry fast1": ({"carry": 1.0}, (("fast", 1.0), 1), None),
    "carry fast1 e2": ({"carry": 1.0}, (("fast", 1.0), 2), None),
    "carry medium1 e2": ({"carry": 1.0}, (("medium", 1.0), 2), None),
    "carry ultrafast1": ({"carry": 1.0}, (("ultrafast", 1.0), 1), None),
    "carry fast1 +flow": ({"carry": 1.0}, (("fast", 1.0), 1),
                          lambda r, g: setattr(r.stage.denoiser, "flow", FlowEstimator("fast", 1.0))),
    "carry full +flow": ({"carry": 1.0}, (("medium", 1.0), 1),
                         lambda r, g: setattr(r.stage.denoiser, "flow", FlowEstimator("fast", 1.0))),
    "carry full e2 +flow": ({"carry": 1.0}, (("medium", 1.0), 2),
                            lambda r, g: setattr(r.stage.denoiser, "flow", FlowEstimator("fast", 1.0))),
    "carry lite +flow": ({"carry": 1.0}, (("medium-lite", 1.0), 1),
                         lambda r, g: setattr(r.stage.denoiser, "flow", FlowEstimator("fast", 1.0))),
    "carry lite e2 +flow": ({"carry": 1.0}, (("medium-lite", 1.0), 2),
                            lambda r, g: setattr(r.stage.denoiser, "flow", FlowEstimator("fast", 1.0))),
    "carry lite +flow -steady": ({"carry": 1.0, "steady": 0.0}, (("medium-lite", 1.0), 1),
                                 lambda r, g: setattr(r.stage.denoiser, "flow", FlowEstimator("fast", 1.0))),
    "carry full +ultrafast1": ({"carry": 1.0}, (("medium", 1.0), 1),
                               lambda r, g: setattr(r.stage.denoiser, "flow", FlowEstimator("ultrafast", 1.0))),
    "carry s4i12 +flow": ({"carry": 1.0}, (("medium-s4i12", 1.0), 1), _FAST_FLOW),
    "carry v2 +flow": ({"carry": 1.0}, (("medium-v2", 1.0), 1), _FAST_FLOW),
    "v12 e1": ({}, (("medium-r2", 1.0), 1, 0), None),
    "v12 e2": ({}, (("medium-r2", 1.0), 2, 0), None),
    "v12 e1 -denoise": ({"denoise": False}, (("medium-r2", 1.0), 1, 0), None),
    "v12 e2 -denoise": ({"denoise": False}, (("medium-r2", 1.0), 2, 0), None),
    "-denoise": ({"denoise": False}, None, None),
    "e1": ({}, (("medium-r2", 1.0), 1, 0), None),
    "e2": ({}, (("medium-r2", 1.0), 2, 0), None),
    "e2 rise0.5": ({}, (("medium-r2", 1.0), 2, 0), None),
    "e2 -recheck": ({}, (("medium-r2", 1.0), 2, 0), None),
    "e1 vr1": ({}, (("medium-r2", 1.0), 1, 0), _refined(1)),
    "e2 vr1": ({}, (("medium-r2", 1.0), 2, 0), _refined(1)),
    "e1 vr2": ({}, (("medium-r2", 1.0), 1, 0), _refined(2)),
    "e2 cubic": ({}, (("medium-r2", 1.0), 2, 0), None),
    "e2 -int8": ({"int8": False}, (("medium-r2", 1.0), 2, 0), None),
    "e1 -int8": ({"int8": False}, (("medium-r2", 1.0), 1, 0), None),
    "e2 g16": ({}, (("medium-r2-g16", 1.0), 2, 0), None),
    "e2 g12": ({}, (("medium-r2-g12", 1.0), 2, 0), None),
    "e2 r1": ({}, (("medium-r1", 1.0), 2, 0), None),
    "e1 g16": ({}, (("medium-r2-g16", 1.0), 1, 0), None),
    "e2 half": ({}, (("fine-r2", 0.5), 2, 0), None),
    "e1 half": ({}, (("fine-r2", 0.5), 1, 0), None),
    "e2 steady0.6": ({"steady": 0.6}, (("medium-r2", 1.0), 2, 0), None),
    "e2 steady0.8": ({"steady": 0.8}, (("medium-r2", 1.0), 2, 0), None),
    "e2 tol10": ({}, (("medium-r2", 1.0), 2, 0), None),
    "e2 tol12": ({}, (("medium-r2", 1.0), 2, 0), None),
    "e1 phases4": ({"phases": 4}, (("medium-r2", 1.0), 1, 0), None),
    "e1 medium": ({}, (("medium", 1.0), 1, 0), None),
    "e1 +guides": ({}, (("medium-r2", 1.0), 1, 0), lambda r, g: setattr(r.stage, "_trackers", [_Replayed(s) for s in g])),
    "e1 cycle": ({}, (("medium-r2", 1.0), 1, 0), lambda r, g: setattr(r.stage.settings, "cycle", True)),
    "e2 cycle": ({}, (("medium-r2", 1.0), 2, 0), lambda r, g: setattr(r.stage.settings, "cycle", True)),
    "e1 phases2": ({"phases": 2}, (("medium-r2", 1.0), 1, 0), None),
    "e2 phases2": ({"phases": 2}, (("medium-r2", 1.0), 2, 0), None),
    "e2 lag0": ({}, (("medium-r2", 1.0), 2, 0), None),
    "e2 lag0 -denoise": ({"denoise": False}, (("medium-r2", 1.0), 2, 0), None),
    "e1 lag1": ({}, (("medium-r2", 1.0), 1, 1), None),
    "e1 lag1 -denoise": ({"denoise": False}, (("medium-r2", 1.0), 1, 1), None),
    "cycle": ({}, None, lambda r, g: setattr(r.stage.settings, "cycle", True)),
    "cycle -denoise": ({"denoise": False}, None, lambda r, g: setattr(r.stage.settings, "cycle", True)),
    "e1 lag1 cycle": ({}, (("medium-r2", 1.0), 1, 1), lambda r, g: setattr(r.stage.settings, "cycle", True)),
    "e1 lag1 -denoise cycle": ({"denoise": False}, (("medium-r2", 1.0), 1, 1),
                               lambda r, g: setattr(r.stage.settings, "cycle", True)),
    "e2 net2": ({}, (("medium-r2", 1.0), 2, 0), lambda r, g: setattr(r.stage, "net_every", 2)),
    "e2 net2 aligned": ({}, (("medium-r2", 1.0), 2, 0),
                        lambda r, g: (setattr(r.stage, "net_every", 2), setattr(r.stage.schedule, "stagger", False))),
    "e2 net2 -check": ({}, (("medium-r2", 1.0), 2, 0),
                       lambda r, g: (setattr(r.stage, "net_every", 2), setattr(r.stage.schedule, "check", False))),
    "e1 net2": ({}, (("medium-r2", 1.0), 1, 0), lambda r, g: setattr(r.stage, "net_every", 2)),
    "e2 net3": ({}, (("medium-r2", 1.0), 2, 0), lambda r, g: setattr(r.stage, "net_every", 3)),
    "e3 net3": ({}, (("medium-r2", 1.0), 3, 0), lambda r, g: setattr(r.stage, "net_every", 3)),
    "v12 0.75 e1": ({}, (("medium-r2", 0.75), 1), None),
    "v12 0.75 e2": ({}, (("medium-r2", 0.75), 2), None),
    "all of render's": ({"carry": 1.0, "phases": 4, "denoise": False}, (("medium", 1.0), 1),
                        lambda r, g: setattr(r.stage, "_trackers", [_Replayed(s) for s in g])),
}

# Key flow presets tried here only (temporal.flow.PRESETS holds the kept ones).
_MEDIUM = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM
for _name, _set in {"medium-r2-g16": {"VariationalRefinementIterations": 2, "GradientDescentIterations": 16},
                    "medium-r2-g12": {"VariationalRefinementIterations": 2, "GradientDescentIterations": 12},
                    "medium-r1": {"VariationalRefinementIterations": 1}}.items():
    flow_mod.PRESETS.setdefault(_name, (_MEDIUM, _set))

# variant -> module constants of temporal.carry patched while it runs
CARRY_PATCHES: dict[str, dict[str, object]] = {"e2 rise0.5": {"CARRY_RISE_PER_FRAME": False, "CARRY_RECHECK": False},
                                               "e2 -recheck": {"CARRY_RECHECK": False},
                                               "e2 tol10": {"CARRY_TOLERANCE": 10.0},
                                               "e2 tol12": {"CARRY_TOLERANCE": 12.0},
                                               "e2 cubic": {"PAINTING_INTERP": cv2.INTER_CUBIC}}


def live_score(scene: Scene, model: Generator, keys: list[Keyframe], guides: tuple[str, ...], guide_seqs: list,
               name: str) -> dict:
    over, cflow, setup = VARIANTS[name]
    cfg = LiveConfig(**over)
    h, w = scene.frames[0].shape[:2]
    ctx = contextlib.ExitStack()
    for k, v in CARRY_PATCHES.get(name, {}).items():
        ctx.enter_context(patched(carry_mod, k, v))
    if cflow is not None:
        ctx.enter_context(patched(carry_mod, "CARRY_FLOW_LIVE", cflow[0]))
        ctx.enter_context(patched(carry_mod, "CARRY_EVERY_LIVE", cflow[1]))
        if len(cflow) > 2:
            ctx.enter_context(patched(carry_mod, "CARRY_LAG_LIVE", cflow[2]))
    with ctx, LiveReplay(model, guides, keys, cfg, (w, h)) as replay:
        if setup is not None:
            setup(replay, guide_seqs)
        t0 = time.perf_counter()
        out = {t: replay.process(scene.frames[t]) for t in range(max(scene.needed) + 1)}
        ms = 1000 * (time.perf_counter() - t0) / len(out)
        sty = replay.stage.stylizer
        print(f"  {name}: network {sty.backend if sty else '-'}", file=sys.stderr, flush=True)
    return {**scene.score(out), "ms": ms}


def render_score(scene: Scene, model: Generator, compute: Compute, guide_seqs: list) -> dict:
    """``livestyle render``'s defaults on the snapshot, as quality.py scores them."""
    stylizer = Stylizer(model, compute, 4)
    idx = list(range(max(scene.needed) + 1))
    out: dict[int, np.ndarray] = {}
    for s in range(0, len(idx), 4):
        chunk = idx[s:s + 4]
        g = [[seq[t] for seq in guide_seqs] for t in chunk] if guide_seqs else None
        out.update(zip(chunk, stylizer([scene.frames[t] for t in chunk], g), strict=True))
    post = scene.carry(out, 1.0)
    return scene.score(dict(enumerate(scene.stabilized([post[t] for t in idx], 0.7))))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photos", type=lambda s: parse_list(s, PHOTOS, "photo"), default=["astronaut", "chelsea"])
    ap.add_argument("--styles", type=lambda s: parse_list(s, STYLES, "style"), default=["stylize", "brush"])
    ap.add_argument("--motion", default="mixed", help="synthclip motion, or static")
    ap.add_argument("--occluder", choices=[p for p in PHOTOS if not p.endswith("-flat")])
    ap.add_argument("--budget", type=float, default=15.0, help="seconds of training step time")
    ap.add_argument("--steps", type=int, help="train this many steps instead of --budget seconds (results that "
                    "do not depend on the machine's load; 15 s is ~1,150 steps on the 2-core dev CPU)")
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--size", type=parse_size, default=(320, 240))
    ap.add_argument("--stride", type=int, default=5, help="score every Nth frame from frame 1 (odd: both parities "
                    "of every-2nd-frame work are seen; 6 scored only odd frames, the ones between two fresh carries)")
    ap.add_argument("--variants", type=lambda s: parse_list(s, list(VARIANTS), "variant"), default=list(VARIANTS))
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    setup_torch(2)
    print(f"# live path vs render, same snapshot\n\n{machine_line('cpu')}\n\nclips: {a.frames} frames "
          f"{a.size[0]}x{a.size[1]}, motion {a.motion}{'' if a.occluder is None else f', occluder {a.occluder}'}; "
          + (f"{a.steps} training steps per scene\n" if a.steps else f"{a.budget:g} s of training per scene\n"), flush=True)
    occ = None if a.occluder is None else Occluder.make(load_photo(a.occluder), a.size, a.frames, a.seed)
    rows, deltas = [], {v: [] for v in a.variants}
    for photo_name in a.photos:
        photo = get_photo(photo_name, load_photo)
        motion, amp = ("shake", 0.0) if a.motion == "static" else (a.motion, 1.0)
        clip = homography_clip(photo, a.frames, a.size, a.seed, motion, amp)
        pairs: dict = {}
        for style in a.styles:
            scene = make_scene(photo_name, style, clip, photo, 0, a.stride, pairs, occ)
            keys = [Keyframe("000", scene.frames[0], scene.gt[0], None)]
            trainer = Trainer(keys, TrainConfig(device="cpu"))
            spent, steps = 0.0, 0
            while (steps < a.steps) if a.steps else (spent < a.budget):
                t0 = time.perf_counter()
                trainer.step()
                spent += time.perf_counter() - t0
                steps += 1
            model = Generator(trainer.gen_cfg)
            model.load_state_dict(trainer.state_dict())
            guide_seqs = [g.sequence(scene.frames, {0: None}) for g in trainer.guides]
            guides = tuple(g.name for g in trainer.guides)
            ren = render_score(scene, model, trainer.compute, guide_seqs)
            gt_warp = scene.warp(dict(enumerate(scene.gt)))
            rows.append([photo_name, style, "ground truth (its own warping error)", "—", "—", f"{gt_warp:.3f}", "—", "—"])
            rows.append([photo_name, style, "render (defaults)", f"{ren['psnr']:.2f}", f"{ren['ssim']:.4f}",
                         f"{ren['warp']:.3f}", "—", "—"])
            for v in a.variants:
                r = live_score(scene, model, keys, guides, guide_seqs, v)
                deltas[v].append((r["psnr"] - ren["psnr"], r["ssim"] - ren["ssim"], r["warp"] / ren["warp"],
                                  r["warp"] / gt_warp))
                rows.append([photo_name, style, f"live: {v}", f"{r['psnr']:.2f}", f"{r['ssim']:.4f}", f"{r['warp']:.3f}",
                             f"{r['psnr'] - ren['psnr']:+.2f}", f"{r['ms']:.1f}"])
            print(f"{photo_name}/{style}: {trainer.iteration if hasattr(trainer, 'iteration') else '?'} its, load "
                  f"{load_average():.2f}", file=sys.stderr, flush=True)
    print(markdown_table(["photo", "style", "path", "PSNR", "SSIM", "warp x1e3", "dPSNR vs render",
                          "ms/frame (serial)"], rows))
    print("\n" + markdown_table(["live variant", "mean dPSNR", "worst dPSNR", "mean dSSIM", "warp / render's",
                                  "warp / GT's (worst)"], [
        [v, f"{np.mean([d[0] for d in ds]):+.2f}", f"{min(d[0] for d in ds):+.2f}", f"{np.mean([d[1] for d in ds]):+.4f}",
         f"{np.mean([d[2] for d in ds]):.2f}", f"{np.mean([d[3] for d in ds]):.2f} ({max(d[3] for d in ds):.2f})"]
        for v, ds in deltas.items() if ds]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
