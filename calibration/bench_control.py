"""Control latency and crossfade smoothness of a live session, over real OSC on loopback.

1. OSC -> sent frame: a python-osc client sends ``/livestyle/strength`` 0 and 1 in turn to a running
   ``LiveSession`` (synthetic camera, 640x360 @ 30 fps, the shipped demo style); an output that keeps
   what the sender hands it finds the first sent frame showing the change (strength 0: the frame is the
   camera frame bit for bit; 1: it is not). Latency in ms (send -> that frame reaching the output) and
   in output frames; p50/p95 over ``--messages`` messages.
2. Crossfade: two warm styles (the demo style and a copy whose last layer is changed), a switch every
   ``--every`` s with a ``--transition`` s fade; counts output frames, repeats (a frame sent again for
   want of a new one) and stylized frames inside fades and in equally long windows away from them.

    python calibration/bench_control.py [--messages 60] [--switches 12] [--width 640 --height 360]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402, F401  (puts this checkout's livestyle first on sys.path)

from livestyle.cli import quiet_native_logs  # noqa: E402
from livestyle.live.session import LiveConfig, LiveSession  # noqa: E402
from livestyle.outputs.base import Sink  # noqa: E402
from livestyle.paths import ASSETS  # noqa: E402

DEMO = ASSETS / "styles" / "demo"


class Log(Sink):
    """Keeps, per frame handed over: time, whether it equals the camera frame, whether it is a repeat."""

    name = "log"

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[float, bool, bool]] = []
        self.lock = threading.Lock()
        self._last: np.ndarray | None = None

    def _open(self, width: int, height: int, fps: float) -> None:
        pass

    def _send(self, frame: np.ndarray, original: np.ndarray | None) -> None:
        now = time.perf_counter()
        same = original is not None and np.array_equal(frame, original)
        with self.lock:
            self.rows.append((now, same, frame is self._last))
            self._last = frame

    def _close(self) -> None:
        pass


def pct(xs: list[float]) -> str:
    a = np.array(xs)
    return f"p50 {np.percentile(a, 50):.1f}, p95 {np.percentile(a, 95):.1f}, max {a.max():.1f} (n={len(a)})"


def osc_latency(a: argparse.Namespace) -> None:
    from pythonosc.udp_client import SimpleUDPClient

    cfg = LiveConfig(style=str(DEMO), source="synthetic", outputs="null", width=a.width, height=a.height,
                     fps=a.fps, train=False, osc="127.0.0.1:0")
    with LiveSession(cfg) as s:
        log = Log()
        log.open(a.width, a.height, a.fps)
        assert s.sender is not None
        s.sender.add_sink(log)
        time.sleep(a.warmup)
        client = SimpleUDPClient("127.0.0.1", s.surfaces[0].port)
        ms, frames = [], []
        value = 1.0
        for _ in range(a.messages):
            value = 0.0 if value == 1.0 else 1.0
            time.sleep(random.uniform(0.3, 0.6))
            with log.lock:
                n0 = len(log.rows)
            t0 = time.perf_counter()
            client.send_message("/livestyle/strength", value)
            end = t0 + 3.0
            hit = None
            while hit is None and time.perf_counter() < end:
                time.sleep(0.002)
                with log.lock:
                    rows = log.rows[n0:]
                for i, (t, same, _) in enumerate(rows):
                    if t >= t0 and same == (value == 0.0):
                        hit = (t, sum(1 for r in rows[:i] if r[0] >= t0))
                        break
            if hit is None:
                print(f"  no change seen within 3 s for strength {value}")
                continue
            ms.append(1000 * (hit[0] - t0))
            frames.append(hit[1] + 1)  # the frame that shows it counts: 1 = the next frame sent
        st = s.stats()
    print(f"OSC /livestyle/strength -> sent frame, {a.width}x{a.height} @ {a.fps:g} fps output "
          f"(stylized {st.stylized_fps:.1f} fps, capture->output latency p50 {st.latency_ms['p50']:.0f} ms):")
    print(f"  ms:     {pct(ms)}")
    print(f"  frames: {pct(frames)}  (1 = the first frame sent after the message)")


def second_style(tmp: Path) -> Path:
    import torch

    from livestyle.engine import checkpoint

    b = tmp / "demo-b"
    shutil.copytree(DEMO, b)
    model, info = checkpoint.load(b / "model.safetensors")
    with torch.no_grad():
        last = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)][-1]
        last.weight.mul_(-1.0)
    checkpoint.save(b / "model.safetensors", model, info)
    return b


def crossfades(a: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-control-"))
    try:
        b = second_style(tmp)
        cfg = LiveConfig(style=str(DEMO), styles=(str(b),), source="synthetic", outputs="null", width=a.width,
                         height=a.height, fps=a.fps, train=False, transition=a.transition)
        with LiveSession(cfg) as s:
            log = Log()
            log.open(a.width, a.height, a.fps)
            assert s.sender is not None and s.stage is not None
            s.sender.add_sink(log)
            time.sleep(a.warmup)
            fades, calm = [], []
            for i in range(a.switches):
                t0 = time.perf_counter()
                p0 = s.stage.processed
                s.styles.select(2 if i % 2 == 0 else 1)
                time.sleep(a.transition)
                p1 = s.stage.processed
                fades.append((t0, time.perf_counter(), p1 - p0))
                time.sleep(a.every - 2 * a.transition - 0.1)
                t2, p2 = time.perf_counter(), s.stage.processed
                time.sleep(a.transition)
                calm.append((t2, time.perf_counter(), s.stage.processed - p2))
                time.sleep(0.1)
            rows = list(log.rows)
            ms = s.stats().stage_ms
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    def tally(windows: list[tuple[float, float, int]]) -> tuple[int, int, int, float]:
        out = rep = styl = 0
        secs = 0.0
        for t0, t1, n in windows:
            inside = [r for r in rows if t0 <= r[0] < t1]
            out += len(inside)
            rep += sum(1 for r in inside if r[2])
            styl += n
            secs += t1 - t0
        return out, rep, styl, secs

    print(f"crossfade {a.transition:g} s between two warm styles, {a.width}x{a.height} @ {a.fps:g} fps, "
          f"{a.switches} switches:")
    print(f"  one network pass: {ms.get('stylize', 0):.1f} ms (moving average; two styles' networks in a fade "
          f"would need ~{2 * ms.get('stylize', 0):.0f} ms per frame against {1000 / a.fps:.0f} ms per output frame)")
    for name, w in (("during fades", fades), ("away from fades", calm)):
        out, rep, styl, secs = tally(w)
        print(f"  {name:16s} {secs:5.1f} s: output {out / secs:5.1f} fps, repeats {rep} ({100 * rep / max(1, out):.1f}%), "
              f"stylized {styl / secs:5.1f} fps")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--height", type=int, default=360)
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument("--warmup", type=float, default=4.0)
    p.add_argument("--messages", type=int, default=60)
    p.add_argument("--switches", type=int, default=12)
    p.add_argument("--every", type=float, default=2.0, help="seconds between style switches")
    p.add_argument("--transition", type=float, default=0.5)
    p.add_argument("--only", choices=("osc", "fade"))
    a = p.parse_args()
    quiet_native_logs()
    random.seed(0)
    if a.only in (None, "osc"):
        osc_latency(a)
    if a.only in (None, "fade"):
        crossfades(a)


if __name__ == "__main__":
    main()
