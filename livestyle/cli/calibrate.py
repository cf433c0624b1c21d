"""``livestyle calibrate``: measure this machine and pick preset, resolution, render scale, precision and schedule.

Each candidate runs the real live pipeline (``LiveSession``: the synthetic camera at the target
rate, segmentation, blob guide, U-Net in its overlapping prep/net threads, keyframe carry,
stabiliser, composite) for a few seconds with a network of the candidate's preset, and counts
stylized frames per second and the capture-to-output latency. The best candidate that keeps up
with the target (within 5%) with a latency p95 of at most ``LATENCY_FRAMES`` frame intervals is saved to
``calibration.toml`` in the user's config folder, where ``livestyle live`` and the TUI read
their defaults. Candidates go from the best picture down (``plan``: every candidate with the keyframe
carry first, then without it).
"""

from __future__ import annotations

import sys
import time

import torch

from livestyle.engine.device import cpu_has_fast_bf16, pick
from livestyle.engine.infer import PHASES as DEFAULT_PHASES
from livestyle.errors import check_range
from livestyle.files.imageio import write_atomic
from livestyle.files.safepaths import check_writable
from livestyle.live.build import calibration_path
from livestyle.live.config import KEY_FLOWS
from livestyle.temporal.carry import CARRY as DEFAULT_CARRY
from livestyle.temporal.carry import CARRY_FINE_BELOW
from livestyle.temporal.denoise import STEADY_LIVE as DEFAULT_STEADY

SIZES = ((1280, 720), (960, 540), (640, 360), (480, 270))
SCALES = (1.0, 0.5)
# Presets from the best picture down, per device. On a CPU ``fast`` is ahead at every budget a live
# user waits for: at 5 and 15 s of training it beat ``quality`` on all four scenes tried (astronaut
# and coffee, stylize and oil: e.g. SSIM 0.842 vs 0.685 at 15 s), and at 60 s it was within
# +0.05/-0.01 (calibration/results/quality-2026-12-01-fast-vs-quality.md); ``quality`` at render
# scale 0.5 also upsamples its whole output (it does not predict a change of the frame). On a GPU
# the bigger network trains in the same seconds; it is tried first there (not measured: no GPU yet).
PRESETS_BY_QUALITY = {"cpu": ("fast",), "cuda": ("quality", "fast")}
KEEP_UP = 0.95  # a candidate fits when its stylized rate is at least this share of the target
# Output stabiliser strengths tried per candidate, on first: it costs 4-8 ms per 640x360 frame and
# 12-34 ms at 720p on the 2-core dev CPU (README, Live), so where it does not fit it is turned off
# before the picture gets smaller.
STEADY = (DEFAULT_STEADY, 0.0)
# Keyframe carry strengths tried with the stabiliser on, carry first: it costs ~10-19 ms per 640x360 frame in the
# prep thread on the 2-core dev CPU (README, Live), so it is chosen only where there is that much headroom.
CARRY = (DEFAULT_CARRY, 0.0)
# Network passes averaged per frame (infer.phase_offsets), tried on top of carry and stabiliser only: they cost
# PHASES x the network's time, which fits on a GPU, not on a 2-core CPU. 2 phases closed most of the gap to
# render on a static camera with a moving occluder (calibration/live_gap.py: -0.10 dB against -0.34 with one,
# the key flow on every frame); on the 2-core AMD EPYC dev CPU they ran at 26-29 fps with a p95 of 103-112 ms
# (640x360), so they are for machines with more cores.
PHASES = tuple(dict.fromkeys((DEFAULT_PHASES, 2, 1)))
# The network on every 2nd frame (its output moved along the flow between: ``StyleStage.net_every``), tried after one
# pass on every frame with carry and stabiliser, before the carry is turned off: on calibration/live_gap.py's 4 mixed
# scenes it cost 0.07 dB against the network on every frame (-0.38 against -0.31 dB to render), 0.45 dB on a still
# camera with someone walking through (live.skipping), where the carry off cost 2-6 dB.
NET_EVERY = (1, 2)
# At a render scale below 1, the keyframe carry's key flow (``LiveConfig.key_flow``): "fine" (as precise as at full
# size) first, then "coarse" (matched on the work-size frame). At render scale 0.5 fine was 1.1 dB closer to render
# (calibration/render_scale.py: -1.34 against -2.46 dB, 4 scenes) but cost 4x the flow's time: 1280x720 at scale 0.5
# ran at 16-20 fps with it on the 2-core AMD EPYC dev CPU, 23-29 with the coarse one. Both come before the network on
# every 2nd frame or the carry off (those cost up to 0.45 and 2-6 dB). ``KEY_FLOWS``: auto, fine, coarse.
# Latency p95 (capture to output) a candidate may have, in frame intervals of the target rate: 83 ms at 30 fps.
# On the 2-core dev CPU the defaults ran at p95 42-52 ms at 640x360, and 2 phases, which hold ~28 fps, at 103-112.
LATENCY_FRAMES = 2.5


