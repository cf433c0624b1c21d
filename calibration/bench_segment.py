"""Time person segmentation per frame at 640x360 and 1280x720.

Frames come from SyntheticScene (a real photo moving), so the network sees
a person. For each model and setting: warm up, then time ``--frames``
calls of ``Segmenter.__call__`` (network + EMA + feather, and for every>1 the
flow-warped frames in between). Prints one line per case, ms per frame.

    python calibration/bench_segment.py [--frames 60]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from livestyle.capture.synthclip import SyntheticScene
from livestyle.paths import ASSETS
from livestyle.segment import Segmenter

MODELS = ("selfie_segmentation", "selfie_segmentation_landscape")
SIZES = ((640, 360), (1280, 720))


def bench(seg: Segmenter, frames: list[np.ndarray], warmup: int = 10) -> float:
    """Mean milliseconds per call over ``frames`` after ``warmup`` calls."""
    for i in range(warmup):
        seg(frames[i % len(frames)])
    start = time.perf_counter()
    for frame in frames:
        seg(frame)
    return 1000.0 * (time.perf_counter() - start) / len(frames)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60)
    args = parser.parse_args()
    for size in SIZES:
        scene = SyntheticScene(size=size)
        frames = [scene.frame(i / 30.0) for i in range(args.frames)]
        for model in MODELS:
            for every in (1, 3):
                with Segmenter(ASSETS / "models" / f"{model}.tflite", every=every) as seg:
                    ms = bench(seg, frames)
                print(f"{size[0]}x{size[1]}  {model:<31} every={every}  {ms:6.2f} ms/frame")


if __name__ == "__main__":
    main()
