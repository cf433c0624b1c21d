"""Quality benchmark: few-shot training against exact ground truth, beside two classical baselines.

Offline material: real photos moved by known homographies (``livestyle.capture.synthclip``),
so later frames reveal content the keyframe never showed. Ground-truth styles:
local filters applied per frame (``stylize``, ``oil``, ``posterize``, ``pencil``)
and ``texture``, a stroke texture attached to the photo and moved with it (what
the blob guide is for). Each configuration trains once; only ``Trainer.step()``
is timed, and the weights are snapshotted when that time crosses each budget.
Every snapshot is scored on non-key frames: PSNR and SSIM (``skimage.metrics``)
against the GT, and the temporal warping error of Lai et al. 2018 (DIS flow on
the input, occlusion-masked; ``common.warp_error``). Baselines: the input frame,
and the painted keyframe carried to each frame by DIS flow. Then the five
derived checks. Details, defaults and flags: ``calibration/README.md``.

Usage: ``python calibration/quality.py [--quick] [--json FILE]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (MIXES, get_photo, Pair, backward_warp, dis_flow, load_average, machine_line,  # noqa: E402, I001
                    make_pair, parse_list, parse_size, setup_torch, warp_error)

from livestyle.engine.infer import PHASES, Stylizer  # noqa: E402
import livestyle.temporal.carry as carry_mod  # noqa: E402
from livestyle.live.config import LiveConfig  # noqa: E402
from livestyle.live.replay import LiveReplay  # noqa: E402
from livestyle.temporal import (
    CARRY,
    STEADY,
    STEADY_FLOW_RENDER,
    CarryKey,
    FlowEstimator,
    KeyCarry,
    OutputStabilizer,
)  # noqa: E402
from livestyle.engine.model import PRESETS, Generator  # noqa: E402
from livestyle.style import Keyframe  # noqa: E402
from livestyle.capture.synthclip import MOTIONS, Clip, homography_clip, load_photo  # noqa: E402
from livestyle.engine.train import TrainConfig, Trainer  # noqa: E402

from gt_styles import ATTACHED_TEXTURES, LOCAL_STYLES, STYLES, style_clip  # noqa: E402, I001
from occluder import Occluder  # noqa: E402, I001
from webcam import Webcam  # noqa: E402, I001
from quality_report import LIVE_PREFIX, Run, checks, default_run, post_label, table  # noqa: E402, I001

PHOTOS = ("astronaut", "chelsea", "coffee", "astronaut-flat")


@dataclass
class Scene:
    """One photo's clip in one style, with the evaluation frames and everything cached for metrics."""

    photo: str
    style: str
    frames: list[np.ndarray]
    gt: list[np.ndarray]
    key: int
    targets: list[int]  # non-key frames scored
    pairs: dict[int, Pair]  # t -> pair (t-1, t)
    steady_flows: list[np.ndarray | None] | None = None  # flow t -> t-1 of the stabiliser (render's), made once
    carried: dict[int, tuple[np.ndarray, np.ndarray]] | None = None  # t -> KeyCarry.confidence (render's), made once

    def carry(self, out: dict[int, np.ndarray], strength: float) -> dict[int, np.ndarray]:
        """Outputs with the painted keyframe carried in (``KeyCarry``, as ``livestyle render``; 0 = off)."""
        if not strength:
            return out
        if self.carried is None:
            kc = KeyCarry([CarryKey(self.frames[self.key], self.gt[self.key])])
            to_prev = self.flows_to_prev()
            self.carried = {t: kc.confidence(self.frames[t], 0, to_prev[t]) for t in range(len(self.frames))}
        return {t: KeyCarry.blend(o, *self.carried[t], strength) for t, o in out.items()}

    def stabilized(self, out: list[np.ndarray], strength: float) -> list[np.ndarray]:
        """Outputs of frames 0..n-1 through the output stabiliser, in order, as ``livestyle render`` does."""
        stab = OutputStabilizer(strength)
        return [stab(o, f) for o, f in zip(out, self.flows_to_prev(), strict=False)]

    def flows_to_prev(self) -> list[np.ndarray | None]:
        """Flow t -> t-1 of every frame (render's, for the stabiliser and the carry's temporal check), made once."""
        if self.steady_flows is None:
            fe = FlowEstimator(*STEADY_FLOW_RENDER)
            self.steady_flows = [None] + [fe(self.frames[t], self.frames[t - 1]) for t in range(1, len(self.frames))]
        return self.steady_flows

    @property
    def needed(self) -> list[int]:
        return sorted({t for t in self.targets} | {t - 1 for t in self.targets})

    def score(self, out: dict[int, np.ndarray], psnr_ssim: bool = True) -> dict[str, float | None]:
        """Mean PSNR, SSIM and warping error (x1000) of outputs ``out[t]`` over the target frames."""
        if psnr_ssim is False:
            return {"psnr": None, "ssim": None, "warp": self.warp(out)}
        ps = [peak_signal_noise_ratio(self.gt[t], out[t], data_range=255) for t in self.targets]
        ss = [structural_similarity(self.gt[t], out[t], channel_axis=2, data_range=255) for t in self.targets]
        return {"psnr": float(np.mean(ps)), "ssim": float(np.mean(ss)), "warp": self.warp(out)}

    def warp(self, out: dict[int, np.ndarray]) -> float:
        """Mean warping error (x1000) of ``out`` over pairs (t-1, t) of the target frames."""
        return 1000 * float(np.mean([warp_error(out[t - 1], out[t], self.pairs[t]) for t in self.targets]))