def _post_options(scale: float = 1.0) -> list[tuple[float, float, int, int, str]]:
    """(steady, carry, phases, network every, key flow) from the best picture down: the network averaged over phases
    with carry and stabiliser, then one pass: on every frame, on every 2nd (at a render scale where the key flow
    matters, all of these with the fine key flow, then with the coarse one), then carry off: stabiliser alone,
    neither."""
    flows = KEY_FLOWS[1:] if scale <= CARRY_FINE_BELOW else KEY_FLOWS[1:2]
    carried = [o for f in flows for o in [(STEADY[0], CARRY[0], p, 1, f) for p in PHASES]
               + [(STEADY[0], CARRY[0], 1, n, f) for n in NET_EVERY[1:]]]
    return carried + [(STEADY[0], c, 1, 1, KEY_FLOWS[0]) for c in CARRY[1:]] + \
        [(s, 0.0, 1, 1, KEY_FLOWS[0]) for s in STEADY[1:]]  # no carry: no key flow (auto)


def _precisions(device: str) -> list[str]:
    if pick(device).device.type == "cuda":
        return ["fp16", "bf16"] if torch.cuda.is_bf16_supported() else ["fp16"]
    return ["bf16", "fp32"] if cpu_has_fast_bf16() else ["fp32"]


def measure_candidate(preset: str, w: int, h: int, precision: str, device: str, target_fps: float,
                      masked: bool = True, render_scale: float = 1.0, warmup: float = 2.0,
                      seconds: float = 3.0, steady: float = STEADY[0], carry: float = 0.0,
                      phases: int = 1, net_every: int = 1, key_flow: str = "auto") -> tuple[float, float]:
    """``(stylized frames per second, latency p95 in ms)`` of the live pipeline for one configuration (camera at
    ``target_fps``)."""
    from livestyle.engine.infer import Stylizer
    from livestyle.engine.model import build
    from livestyle.guides import BlobGuide
    from livestyle.live.config import LiveConfig
    from livestyle.live.keyed import FINE, Keyed
    from livestyle.live.session import LiveSession
    from livestyle.temporal import CarryKey, KeyCarry

    cfg = LiveConfig(style=None, source="synthetic", outputs="null", width=w, height=h, fps=target_fps,
                     masked=masked, train=False, preset=preset, device=device, precision=precision,
                     render_scale=render_scale, steady=steady, carry=carry, phases=phases, net_every=net_every,
                     key_flow=key_flow)
    with LiveSession(cfg) as s:
        assert s.stage is not None
        ww, hh = s.work_size
        from livestyle.capture.synthclip import SyntheticScene

        key = SyntheticScene((ww, hh)).frame(0.0)  # any keyframe: the guide's and carry's cost do not depend on it
        sty = Stylizer(build(preset, 6).eval(), s.compute, phases, int8=cfg.int8)
        sty.settle()  # what live runs once training is done: int8 where it is on
        s.stage.set_model(sty,
                          Keyed([BlobGuide().tracker(key, None)], KeyCarry.live([CarryKey(key, key)], scale=render_scale,
                                                                                 fine=FINE[key_flow])))
        time.sleep(warmup)
        s.latency.clear()
        a, t0 = s.stage.processed, time.perf_counter()
        time.sleep(seconds)
        return (s.stage.processed - a) / (time.perf_counter() - t0), s.latency.percentiles()["p95"]


