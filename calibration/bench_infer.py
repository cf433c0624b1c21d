"""Inference speed: ms per frame of the generator per preset, precision, memory format, size, batch, inputs.

Mirrors ``livestyle.engine.infer.Stylizer.run``: batch norm folded into the convs,
pad to the network's stride, then the model under ``torch.inference_mode()``
and the precision's autocast.
Variants: fp32 with channels_last (what livestyle uses), fp32 contiguous
(NCHW), bf16 autocast with channels_last (emulated on CPUs without AMX /
AVX-512 BF16: the table says so), fp16 on CUDA. Inputs have 3 channels (RGB)
or 6 (RGB + blob guide). Each case warms up, then is timed ``--runs`` times
(the device is synchronised before each clock read); printed as median and
p95 ms per frame (call time / batch), and the median CPU time of the process per
frame (all threads: on a shared or noisy host it shows the work itself when the wall
clock also counts time the host gave to others). A case whose single warm-up call takes
longer than ``--max-call`` seconds is timed once, so slow presets (``paper``
at 1280x720 on a CPU) do not take minutes.

Usage: ``python calibration/bench_infer.py [--device cuda] [--presets fast] [--sizes 640x360]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (machine_line, markdown_table, median, parse_list, parse_size, percentile,  # noqa: E402, I001
                    setup_torch, sync)

import torch  # noqa: E402

from livestyle.engine.device import Compute, cpu_has_fast_bf16, pick  # noqa: E402
from livestyle.engine.infer import fold_batch_norm  # noqa: E402
from livestyle.engine.model import PRESETS, build, count_parameters, pad_to_stride  # noqa: E402

VARIANTS = ("fp32-cl", "fp32-nchw", "bf16-cl", "fp16-cl")


def run_case(preset: str, variant: str, size: tuple[int, int], batch: int, channels: int, device: str,
             warmup: int, runs: int, max_call: float) -> dict:
    """Time one case; returns ``{"ms": [per-frame ms per run], "params": int}``."""
    precision, fmt = variant.split("-")
    compute: Compute = pick(device, precision)
    cl = torch.channels_last if fmt == "cl" else torch.contiguous_format
    params = count_parameters(build(preset, channels))
    model = fold_batch_norm(build(preset, channels).eval()).to(compute.device, memory_format=cl)
    w, h = size
    x = torch.rand(batch, channels, h, w, device=compute.device) * 2 - 1

    def call() -> None:
        with torch.inference_mode(), compute.autocast():
            xp, (hh, ww) = pad_to_stride(x, model.stride)
            model(xp.contiguous(memory_format=cl))[..., :hh, :ww]

    t0 = time.perf_counter()
    call()
    sync(compute.device)
    first = time.perf_counter() - t0
    for _ in range(warmup - 1):
        call()
    n = 1 if first > max_call else runs
    times, cpu = [], []
    for _ in range(n):
        sync(compute.device)
        t0, c0 = time.perf_counter(), time.process_time()
        call()
        sync(compute.device)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return {"ms": [1000 * t / batch for t in times], "cpu_ms": [1000 * c / batch for c in cpu], "params": params}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--presets", type=lambda s: parse_list(s, list(PRESETS), "preset"), default=list(PRESETS))
    ap.add_argument("--variants", type=lambda s: parse_list(s, VARIANTS, "variant"), default=None,
                    help="default: fp32-cl,fp32-nchw,bf16-cl (+ fp16-cl on CUDA)")
    ap.add_argument("--sizes", type=lambda s: [parse_size(v) for v in s.split(",")],
                    default=[(640, 360), (1280, 720)])
    ap.add_argument("--batches", type=lambda s: [int(v) for v in s.split(",")], default=[1, 4])
    ap.add_argument("--channels", type=lambda s: [int(v) for v in s.split(",")], default=[3, 6],
                    help="3 = RGB, 6 = RGB + blob guide")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--max-call", type=float, default=3.0, help="time once when a warm-up call takes longer (s)")
    ap.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    ap.add_argument("--keep-denormals", action="store_true", help="do not flush denormals to zero")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = ap.parse_args(argv)
    setup_torch(args.threads, args.keep_denormals)
    cuda = args.device.startswith("cuda")
    variants = args.variants or ["fp32-cl", "fp32-nchw", "bf16-cl"] + (["fp16-cl"] if cuda else [])
    if not cuda and "fp16-cl" in variants:
        raise SystemExit("fp16 is for CUDA only; on CPU use fp32-cl, fp32-nchw or bf16-cl")
    emulated = not cuda and not cpu_has_fast_bf16()
    print(f"# livestyle inference speed\n\n{machine_line(args.device)}\n")
    print(f"device {args.device}; warm-up {args.warmup} calls, then {args.runs} timed calls "
          f"(1 when a call takes > {args.max_call:g} s); ms per frame = call time / batch\n", flush=True)
    rows = []
    for preset in args.presets:
        for variant in variants:
            for size in args.sizes:
                for batch in args.batches:
                    for ch in args.channels:
                        r = run_case(preset, variant, size, batch, ch, args.device, args.warmup, args.runs,
                                     args.max_call)
                        label = variant + (" (emulated)" if emulated and variant.startswith("bf16") else "")
                        med, p95 = median(r["ms"]), percentile(r["ms"], 95)
                        rows.append([preset, f"{r['params'] / 1e6:.2f} M", label, f"{size[0]}x{size[1]}", batch, ch,
                                     f"{med:.1f}", f"{p95:.1f}", f"{median(r['cpu_ms']):.1f}", f"{1000 / med:.1f}",
                                     len(r["ms"])])
                        print(f"  {preset} {label} {size[0]}x{size[1]} b{batch} c{ch}: {med:.1f} ms/frame",
                              file=sys.stderr, flush=True)
    print(markdown_table(["preset", "params", "precision/format", "size", "batch", "in ch", "median ms/frame",
                          "p95 ms/frame", "CPU ms/frame (all threads)", "frames/s", "runs"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
