"""``livestyle calibrate``: measure this machine and pick preset, resolution and precision for a target fps.

Each candidate runs the real per-frame work (causal denoise, segmentation, blob guide, U-Net,
composite) on synthetic frames; the best-quality candidate whose frame time fits the target
(with headroom for capture and output) is saved to ``calibration.toml`` in the user's config
folder, where ``livestyle live`` and the TUI read their defaults.
"""

from __future__ import annotations

import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import torch

from .device import cpu_has_fast_bf16, pick
from .imageio import write_atomic
from .paths import config_dir

SIZES = ((1280, 720), (960, 540), (640, 360), (480, 270))
PRESETS_BY_QUALITY = ("quality", "fast")
HEADROOM = 0.8  # the per-frame work may use this share of the frame interval


def calibration_path() -> Path:
    return config_dir() / "calibration.toml"


def load_calibration() -> dict:
    """The saved choice (``preset``, ``width``, ``height``, ``precision``), or {} if none/unreadable."""
    p = calibration_path()
    try:
        return tomllib.loads(p.read_text()).get("live", {}) if p.is_file() else {}
    except (tomllib.TOMLDecodeError, OSError):
        return {}


def _precisions(device: str) -> list[str]:
    if pick(device).device.type == "cuda":
        return ["fp16", "bf16"] if torch.cuda.is_bf16_supported() else ["fp16"]
    return ["bf16", "fp32"] if cpu_has_fast_bf16() else ["fp32"]


def time_candidate(preset: str, w: int, h: int, precision: str, device: str, frames: int = 12,
                   masked: bool = True) -> float:
    """Median milliseconds of the whole per-frame work for one configuration."""
    import threading

    from .guides import BlobGuide, CausalDenoiser
    from .infer import Stylizer
    from .live.stage import StageSettings, StyleStage
    from .model import build
    from .segment import Segmenter
    from .slot import LatestSlot
    from .synthclip import SyntheticScene

    scene = SyntheticScene((w, h))
    key = scene.frame(0.0)
    seg = Segmenter() if masked else None
    stage = StyleStage(LatestSlot(), LatestSlot(), threading.Event(), StageSettings(masked=masked),
                       CausalDenoiser(), seg)
    stage.set_model(Stylizer(build(preset, 6).eval(), pick(device, precision)),
                    [BlobGuide().tracker(key, None)])
    times = []
    try:
        with torch.inference_mode():
            for i in range(frames + 3):
                f = scene.frame(i / 30)
                t = time.perf_counter()
                stage.process(f)
                if i >= 3:
                    times.append(1000 * (time.perf_counter() - t))
    finally:
        if seg is not None:
            seg.close()
    return float(np.median(times))


def run(args) -> int:
    target = float(args.target_fps)
    budget = 1000.0 / target * HEADROOM
    device = args.device
    print(f"livestyle calibrate: target {target:g} fps -> per-frame budget {budget:.1f} ms "
          f"({pick(device).describe()})")
    choice = None
    for preset in PRESETS_BY_QUALITY:
        for w, h in SIZES:
            for prec in _precisions(device):
                ms = time_candidate(preset, w, h, prec, device, masked=not args.unmasked)
                ok = ms <= budget
                print(f"  {preset:8s} {w}x{h} {prec}: {ms:6.1f} ms/frame ({1000 / ms:5.1f} fps) "
                      f"{'fits' if ok else 'too slow'}", flush=True)
                if ok and choice is None:
                    choice = {"preset": preset, "width": w, "height": h, "precision": prec,
                              "measured_ms": round(ms, 1), "target_fps": target}
            if choice:
                break
        if choice:
            break
    if choice is None:
        print(f"livestyle: nothing fits {target:g} fps here; try a lower --target-fps "
              "(the smallest configuration is saved anyway)", file=sys.stderr)
        w, h = SIZES[-1]
        choice = {"preset": "fast", "width": w, "height": h, "precision": _precisions(device)[-1],
                  "measured_ms": None, "target_fps": target}
    text = "[live]\n" + "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in choice.items()
                                 if v is not None)
    write_atomic(calibration_path(), text.encode())
    print(f"livestyle: chose {choice['preset']} {choice['width']}x{choice['height']} {choice['precision']}; "
          f"saved to {calibration_path()}")
    return 0
