"""Offline render with a keyframe that is not named by a frame index: does placing it by likeness work?

A style made live names its keyframe by time. ``livestyle render`` places such a key on the frame of
the clip most like it (``render.place_keys``). This script measures what that placement is worth on
clips with exact ground truth (``capture.synthclip`` + ``gt_styles``): one keyframe (a frame of a
longer clip, painted by the ground-truth style) trains one model (``--iterations`` steps, blob guide,
as live trains); then each rendered clip is scored (PSNR against the ground truth, mean over frames)
with the key

- ``by-name``: named by its true frame index (the reference; only where the clip contains the key),
- ``matched``: named by time, placed by likeness (what render does now with a live style),
- ``at-0``: renamed ``000`` by hand, i.e. put on the clip's first frame (the workaround before).

Two clips: one that contains the key (frames 0..N-1, key at K), and one that starts after it (frames
S..S+N-1: the key's exact frame is not in it). Usage:
``python calibration/render_keys.py [--frames 40] [--iterations 400] [--style stylize]``.

Measured 2026-12-04 on the 2-core AMD EPYC (defaults, 320x180 mixed motion, load ~3): on the clip that
holds the key, ``matched`` scored exactly as ``by-name`` (stylize 28.11, brush 29.13, texture 29.72 dB)
and ``at-0`` within 0.11 dB of it; on the clip that starts 25 frames after the key, ``matched`` scored
27.51 / 28.23 / 29.25 dB against ``at-0``'s 27.48 / 28.15 / 29.24.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from skimage.metrics import peak_signal_noise_ratio

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine_line  # noqa: E402, I001
from gt_styles import STYLES, style_clip  # noqa: E402, I001

from livestyle.capture.synthclip import homography_clip, load_photo  # noqa: E402
from livestyle.engine.train import TrainConfig, Trainer  # noqa: E402
from livestyle.engine import checkpoint  # noqa: E402
from livestyle.engine.checkpoint import ModelInfo  # noqa: E402
from livestyle.render import render  # noqa: E402
from livestyle.style import Keyframe, StyleFolder  # noqa: E402


def write_frames(folder: Path, frames: list[np.ndarray]) -> Path:
    folder.mkdir(parents=True)
    for i, f in enumerate(frames):
        cv2.imwrite(str(folder / f"{i:03d}.png"), f)
    return folder


def style_folder(path: Path, name: str, key: np.ndarray, painting: np.ndarray, model: Path) -> Path:
    s = StyleFolder(path).create()
    cv2.imwrite(str(s.keys_dir / f"{name}.png"), key)
    cv2.imwrite(str(s.styled_dir / f"{name}.png"), painting)
    s.model_path.write_bytes(model.read_bytes())
    return path


def score(out: Path, truth: list[np.ndarray]) -> float:
    got = [cv2.imread(str(p)) for p in sorted(out.iterdir())]
    return float(np.mean([peak_signal_noise_ratio(t, g, data_range=255) for t, g in zip(truth, got, strict=True)]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=40, help="frames per rendered clip")
    ap.add_argument("--iterations", type=int, default=400, help="training steps of the one model")
    ap.add_argument("--style", default="stylize", choices=list(STYLES))
    ap.add_argument("--motion", default="mixed")
    ap.add_argument("--size", default="320x180")
    a = ap.parse_args()
    w, h = (int(x) for x in a.size.split("x"))
    n, key_at, start = a.frames, a.frames // 2, a.frames + 5
    photo = load_photo("astronaut")
    clip = homography_clip(photo, start + n, (w, h), seed=3, motion=a.motion)
    truth = style_clip(clip, photo, a.style)
    key, painting = clip.frames[key_at], truth[key_at]
    print(machine_line())
    print(f"clip {w}x{h} {a.motion}, style {a.style}, key = frame {key_at}, {a.iterations} training steps")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        t0 = time.perf_counter()
        cfg = TrainConfig(preset="fast", iterations=a.iterations, guides=("blobs",))
        tr = Trainer([Keyframe("k", key, painting, None)], cfg)
        tr.run()
        model = tmp / "model.safetensors"
        checkpoint.save(model, tr.result, ModelInfo(cfg.preset, tr.gen_cfg, guides=[{"name": "blobs"}], train={}))
        print(f"trained in {time.perf_counter() - t0:.1f} s")
        clips = {"contains the key": (0, write_frames(tmp / "c1", clip.frames[:n]), truth[:n]),
                 "starts after it": (start, write_frames(tmp / "c2", clip.frames[start:start + n]),
                                     truth[start:start + n])}
        for label, (first, folder, gt) in clips.items():
            ways = {"matched": "20261204-101500", "at-0": "000"}
            if first == 0:
                ways = {"by-name": f"{key_at:03d}", **ways}
            row = []
            for way, name in ways.items():
                style = style_folder(tmp / f"{label}-{way}", name, key, painting, model)
                out = tmp / f"out-{label}-{way}"
                render(style, folder, out, quiet=True)
                row.append(f"{way} {score(out, gt):.2f} dB")
            placed = "" if first == 0 else f" (closest frame to the key: the clip's first, {start - key_at} frames on)"
            print(f"{label}{placed}: " + ", ".join(row))


if __name__ == "__main__":
    main()