def make_scene(photo_name: str, style: str, clip: Clip, photo: np.ndarray, key: int, stride: int,
               pairs: dict[int, Pair], occluder: Occluder | None = None, cam: Webcam | None = None) -> Scene:
    """The scene of ``photo_name`` in ``style``; with ``occluder``, its disk moves over the clip (and its GT);
    with ``cam``, its light drifts and its frames are noisy (the GT: the lit, clean frames')."""
    n = len(clip)
    frames = clip.frames if occluder is None else occluder.paste(clip.frames)
    cam = cam or Webcam()
    frames = [cam.lit(f, t) for t, f in enumerate(frames)]
    if style in LOCAL_STYLES:
        gt = [LOCAL_STYLES[style](f) for f in frames]
    elif occluder is None:
        gt = [cam.lit(g, t) for t, g in enumerate(style_clip(clip, photo, style))]
    else:  # the background's texture moves with the background, the disk's with the disk
        gt = occluder.paste(style_clip(clip, photo, style), ATTACHED_TEXTURES[style](occluder.patch))
        gt = [cam.lit(g, t) for t, g in enumerate(gt)]
    frames = [cam.noisy(f, t) for t, f in enumerate(frames)]
    targets = [t for t in range(1, n, stride) if t != key]
    for t in targets:
        if t not in pairs:
            pairs[t] = make_pair(frames[t - 1], frames[t])
    return Scene(photo_name, style, frames, gt, key, targets, pairs)


def baselines(scene: Scene) -> dict[str, dict[str, float]]:
    """Rows for the input frame, the keyframe painting carried by flow, and the GT's own warping error."""
    k = scene.key
    carried = {t: backward_warp(scene.gt[k], dis_flow(scene.frames[t], scene.frames[k])) if t != k else scene.gt[k]
               for t in scene.needed}
    return {"input": scene.score({t: scene.frames[t] for t in scene.needed}),
            "carried key": scene.score(carried), "GT": scene.score({t: scene.gt[t] for t in scene.needed}, psnr_ssim=False)}


