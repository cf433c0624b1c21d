"""DIS optical flow cost per preset and scale, as the live path runs it (``guides.FlowEstimator``).

Frames: a real photo moved by a homography (``synthclip``), grey, at each size. Each
(preset, scale) is timed round-robin with the others, so a busy host slows all alike.

    python calibration/bench_flow.py [--sizes 640x360,1280x720] [--runs 40] [--threads 1]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import load_average, machine_line, markdown_table, parse_size  # noqa: E402, I001

from livestyle.temporal import FlowEstimator  # noqa: E402
from livestyle.temporal.flow import to_gray  # noqa: E402
from livestyle.capture.synthclip import homography_clip, load_photo  # noqa: E402

CASES = [("ultrafast", 0.5), ("ultrafast", 1.0), ("fast", 0.5), ("fast", 1.0), ("medium", 0.5), ("medium", 1.0),
         ("medium-r2", 0.5), ("medium-r2", 1.0)]


class Refined:
    """``medium-r2`` at half size, then OpenCV's variational refinement at full size (1 fixed-point
    iteration): a full-size-precise key flow for render scale 0.5, at what cost."""

    def __init__(self) -> None:
        self.half = FlowEstimator("medium-r2", 0.5)
        self.vr = cv2.VariationalRefinement_create()  # type: ignore[attr-defined]
        self.vr.setFixedPointIterations(1)

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        f = self.half(a, b)
        self.vr.calc(a, b, f)
        return f


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=lambda s: [parse_size(v) for v in s.split(",")], default=[(640, 360), (1280, 720)])
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--threads", type=int, default=1, help="cv2.setNumThreads (the live prep thread: 1)")
    a = ap.parse_args(argv)
    cv2.setNumThreads(a.threads)
    print(f"# DIS flow cost\n\n{machine_line('cpu')}; OpenCV {cv2.__version__}, {a.threads} thread(s)\n")
    rows = []
    for w, h in a.sizes:
        frames = [to_gray(f) for f in homography_clip(load_photo("astronaut"), 8, (w, h), 0, "mixed").frames]
        cases = [*CASES, ("medium-r2 0.5 + full-size refinement", 1.0)]
        ests = [*(FlowEstimator(p, s) for p, s in CASES), Refined()]
        times: list[list[float]] = [[] for _ in cases]
        for r in range(a.runs + 3):
            for i, est in enumerate(ests):
                f0, f1 = frames[r % 7], frames[r % 7 + 1]
                t0 = time.perf_counter()
                est(f1, f0)
                if r >= 3:
                    times[i].append(1000 * (time.perf_counter() - t0))
        rows += [[f"{w}x{h}", p, f"{s:g}", f"{np.median(t):.2f}", f"{np.percentile(t, 90):.2f}"]
                 for (p, s), t in zip(cases, times, strict=True)]
    print(markdown_table(["size", "DIS preset", "scale", "median ms", "p90 ms"], rows))
    print(f"\nload average after: {load_average():.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
