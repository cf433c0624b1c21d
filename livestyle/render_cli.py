"""``livestyle render STYLE INPUT OUTPUT``."""

from __future__ import annotations

import argparse
import sys

from .guides.carry import CARRY
from .guides.denoise import STEADY
from .infer import PHASES
from .render import render


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("style", help="trained style folder")
    p.add_argument("input", help="video file or folder of frames")
    p.add_argument("output", help="folder for PNGs (named like the input frames) or a video file")
    p.add_argument("--device", default="auto")
    p.add_argument("--precision", default="auto")
    p.add_argument("--batch", type=int, default=4, help="frames per network call")
    p.add_argument("--denoise", action=argparse.BooleanOptionalAction, default=None,
                   help="temporal bilateral denoising along optical flow (default: as trained)")
    p.add_argument("--steady", type=float, default=STEADY, metavar="S",
                   help=f"smooth the output along optical flow against flicker, 0..0.95 (0 = off; default {STEADY})")
    p.add_argument("--carry", type=float, default=CARRY, metavar="C",
                   help="blend in the painting of the nearest keyframe, carried by optical flow, where the frame "
                        f"shows what it showed, 0..1 (0 = off; default {CARRY:g})")
    p.add_argument("--phases", type=int, default=PHASES, metavar="N",
                   help="average the network over N shifted copies of each frame, 1, 2 or 4: steadier invented "
                        f"texture, N times the network's time (default {PHASES})")
    p.add_argument("--max-frames", type=int)


def run(a: argparse.Namespace) -> int:
    n = render(a.style, a.input, a.output, a.device, a.precision, a.batch, a.denoise, a.max_frames, steady=a.steady,
               carry=a.carry, phases=a.phases)
    print(f"livestyle: wrote {n} frames to {a.output}", file=sys.stderr)
    return 0