def train_and_score(run: Run, scene: Scene, budgets: list[float], args: argparse.Namespace) -> list[dict]:
    """Train once to ``max(budgets)`` s of pure step time (steps with ``--steps``), score the snapshot taken at each budget."""
    l1, perc, adv = MIXES[run.mix]
    cfg = TrainConfig(preset=run.preset, l1=l1, perceptual=perc, adversarial=adv,
                      guides=("blobs",) if run.guides else (), seed=args.seed, device=args.device,
                      precision=args.precision, lr=args.lr, batch=args.batch, patch=args.patch, init=run.init)
    k = scene.key
    keys = [Keyframe(f"{k:03d}", scene.frames[k], scene.gt[k], None)]
    warm = Trainer(keys, cfg)  # a throwaway trainer absorbs one-off costs (oneDNN primitives, allocator)
    for _ in range(args.warmup):
        warm.step()
    trainer = Trainer(keys, cfg)
    guide_seqs = [g.sequence(scene.frames, {k: None}) for g in trainer.guides]  # each: list of (H, W, 3) uint8
    load0, spent, its, snaps = load_average(), 0.0, 0, []
    todo = sorted(budgets)
    while todo:
        t0 = time.perf_counter()
        trainer.step()
        spent += time.perf_counter() - t0
        its += 1
        while todo and (its if args.steps else spent) >= todo[0]:
            snaps.append((todo.pop(0), its, spent, trainer.state_dict()))
    rows = []
    for budget, n_its, secs, state in snaps:
        t0 = time.perf_counter()
        model = Generator(trainer.gen_cfg)
        model.load_state_dict(state)
        stylizer = Stylizer(model, trainer.compute)
        idx = list(range(max(scene.needed) + 1)) if any(args.steady) else scene.needed  # the stabiliser needs every frame
        for phases in args.phases:
            stylizer.phases = phases
            out: dict[int, np.ndarray] = {}
            for s in range(0, len(idx), 4):
                chunk = idx[s:s + 4]
                g = [[seq[t] for seq in guide_seqs] for t in chunk] if guide_seqs else None
                out.update(zip(chunk, stylizer([scene.frames[t] for t in chunk], g), strict=True))
            for carry, strength in ((c, s) for c in args.carry for s in args.steady):
                post = scene.carry(out, carry)
                scored = post if not strength else dict(enumerate(scene.stabilized([post[t] for t in idx], strength)))
                label = run.label + post_label((carry, strength, phases))
                rows.append({**asdict(run), "path": "render", "carry": carry, "steady": strength, "phases": phases,
                             "config": label, "budget": budget, "its": n_its, "train_s": round(secs, 2),
                             **scene.score(scored), "eval_s": round(time.perf_counter() - t0, 1), "load": round(load0, 2)})
        for live, every in ((c, e) for c in live_configs(args) for e in args.live_every):
            t0 = time.perf_counter()
            scored = live_outputs(model, trainer, keys, scene, live, every)
            rows.append({**asdict(run), "path": "live", "carry": live.carry, "steady": live.steady, "phases": live.phases,
                         "denoise": live.denoise, "carry_every": every, "config": LIVE_PREFIX + run.label
                         + post_label((live.carry, live.steady, live.phases))
                         + (f" (key flow every {every})" if live.carry and every > 1 else "")
                         + ("" if live.denoise else " -denoise")
                         + (f" @render scale {live.render_scale:g}" if live.render_scale != 1.0 else ""),
                         "render_scale": live.render_scale,
                         "budget": budget, "its": n_its, "train_s": round(secs, 2), **scene.score(scored),
                         "eval_s": round(time.perf_counter() - t0, 1), "load": round(load0, 2)})
    return rows


def live_configs(args: argparse.Namespace) -> list[LiveConfig]:
    """The live configurations each snapshot is also scored with (``--live-*``; none with ``--no-live``)."""
    if args.no_live:
        return []
    return [LiveConfig(carry=c, steady=s, phases=p, denoise=bool(dn), render_scale=r, device=args.device,
                       precision=args.precision)
            for c in args.live_carry for s in args.live_steady for p in args.live_phases for dn in args.live_denoise
            for r in args.live_render_scale]


