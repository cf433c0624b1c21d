"""End-to-end live benchmark: synthetic camera -> style stage -> sender (null output).

Prints stylized fps, output fps, capture-to-output latency p50/p95/p99 and per-stage ms for
640x360 and 1280x720, masked on/off, training on/off. Warm-up, then a timed window.

    python calibration/bench_live.py [--seconds 20] [--warmup 5] [--style livestyle/assets/styles/demo]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402, F401  (puts this checkout's livestyle first on sys.path)

import livestyle.live.carrying as carrying  # noqa: E402
import livestyle.temporal.carry as carry_mod  # noqa: E402
from livestyle.cli import quiet_native_logs  # noqa: E402
from livestyle.live.session import LiveConfig, LiveSession  # noqa: E402
from livestyle.paths import ASSETS  # noqa: E402
from livestyle.temporal import CARRY, STEADY_LIVE  # noqa: E402

MODES = {"plain": (False, False), "masked": (True, False), "masked+train": (True, True), "train": (False, True)}


def measure(style: Path, w: int, h: int, masked: bool, training: bool, warmup: float, seconds: float,
            fps: float, preset: str, render_scale: float = 1.0, steady: float = STEADY_LIVE,
            carry: float = CARRY, phases: int = 1, device: str = "auto", precision: str = "auto",
            source: str = "synthetic", net_every: int = 1, key_flow: str = "auto", int8: bool = True) -> dict:
    tmp = None
    if training:  # a copy without its model: the trainer starts at once and keeps working
        tmp = Path(tempfile.mkdtemp(prefix="bench-live-"))
        shutil.copytree(style, tmp / "style", ignore=shutil.ignore_patterns("model.safetensors"))
        style = tmp / "style"
    cfg = LiveConfig(style=str(style), source=source, outputs="null", width=w, height=h, fps=fps,
                     masked=masked, train=training, preset=preset, render_scale=render_scale, steady=steady,
                     carry=carry, phases=phases, device=device, precision=precision, net_every=net_every,
                     key_flow=key_flow, int8=int8,
                     denoise=DENOISE[0] if DENOISE else LiveConfig().denoise)
    try:
        with LiveSession(cfg) as s:
            t_end = time.perf_counter() + 120
            while s.stage.stylizer is None and time.perf_counter() < t_end:  # training: first weights
                time.sleep(0.2)
            time.sleep(warmup)
            s.latency.percentiles()
            s.latency.clear()  # measure the window only
            a = s.stats()
            backend = a.device  # the network's runtime once warm (", openvino int8" once made)
            t0, c0 = time.perf_counter(), time.process_time()
            time.sleep(seconds)
            b = s.stats()
            dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        return {
            "size": f"{s.source.width}x{s.source.height}", "source": source, "device": backend, "render_scale": render_scale, "key_flow": key_flow, "steady": steady, "carry": carry, "carry_every": s.stage._carry.every, "phases": phases, "net_every": net_every, "masked": masked, "training": training,
            "stylized_fps": round((b.stylized - a.stylized) / dt, 1),
            "output_fps": round((b.frames_out - a.frames_out) / dt, 1),
            "latency_ms": b.latency_ms, "drops": b.drops - a.drops, "stage_ms": b.stage_ms,
            # CPU time of this process (all threads, camera included; not the trainer process)
            "cpu_ms_per_frame": round(1000 * cpu / max(1, b.stylized - a.stylized), 1),
            "train": {k: b.training.get(k) for k in ("state", "iteration", "its_per_s")},
        }
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


DENOISE: list[bool] = []  # --denoise, when given


def main() -> None:
    quiet_native_logs()
    ap = argparse.ArgumentParser()
    ap.add_argument("--style", default=str(ASSETS / "styles" / "demo"))
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--warmup", type=float, default=5.0)
    ap.add_argument("--fps", type=float, default=30.0, help="camera rate (a webcam's 30 by default)")
    ap.add_argument("--preset", default="fast")
    ap.add_argument("--sizes", default="640x360,1280x720")
    ap.add_argument("--modes", default="plain,masked,masked+train,train",
                    help="which of plain, masked, masked+train, train to run (comma-separated)")
    ap.add_argument("--render-scale", type=float, default=1.0, help="LiveConfig.render_scale (1 = full size)")
    ap.add_argument("--steady", type=float, default=STEADY_LIVE, help="output stabiliser strength (LiveConfig.steady; 0 = off)")
    ap.add_argument("--carry", type=float, default=CARRY, help="keyframe carry strength (LiveConfig.carry; 0 = off)")
    ap.add_argument("--phases", type=int, default=1, help="network passes averaged per frame (LiveConfig.phases; 1, 2 or 4)")
    ap.add_argument("--device", default="auto", help="LiveConfig.device: auto, cpu or cuda")
    ap.add_argument("--denoise", action=argparse.BooleanOptionalAction, default=None,
                    help="the causal denoiser (LiveConfig.denoise; default as live: off)")
    ap.add_argument("--precision", default="auto", help="LiveConfig.precision: auto, fp32, bf16 or fp16")
    ap.add_argument("--source", default="synthetic",
                    help="LiveConfig.source: synthetic, or a video file (played at its own fps, looped; its size wins)")
    ap.add_argument("--carry-every", type=int, default=None,
                    help="the carry's key flow on every Nth frame (temporal.carry.CARRY_EVERY_LIVE; default: "
                         "temporal.carry.carry_every_live, by core count)")
    ap.add_argument("--net-every", type=int, default=1, help="the network on every Nth frame (LiveConfig.net_every)")
    ap.add_argument("--key-flow", choices=("auto", "fine", "coarse"), default="auto",
                    help="the carry's key flow at a render scale below 1 (LiveConfig.key_flow)")
    ap.add_argument("--flow-workers", type=int, default=None,
                    help="key flows computed at once (live.carrying.FLOW_WORKERS; default 1)")
    ap.add_argument("--int8", action=argparse.BooleanOptionalAction, default=True,
                    help="the network in int8 once its weights settle (LiveConfig.int8; default on, as live)")
    ap.add_argument("--json")
    a = ap.parse_args()
    if a.carry_every is not None:
        carry_mod.CARRY_EVERY_LIVE = a.carry_every
    if a.flow_workers is not None:
        carrying.FLOW_WORKERS = a.flow_workers
    if a.denoise is not None:
        DENOISE.append(a.denoise)
    rows = []
    for size in a.sizes.split(","):
        w, h = (int(v) for v in size.split("x"))
        for mode in a.modes.split(","):
            if mode not in MODES:
                raise SystemExit(f"bench_live: unknown mode {mode!r}; use {', '.join(MODES)}")
            masked, training = MODES[mode]
            r = measure(Path(a.style), w, h, masked, training, a.warmup, a.seconds, a.fps, a.preset, a.render_scale, a.steady,
                        a.carry, a.phases, a.device, a.precision, a.source, a.net_every, a.key_flow, a.int8)
            rows.append(r)
            print(json.dumps(r), flush=True)
    print(f"\n{rows[0]['device'] if rows else ''}")
    print("\n| size | render scale | steady | carry | phases | network every | masked | training | stylized fps | output fps | latency p50/p95/p99 ms | CPU ms/frame | stage ms |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        lat = r["latency_ms"]
        stages = ", ".join(f"{k} {v:.1f}" for k, v in r["stage_ms"].items())
        scale = f"{r['render_scale']:g}" + (f" ({r['key_flow']} key flow)" if r["render_scale"] < 1 else "")
        print(f"| {r['size']} | {scale} | {r['steady']:g} | {r['carry']:g} | {r['phases']} | {r['net_every']} | {'on' if r['masked'] else 'off'} | {'on' if r['training'] else 'off'} | "
              f"{r['stylized_fps']} | {r['output_fps']} | {lat['p50']:.0f}/{lat['p95']:.0f}/{lat['p99']:.0f} | "
              f"{r['cpu_ms_per_frame']} | {stages} |")
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
