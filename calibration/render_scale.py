"""Live at a render scale below 1 against render at full size, on the same snapshot.

For each scene (``quality.py``'s clips and ground-truth styles, at a large size such as 1280x720),
the keyframe and its painting are full size. One model is trained on them at full size (what
``livestyle render`` uses) and, for each render scale, one on them resized to the work size (what
the network sees live at that scale); each for the same number of steps. Scored against the ground
truth, every 5th frame: render (defaults), live at scale 1, and live at each scale with either
model (``LiveReplay``: the live stage's own per-frame path, with the keyframe carry at full size).

Usage: ``python calibration/render_scale.py --size 1280x720 --scales 0.5 --steps 900``
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import get_photo, machine_line, parse_list, parse_size, setup_torch  # noqa: E402, I001
from quality import Scene, baselines, make_scene  # noqa: E402, I001
from live_gap import render_score  # noqa: E402, I001
from occluder import Occluder  # noqa: E402, I001

import livestyle.temporal.carry as carry_mod  # noqa: E402
from livestyle.capture.synthclip import homography_clip, load_photo  # noqa: E402
from livestyle.engine.device import pick  # noqa: E402
from livestyle.engine.model import Generator  # noqa: E402
from livestyle.engine.train import TrainConfig, Trainer, make_guides  # noqa: E402
from livestyle.live.config import LiveConfig  # noqa: E402
from livestyle.live.keyed import work_size  # noqa: E402
from livestyle.live.replay import LiveReplay  # noqa: E402
from livestyle.style import Keyframe  # noqa: E402
from gt_styles import STYLES  # noqa: E402, I001


def train(keys: list[Keyframe], steps: int, seed: int) -> tuple[Generator, tuple[str, ...]]:
    trainer = Trainer(keys, TrainConfig(guides=("blobs",), seed=seed))
    for _ in range(steps):
        trainer.step()
    model = Generator(trainer.gen_cfg)
    model.load_state_dict(trainer.state_dict())
    return model, tuple(g.name for g in trainer.guides)


def live_out(scene: Scene, model: Generator, guides: tuple[str, ...], keys: list[Keyframe], scale: float,
             every: int | None, fine: bool = True, full_net: tuple[Generator, list, bool] | None = None
             ) -> dict[int, np.ndarray]:
    """``fine`` False: the coarse key flow (``LiveConfig.key_flow``: medium-r2 on the work frame). ``full_net``:
    (the full-size model, render's guide sequences): an upper bound for running the network at full size
    where the carry is not trusted: the output's base (what an untrusted pixel gets) is that model's output on
    the full-size frame, not the work-size result upsampled (render's offline guides; no stabiliser on it, or,
    with its third item, plus the work-size stabiliser's and carry blend's change of the work-size output)."""
    h, w = scene.frames[0].shape[:2]
    with _full_net(full_net) if full_net is not None else contextlib.nullcontext([0]) as frame_no:
        old = carry_mod.CARRY_EVERY_LIVE
        carry_mod.CARRY_EVERY_LIVE = every
        try:
            replay = LiveReplay(model, guides, keys, LiveConfig(render_scale=scale, key_flow="fine" if fine else "coarse"),
                                (w, h))
        finally:
            carry_mod.CARRY_EVERY_LIVE = old
        out = {}
        with replay:
            for t in range(max(scene.needed) + 1):
                frame_no[0] = t
                out[t] = replay.process(scene.frames[t])
        return out


@contextlib.contextmanager
def _full_net(full_net: tuple[Generator, list, bool]) -> Iterator[list[int]]:
    """While it lasts, the live stage's base at a render scale is ``full_net``'s (see ``live_out``); yields the
    frame number to set before each frame (for render's guide sequences)."""
    import livestyle.live.stage as stage_mod
    from livestyle.engine.infer import Stylizer, batch_to_frames, frames_to_batch

    net, gseqs, steadied = full_net
    sty = Stylizer(net, pick("cpu", "auto"), int8=True)
    sty.settle()
    orig = stage_mod.to_full_size
    frame_no = [0]
    raw: list[np.ndarray] = []  # the work-size network's own output of this frame
    orig_network = stage_mod.StyleStage._network

    def network(self, job):
        out = orig_network(self, job)
        raw[:] = [out]
        return out

    def to_full_size(full, img, styled, box, mask, residual, carrier=None, carried=None, carry=0.0):
        out, full_mask, fbox = orig(full, img, styled, box, mask, residual, carrier, carried, carry)
        fh, fw = full.shape[:2]
        x = frames_to_batch([full], [[seq[frame_no[0]] for seq in gseqs]], net.stride)
        base = batch_to_frames(sty.run(x, block=True)[..., :fh, :fw])[0]
        if steadied and raw and box is None:  # the work size's stabiliser (and carry) correction, upsampled
            change = cv2.subtract(styled, raw[0], dtype=cv2.CV_16S)
            base = cv2.add(base, cv2.resize(change, (fw, fh), interpolation=cv2.INTER_LINEAR), dtype=cv2.CV_8U)
        if carried is not None and carrier is not None and carry > 0:
            t = cv2.multiply(cv2.resize(carried.trust, (fw, fh), interpolation=cv2.INTER_LINEAR), carry)
            base = cv2.blendLinear(carrier.painting_at(carried, (fh, fw)), base, t, 1.0 - t)
        return base, full_mask, fbox

    stage_mod.to_full_size = to_full_size
    stage_mod.StyleStage._network = network  # type: ignore[method-assign]
    try:
        yield frame_no
    finally:
        stage_mod.to_full_size = orig
        stage_mod.StyleStage._network = orig_network  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=parse_size, default=(1280, 720))
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--scales", type=lambda s: [float(v) for v in s.split(",")], default=[0.5])
    ap.add_argument("--steps", type=int, default=900)
    ap.add_argument("--styles", type=lambda s: parse_list(s, STYLES, "style"), default=["stylize", "brush"])
    ap.add_argument("--photos", type=lambda s: s.split(","), default=["astronaut", "chelsea"])
    ap.add_argument("--motion", default="mixed")
    ap.add_argument("--occluder", default=None)
    ap.add_argument("--live-every", type=int, default=None,
                    help="the key flow on every Nth frame (default: as live, temporal.carry.carry_every_live)")
    ap.add_argument("--stride", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--coarse-flow", action="store_true",
                    help="also the work-size model with the coarse key flow (medium-r2 on the work frame)")
    ap.add_argument("--no-full-model", action="store_true", help="skip the full-size model's rows at each scale")
    ap.add_argument("--no-work-key", action="store_true", help="skip the work-size keyframe's rows")
    ap.add_argument("--full-network", action="store_true",
                    help="add a row with the full-size model at full size where the carry is not trusted (upper bound)")
    args = ap.parse_args(argv)
    setup_torch(2, False)
    cv2.setNumThreads(2)
    started = time.perf_counter()
    print(f"# live at a render scale against render at full size\n\n{machine_line('cpu')}\n\n"
          f"clips: {args.frames} frames {args.size[0]}x{args.size[1]}, motion {args.motion}"
          f"{'' if args.occluder is None else f', occluder {args.occluder}'}; {args.steps} training steps per model; "
          f"key flow every {args.live_every or 'frame or 2nd frame, as live on this machine'}; scored every {args.stride}th frame\n")
    print("| photo | style | path | PSNR | SSIM | warp x1e3 | dPSNR vs render |\n|---|---|---|---|---|---|---|")
    occ = None if args.occluder is None else Occluder.make(load_photo(args.occluder), args.size, args.frames, args.seed)
    summary: dict[str, list[float]] = {}
    for photo_name in args.photos:
        photo = get_photo(photo_name, load_photo)
        motion, amp = ("shake", 0.0) if args.motion == "static" else (args.motion, 1.0)
        clip = homography_clip(photo, args.frames, args.size, args.seed, motion, amp)
        for style in args.styles:
            scene = make_scene(photo_name, style, clip, photo, 0, args.stride, {}, occ)
            base = baselines(scene)
            keys = [Keyframe("000", scene.frames[0], scene.gt[0], None)]
            full, guides = train(keys, args.steps, args.seed)
            rows = [("carried key", base["carried key"])]
            gseqs = [g.sequence(scene.frames, {scene.key: None}) for g in make_guides(guides)]
            ref = render_score(scene, full, pick("cpu", "auto"), gseqs)
            rows.append(("render (full-size model)", ref))
            rows.append(("live, scale 1", scene.score(live_out(scene, full, guides, keys, 1.0, args.live_every))))
            for r in args.scales:
                ww, hh = work_size(args.size, r)
                small_keys = [Keyframe("000", cv2.resize(k.key, (ww, hh), interpolation=cv2.INTER_AREA),
                                       cv2.resize(k.styled, (ww, hh), interpolation=cv2.INTER_AREA), None) for k in keys]
                work, _ = train(small_keys, args.steps, args.seed)
                if not args.no_full_model:
                    rows.append((f"live, scale {r:g}, full-size model",
                                 scene.score(live_out(scene, full, guides, keys, r, args.live_every))))
                rows.append((f"live, scale {r:g}, work-size model",
                             scene.score(live_out(scene, work, guides, keys, r, args.live_every))))
                if args.full_network:
                    rows.append((f"live, scale {r:g}, work-size model, full-size network where not trusted (bound)",
                                 scene.score(live_out(scene, work, guides, keys, r, args.live_every,
                                                      full_net=(full, gseqs, False)))))
                    rows.append((f"live, scale {r:g}, work-size model, full-size network where not trusted, "
                                 "plus the work size's stabiliser correction (bound)",
                                 scene.score(live_out(scene, work, guides, keys, r, args.live_every,
                                                      full_net=(full, gseqs, True)))))
                if args.coarse_flow:
                    rows.append((f"live, scale {r:g}, work-size model, coarse key flow",
                                 scene.score(live_out(scene, work, guides, keys, r, args.live_every, fine=False))))
                if not args.no_work_key:
                    rows.append((f"live, scale {r:g}, work-size model, work-size keyframe (no full-size detail)",
                                 scene.score(live_out(scene, work, guides, small_keys, r, args.live_every))))
            gt_warp = base["GT"]["warp"]
            print(f"| {photo_name} | {style} | ground truth (its own warping error) | — | — | {gt_warp:.3f} | — |")
            for label, sc in rows:
                d = sc["psnr"] - ref["psnr"]
                summary.setdefault(label, []).append(d)
                print(f"| {photo_name} | {style} | {label} | {sc['psnr']:.2f} | {sc['ssim']:.4f} | {sc['warp']:.3f} | "
                      f"{d:+.2f} |", flush=True)
    print("\n| path | mean dPSNR vs render | worst |\n|---|---|---|")
    for label, ds in summary.items():
        print(f"| {label} | {np.mean(ds):+.2f} | {min(ds):+.2f} |")
    print(f"\ntotal {(time.perf_counter() - started) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