def candidates(device_type: str = "cpu") -> list[tuple[str, int, int, float]]:
    """``(preset, width, height, render_scale)`` from the best picture down: the better preset for the
    device, then more pixels through the network (the style's detail), then the bigger output frame."""
    presets = PRESETS_BY_QUALITY.get(device_type, PRESETS_BY_QUALITY["cpu"])
    every = [(p, w, h, r) for p in presets for w, h in SIZES for r in SCALES]
    return sorted(every, key=lambda c: (presets.index(c[0]), -c[1] * c[2] * c[3] ** 2, -c[1] * c[2]))


def plan(device_type: str, precisions: list[str]) -> list[tuple[tuple[str, int, int, float], str, tuple]]:
    """``(candidate, precision, post option)`` in the order ``run`` tries them: every candidate with the keyframe
    carry on first, then every candidate without it. Turning the carry off cost 2-6 dB against render
    (calibration/live_gap.py), more than the next smaller candidate (render scale 0.5 at 720p: -1.3 to -2.5 dB,
    calibration/render_scale.py), so a smaller picture with the carry beats a bigger one without."""
    out = []
    for carried in (True, False):
        for cand in candidates(device_type):
            out += [(cand, p, o) for p in precisions for o in _post_options(cand[3]) if (o[1] > 0) == carried]
    return out


def run(args) -> int:
    from livestyle.live.build import FPS_RANGE

    check_range("--target-fps", args.target_fps, *FPS_RANGE)
    where = calibration_path()  # measuring takes minutes: a file that cannot be saved is said first
    check_writable(where, fix=f"make {where.parent} writable, or set LIVESTYLE_CONFIG_DIR to a folder you can write to")
    target = float(args.target_fps)
    device = args.device
    masked = not args.unmasked
    print(f"livestyle calibrate: target {target:g} stylized fps, {'masked' if masked else 'whole frame'} "
          f"({pick(device).describe()})")
    choice = None
    for (preset, w, h, scale), prec, (steady, carry, phases, every, kf) in plan(pick(device).device.type,
                                                                               _precisions(device)):
        fps, p95 = measure_candidate(preset, w, h, prec, device, target, masked, scale, steady=steady, carry=carry,
                                     phases=phases, net_every=every, key_flow=kf)
        ok = fps >= KEEP_UP * target and p95 <= 1000 * LATENCY_FRAMES / target
        print(f"  {preset:8s} {w}x{h} render scale {scale:g} {prec} steady {steady:g} carry {carry:g} phases {phases} "
              f"network every {every}{f' {kf} key flow' if scale <= CARRY_FINE_BELOW and carry > 0 else ''}: "
              f"{fps:5.1f} fps, p95 {p95:.0f} ms {'fits' if ok else 'too slow'}", flush=True)
        if ok:
            choice = {"preset": preset, "width": w, "height": h, "render_scale": scale, "precision": prec,
                      "steady": steady, "carry": carry, "phases": phases, "net_every": every, "key_flow": kf,
                      "measured_fps": round(fps, 1), "target_fps": target}
            break
    if choice is None:
        print(f"livestyle: nothing reaches {target:g} fps here; try a lower --target-fps "
              "(the smallest configuration is saved anyway)", file=sys.stderr)
        w, h = SIZES[-1]
        choice = {"preset": "fast", "width": w, "height": h, "render_scale": SCALES[-1],
                  "precision": _precisions(device)[-1], "steady": STEADY[-1], "carry": 0.0, "phases": 1,
                  "net_every": NET_EVERY[-1], "key_flow": KEY_FLOWS[0], "measured_fps": None,
                  "target_fps": target}
    text = "[live]\n" + "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in choice.items()
                                 if v is not None)
    write_atomic(calibration_path(), text.encode())
    print(f"livestyle: chose {choice['preset']} {choice['width']}x{choice['height']} render scale "
          f"{choice['render_scale']:g} {choice['precision']} steady {choice['steady']:g} carry {choice['carry']:g} "
          f"phases {choice['phases']} network every {choice['net_every']} key flow {choice['key_flow']}; "
          f"saved to {calibration_path()}")
    return 0
