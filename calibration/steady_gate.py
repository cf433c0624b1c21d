"""How wide the output stabiliser's gate can be: flicker removed against ghosts left at occlusions.

``temporal.denoise.OutputStabilizer`` blends the previous output, moved along the flow, into the new one
with weight ``strength * exp(-d^2 / 2 sigma^2)``, d the colour difference between the two. A wider
gate (larger sigma) removes more flicker, but where the flow is wrong (at the edges of something
moving over the background) it also keeps more of what was there before: a ghost. The quality
benchmark's clips move as one plane, so they only see the first half of that trade.

Here a disk cut from one photo slides over another (``occluder.Occluder``, on a homography clip),
the style is a local filter or an attached texture, and the "network output" is the exact
ground truth plus fresh, smooth noise every frame (flicker). For each sigma: PSNR against the
ground truth over the whole frame and on the band where the disk was within the last 5 frames,
and the warping error (x1000, as ``quality.py``).

Usage: ``python calibration/steady_gate.py [--sigmas 20,30,40,60] [--frames 120]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import warp_error  # noqa: E402, I001
from occluder import Occluder  # noqa: E402, I001
from quality import make_scene  # noqa: E402, I001

from livestyle.temporal import STEADY, STEADY_FLOW_RENDER, FlowEstimator, OutputStabilizer  # noqa: E402
from livestyle.capture.synthclip import homography_clip, load_photo  # noqa: E402

CASES = (("chelsea", "coffee", "stylize"), ("chelsea", "coffee", "brush"),
         ("astronaut", "chelsea", "stylize"), ("coffee", "astronaut", "brush"))


def psnr(a: np.ndarray, b: np.ndarray, where: np.ndarray | None = None) -> float:
    e = np.square(a.astype(np.float32) - b.astype(np.float32)).mean(axis=2)
    return float(10 * np.log10(255.0**2 / max(float(e[where].mean() if where is not None else e.mean()), 1e-6)))


def case(bg: str, fg: str, style: str, args: argparse.Namespace) -> None:
    size = (320, 240)
    photo = load_photo(bg)
    clip = homography_clip(photo, args.frames, size, args.seed, "shake")
    occ = Occluder.make(load_photo(fg), size, args.frames, args.seed)
    scene = make_scene(bg, style, clip, photo, 0, 2, {}, occ)  # the benchmark's frames, GT and flow pairs
    frames, gt, targets, pairs = scene.frames, scene.gt, scene.targets, scene.pairs
    alpha = occ.paste([np.zeros_like(f) for f in frames], np.full_like(occ.patch, 255))
    inside = [a[:, :, 0] > 127 for a in alpha]
    rng = np.random.default_rng(args.seed)
    noisy = []
    for g in gt:  # flicker: fresh noise every frame, smooth over ~1.5 px, ~5 levels rms
        n = cv2.GaussianBlur(rng.normal(0, 25, g.shape).astype(np.float32), (0, 0), 1.5)
        noisy.append(np.clip(g.astype(np.float32) + n, 0, 255).round().astype(np.uint8))
    fe = FlowEstimator(*STEADY_FLOW_RENDER)
    flows = [None] + [fe(frames[t], frames[t - 1]) for t in range(1, len(frames))]

    def band(t: int) -> np.ndarray:
        b = np.zeros(inside[t].shape, bool)
        for k in range(1, 6):
            if t - k >= 0:
                b |= inside[t] != inside[t - k]
        return b

    def row(label: str, out: list[np.ndarray]) -> None:
        print(f"| {bg} + {fg} disk | {style} | {label} | {np.mean([psnr(out[t], gt[t]) for t in targets]):.2f} | "
              f"{np.mean([psnr(out[t], gt[t], band(t)) for t in targets]):.2f} | "
              f"{1000 * np.mean([warp_error(out[t - 1], out[t], pairs[t]) for t in targets]):.3f} |", flush=True)

    row("no stabiliser", noisy)
    for sigma in args.sigmas:
        stab = OutputStabilizer(STEADY, sigma)
        row(f"sigma {sigma:g}", [stab(o, f) for o, f in zip(noisy, flows, strict=True)])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sigmas", type=lambda s: [float(v) for v in s.split(",")], default=[20.0, 30.0, 40.0, 60.0])
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    cv2.setNumThreads(2)
    print(f"stabiliser strength {STEADY:g}, render's flow {STEADY_FLOW_RENDER}; {args.frames} frames 320x240, "
          "camera motion 'shake'; scored on frames 1, 3, 5, ...\n")
    print("| clip | style | stabiliser | PSNR dB | PSNR at the disk's edges | warp err x1e3 |")
    print("|---|---|---|---|---|---|")
    for bg, fg, style in CASES:
        case(bg, fg, style, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