def live_outputs(model: Generator, trainer: Trainer, keys: list[Keyframe], scene: Scene,
                 cfg: LiveConfig, carry_every: int) -> dict[int, np.ndarray]:
    """Every frame up to the last scored one through the live per-frame path (``livestyle render --live``:
    ``LiveReplay``, the live stage's own ``process``), in order, from frame 0; the keyframe carry's key flow
    on every ``carry_every``-th frame (live: ``temporal.carry.carry_every_live``: 1 with 4+ cores, else 2),
    each result used on its own frame as live does (``CARRY_LAG_LIVE``)."""
    h, w = scene.frames[0].shape[:2]
    guides = tuple(g.name for g in trainer.guides)
    old = carry_mod.CARRY_EVERY_LIVE, carry_mod.CARRY_LAG_LIVE
    carry_mod.CARRY_EVERY_LIVE = carry_every
    try:
        replay = LiveReplay(model, guides, keys, cfg, (w, h))
    finally:
        carry_mod.CARRY_EVERY_LIVE, carry_mod.CARRY_LAG_LIVE = old
    with replay:
        return {t: replay.process(scene.frames[t]) for t in range(max(scene.needed) + 1)}


def grid(args: argparse.Namespace) -> list[Run]:
    """The runs to do: the built-in grid, or the product of the selection flags."""
    if args.styles or args.presets or args.mixes or args.guides or args.init:
        d = default_run(args.photos[0], "stylize")
        guides = {"on": [True], "off": [False], "both": [True, False]}[args.guides or ("on" if d.guides else "off")]
        return [Run(p, s, pr, m, g, i) for p in args.photos for s in (args.styles or ["stylize", "texture"])
                for pr in (args.presets or [d.preset]) for m in (args.mixes or [d.mix]) for g in guides
                for i in (args.init or [d.init])]
    p0 = args.photos[0]
    d = default_run(p0, "stylize")
    if args.quick:
        return [Run(p0, s, d.preset, d.mix, g) for s in ("stylize", "texture") for g in (True, False)] + \
               [Run(p0, "stylize", "paper", d.mix, d.guides)]
    runs = [Run(p0, s, d.preset, d.mix, g) for s in ("stylize", "oil", "texture") for g in (True, False)]
    runs += [Run(p0, s, "paper", d.mix, d.guides) for s in ("stylize", "texture")]
    runs += [Run(p0, "stylize", d.preset, m, d.guides) for m in MIXES if m != d.mix]
    runs += [Run(p0, "stylize", "paper", "paper", d.guides)] if d.mix != "paper" else []
    runs += [Run(f"{p0}-flat", "texture", d.preset, d.mix, g) for g in (True, False)]  # flat regions: the guide's case
    others = [p for p in PHOTOS if p != p0 and not p.endswith("-flat")]
    runs += [Run(p, s, d.preset, d.mix, d.guides) for p, s in zip(others, ("stylize", "oil"), strict=False)]
    return runs


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke test in < 2 min: 160x120, 30 frames, budgets 1,3 s")
    ap.add_argument("--styles", type=lambda s: parse_list(s, STYLES, "style"), help=f"subset of {','.join(STYLES)}")
    ap.add_argument("--presets", type=lambda s: parse_list(s, list(PRESETS), "preset"), help="e.g. fast,paper")
    ap.add_argument("--mixes", type=lambda s: parse_list(s, list(MIXES), "loss mix"), help=f"of {','.join(MIXES)}")
    ap.add_argument("--guides", choices=("on", "off", "both"), help="blob guide (default: as TrainConfig)")
    ap.add_argument("--photos", type=lambda s: parse_list(s, PHOTOS, "photo"), default=None,
                    help="with a selection flag: photos to run on; else the first is the main photo")
    ap.add_argument("--budgets", type=lambda s: [float(v) for v in s.split(",")], help="seconds (default 5,15,60)")
    ap.add_argument("--steps", action="store_true", help="budgets count training steps, not seconds "
                    "(compares configurations at equal work when other processes share the CPU)")
    ap.add_argument("--frames", type=int, help="clip length (default 120)")
    ap.add_argument("--size", type=parse_size, help="WxH (default 320x240)")
    ap.add_argument("--stride", type=int, help="score every Nth non-key frame (default 5: odd, so the scored "
                    "frames alternate between even and odd; live work done on every 2nd frame is seen on both)")
    ap.add_argument("--key", choices=("first", "middle"), default="first", help="which frame is the keyframe")
    ap.add_argument("--motion", default="mixed", choices=(*MOTIONS, "static"),
                    help="synthclip motion (mixed, shake, zoom, rotate, pan), or static: a fixed camera (with "
                         "--occluder: a still scene with something moving through it, the video-call case)")
    ap.add_argument("--occluder", choices=[p for p in PHOTOS if not p.endswith("-flat")],
                    help="a disk cut from this photo moves over every clip on its own path (occlusion, "
                         "disocclusion: calibration/occluder.py)")
    ap.add_argument("--light", type=float, default=0.0, help="a webcam's light drift: per-channel gains up and "
                    "down by this share (0.06: +-6%%; auto exposure and white balance hunting; calibration/webcam.py)")
    ap.add_argument("--noise", type=float, default=0.0, help="a webcam's sensor noise, sigma on 0..255 (e.g. 3)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steady", type=lambda s: [float(v) for v in s.split(",")], default=[STEADY],
                    help=f"output stabiliser strengths to score each snapshot with, e.g. 0,{STEADY:g} (default {STEADY:g}, "
                         f"as livestyle render; 0 = off); the default-config checks use {STEADY:g}")
    ap.add_argument("--phases", type=lambda s: [int(v) for v in s.split(",")], default=[PHASES],
                    help=f"shifted input copies the network's output averages, e.g. 1,{PHASES} (default {PHASES}, as "
                         "livestyle render; 1 = one pass, as live)")
    ap.add_argument("--carry", type=lambda s: [float(v) for v in s.split(",")], default=[CARRY],
                    help=f"keyframe carry strengths to score each snapshot with, e.g. 0,{CARRY:g} (default {CARRY:g}, as "
                         "livestyle render; 0 = the network alone); the default-config checks use the default")
    live = LiveConfig()
    ap.add_argument("--no-live", action="store_true", help="do not score the live path")
    ap.add_argument("--live-carry", type=lambda s: [float(v) for v in s.split(",")], default=[live.carry],
                    help=f"keyframe carry strengths of the live path (livestyle render --live; default {live.carry:g}, "
                         "live's built-in default)")
    ap.add_argument("--live-steady", type=lambda s: [float(v) for v in s.split(",")], default=[live.steady],
                    help=f"output stabiliser strengths of the live path (default {live.steady:g})")
    ap.add_argument("--live-phases", type=lambda s: [int(v) for v in s.split(",")], default=[live.phases],
                    help=f"phases of the live path (default {live.phases})")
    ap.add_argument("--live-every", type=lambda s: [int(v) for v in s.split(",")], default=[1, 2],
                    help="the live keyframe carry's key flow on every Nth frame, e.g. 1,2 (default 1,2: live uses 1 on "
                         "4 or more cores, 2 on fewer)")
    ap.add_argument("--live-render-scale", type=lambda s: [float(v) for v in s.split(",")], default=[1.0],
                    help="render scales of the live path, e.g. 1,0.5 (default 1; live uses 640 px wide: score 0.5 "
                         "with --size 640x480 or larger)")
    ap.add_argument("--live-denoise", type=lambda s: [int(v) for v in s.split(",")], default=[int(live.denoise)],
                    help=f"causal denoiser of the live path on (1) or off (0) (default {int(live.denoise)})")
    ap.add_argument("--init", type=lambda s: parse_list(s, ["prior", "scratch"], "init"),
                    help="starting weights: prior, scratch or prior,scratch (default: TrainConfig's, prior)")
    ap.add_argument("--lr", type=float, help="Adam learning rate (default: the preset's)")
    ap.add_argument("--batch", type=int, help="patches per step (default: the preset's)")
    ap.add_argument("--patch", type=int, help="patch side in px (default: the preset's)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps of a throwaway trainer before each run")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--precision", default="auto")
    ap.add_argument("--keep-denormals", action="store_true", help="do not flush denormals to zero")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--json", type=Path, help="also write every number here")
    ap.add_argument("--report", type=Path, metavar="JSON",
                    help="print the table and the checks of an earlier run's --json file (no training)")
    a = ap.parse_args(argv)
    q = a.quick
    a.photos = a.photos or ["astronaut"] + ([] if q else ["chelsea", "coffee"])
    a.budgets = a.budgets or ([1.0, 3.0] if q else [5.0, 15.0, 60.0])
    a.frames = a.frames or (30 if q else 120)
    a.size = a.size or ((160, 120) if q else (320, 240))
    a.stride = a.stride or (3 if q else 5)
    return a


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.report:
        done = json.loads(args.report.read_text())
        print(f"# livestyle quality benchmark (report of {args.report.name})\n\n{done['machine']}\n")
        print(table(done["runs"], done["baselines"]))
        lines = checks(done["runs"], done["baselines"], done["settings"]["budgets"],
                       "steps" if done["settings"]["steps"] else "s")
        print("\n## Derived checks\n\n" + "\n".join(lines))
        return 0
    setup_torch(args.threads, args.keep_denormals)
    cv2.setNumThreads(args.threads)
    runs = grid(args)
    started = time.perf_counter()
    print(f"# livestyle quality benchmark\n\n{machine_line(args.device)}\n", flush=True)
    print(f"clips: {args.frames} frames {args.size[0]}x{args.size[1]}, motion {args.motion}"
          f"{'' if args.occluder is None else f', occluder {args.occluder}'}"
          f"{f', light +-{args.light:g}' if args.light else ''}{f', noise {args.noise:g}' if args.noise else ''}, keyframe "
          f"{args.key}; scored every {args.stride}th non-key frame; keyframe carry {args.carry}; output stabiliser {args.steady}; phases {args.phases}; budgets {args.budgets} "
          f"{'steps' if args.steps else 's of pure step time'}; "
          f"{len(runs)} runs\n", flush=True)
    clips: dict[str, tuple[Clip, np.ndarray, dict]] = {}
    occluder = None if args.occluder is None else \
        Occluder.make(load_photo(args.occluder), args.size, args.frames, args.seed)
    scenes: dict[str, Scene] = {}
    base: dict[str, dict] = {}
    rows: list[dict] = []
    for i, run in enumerate(runs):
        skey = f"{run.photo}/{run.style}"
        if run.photo not in clips:
            photo = get_photo(run.photo, load_photo)
            motion, amp = ("shake", 0.0) if args.motion == "static" else (args.motion, 1.0)  # static: a fixed camera
            clips[run.photo] = (homography_clip(photo, args.frames, args.size, args.seed, motion, amp), photo, {})
        if skey not in scenes:
            clip, photo, pairs = clips[run.photo]
            key = 0 if args.key == "first" else len(clip) // 2
            scenes[skey] = make_scene(run.photo, run.style, clip, photo, key, args.stride, pairs, occluder,
                                      Webcam(args.light, args.noise, seed=args.seed))
            base[skey] = baselines(scenes[skey])
        print(f"[{time.perf_counter() - started:6.0f}s] run {i + 1}/{len(runs)}: {skey} {run.label}",
              file=sys.stderr, flush=True)
        new = train_and_score(run, scenes[skey], args.budgets, args)
        for r in new:
            print(f"    @{r['budget']:g}{'' if args.steps else 's'} its {r['its']} PSNR {r['psnr']:.2f} SSIM {r['ssim']:.4f} warp "
                  f"{r['warp']:.3f} (eval {r['eval_s']}s, load {r['load']})", file=sys.stderr, flush=True)
        rows += new
    print(table(rows, base))
    lines = checks(rows, base, args.budgets, "steps" if args.steps else "s")
    print("\n## Derived checks\n\n" + "\n".join(lines))
    total = time.perf_counter() - started
    print(f"\ntotal {total / 60:.1f} min")
    if args.json:
        args.json.write_text(json.dumps({
            "machine": machine_line(args.device), "settings": {k: (list(v) if isinstance(v, tuple) else v)
                                                             for k, v in vars(args).items() if k != "json"},
            "baselines": base, "runs": rows, "checks": lines, "seconds": total}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
