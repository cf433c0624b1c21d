"""Soak test: run the live pipeline for tens of thousands of frames and watch memory and fps.

    python calibration/soak.py --frames 50000 [--fps 120] [--width 320 --height 180]

Prints RSS (MB) and stylized fps every --every frames, then growth and fps drift
(last tenth vs first tenth after warm-up). The synthetic source is paced at --fps.
"""

from __future__ import annotations

import argparse
import os
import time

from livestyle.cli import quiet_native_logs
from livestyle.live.session import LiveConfig, LiveSession
from livestyle.paths import ASSETS


def rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    quiet_native_logs()
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=50000)
    ap.add_argument("--fps", type=float, default=120.0)
    ap.add_argument("--width", type=int, default=320)
    ap.add_argument("--height", type=int, default=180)
    ap.add_argument("--masked", action="store_true")
    ap.add_argument("--every", type=int, default=2500)
    a = ap.parse_args()
    cfg = LiveConfig(style=str(ASSETS / "styles" / "demo"), source="synthetic", outputs="null",
                     width=a.width, height=a.height, fps=a.fps, masked=a.masked, train=False)
    samples = []
    with LiveSession(cfg) as s:
        next_mark, t_last, n_last = a.every, time.perf_counter(), 0
        while True:
            st = s.stats()
            if st.stylized >= next_mark:
                now = time.perf_counter()
                fps = (st.stylized - n_last) / (now - t_last)
                t_last, n_last = now, st.stylized
                samples.append((st.stylized, rss_mb(), fps))
                print(f"frames {st.stylized:6d}  rss {samples[-1][1]:7.1f} MB  stylized {fps:5.1f} fps  "
                      f"drops {st.drops}  p95 {st.latency_ms['p95']:.0f} ms  ({st.device})", flush=True)
                next_mark += a.every
                if st.stylized >= a.frames:
                    break
            time.sleep(0.2)
    base = samples[min(1, len(samples) - 1)]  # after warm-up
    k = max(1, len(samples) // 10)
    first = sum(s[2] for s in samples[1:1 + k]) / max(1, len(samples[1:1 + k]))
    last = sum(s[2] for s in samples[-k:]) / k
    print(f"\nmemory growth after warm-up: {samples[-1][1] - base[1]:+.1f} MB over "
          f"{samples[-1][0] - base[0]} frames; fps first tenth {first:.1f}, last tenth {last:.1f} "
          f"({100 * (last - first) / max(first, 1e-9):+.1f}%)")


if __name__ == "__main__":
    main()
