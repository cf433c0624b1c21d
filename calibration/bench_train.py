"""Training speed: iterations/s of ``Trainer.step()`` per preset, precision, guide and loss mix.

One step = one batch of 40 patches of 32x32 (the reference's setting; change
with ``--batch`` / ``--patch``) through the generator, its losses and Adam
(and, with an adversarial weight, one discriminator step). The keyframe is the
astronaut photo at 320x240; "blobs" adds the blob guide's 3 input channels.
Each case warms up (untimed steps), then times steps until both
``--seconds`` and ``--min-steps`` are reached.

bf16 is measured when the CPU runs it natively (``cpu_has_fast_bf16()``) or
with ``--bf16``; on CPUs without AMX / AVX-512 BF16 oneDNN emulates it, and
the table says so.

Usage: ``python calibration/bench_train.py [--presets fast,paper] [--mixes l1,paper]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import MIXES, machine_line, markdown_table, median, parse_list, setup_torch  # noqa: E402, I001


from livestyle.engine.device import cpu_has_fast_bf16  # noqa: E402
from livestyle.engine.model import PRESETS, count_parameters  # noqa: E402
from livestyle.style import Keyframe  # noqa: E402
from livestyle.capture.synthclip import load_photo  # noqa: E402
from livestyle.engine.train import TrainConfig, Trainer  # noqa: E402



def measure(cfg: TrainConfig, key: Keyframe, warmup: int, seconds: float, min_steps: int) -> dict:
    """Build a trainer for ``cfg``, warm it up, time steps; returns it/s, median ms per step, steps timed."""
    trainer = Trainer([key], cfg)
    for _ in range(warmup):
        trainer.step()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < min_steps or time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        trainer.step()  # returns float(loss): already waits for the device
        times.append(time.perf_counter() - t0)
    return {"its_per_s": len(times) / sum(times), "median_ms": 1000 * median(times), "steps": len(times),
            "params": count_parameters(trainer.model), "in_channels": trainer.gen_cfg.in_channels,
            "precision": trainer.compute.precision}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--presets", type=lambda s: parse_list(s, list(PRESETS), "preset"), default=list(PRESETS))
    ap.add_argument("--mixes", type=lambda s: parse_list(s, list(MIXES), "loss mix"), default=list(MIXES))
    ap.add_argument("--guides", choices=("on", "off", "both"), default="both", help="blob guide channels")
    ap.add_argument("--bf16", action="store_true", help="measure bf16 even where the CPU only emulates it")
    ap.add_argument("--no-bf16", action="store_true", help="fp32 only")
    ap.add_argument("--batch", type=int, default=40)
    ap.add_argument("--patch", type=int, default=32)
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps per case")
    ap.add_argument("--seconds", type=float, default=2.0, help="time each case at least this long")
    ap.add_argument("--min-steps", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--keep-denormals", action="store_true", help="do not flush denormals to zero")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = ap.parse_args(argv)
    setup_torch(args.threads, args.keep_denormals)
    cuda = args.device.startswith("cuda")
    native = cuda or cpu_has_fast_bf16()
    precisions = ["fp32"] + (["bf16"] if (native or args.bf16) and not args.no_bf16 else [])
    guides = {"on": [True], "off": [False], "both": [False, True]}[args.guides]
    photo = cv2.resize(load_photo("astronaut"), (320, 240), interpolation=cv2.INTER_AREA)
    key = Keyframe("key", photo, cv2.stylization(photo), None)
    print(f"# livestyle training speed\n\n{machine_line(args.device)}\n")
    print(f"batch {args.batch} x {args.patch}x{args.patch} patches; warm-up {args.warmup} steps, then >= "
          f"{args.seconds:g} s and >= {args.min_steps} steps per case\n", flush=True)
    rows = []
    for preset in args.presets:
        for prec in precisions:
            for g in guides:
                for mix in args.mixes:
                    l1, perc, adv = MIXES[mix]
                    cfg = TrainConfig(preset=preset, patch=args.patch, batch=args.batch, l1=l1, perceptual=perc,
                                      adversarial=adv, guides=("blobs",) if g else (), device=args.device,
                                      precision=prec)
                    r = measure(cfg, key, args.warmup, args.seconds, args.min_steps)
                    label = prec + ("" if prec == "fp32" or native else " (emulated)")
                    rows.append([preset, f"{r['params'] / 1e6:.2f} M", label, "blobs" if g else "none",
                                 r["in_channels"], mix, f"{r['its_per_s']:.2f}", f"{r['median_ms']:.0f}", r["steps"]])
                    print(f"  {preset} {label} {'blobs' if g else 'none'} {mix}: {r['its_per_s']:.2f} it/s",
                          file=sys.stderr, flush=True)
    print(markdown_table(["preset", "params", "precision", "guide", "in ch", "loss mix", "it/s", "median ms/step",
                          "steps timed"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
