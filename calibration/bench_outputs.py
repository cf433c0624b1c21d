"""What each stage output costs the stylized frame rate of a live session.

A ``LiveSession`` (synthetic camera, the shipped demo style, live defaults, no training) runs with the
outputs ``null`` (the baseline) and ``null`` plus one more: ``ndi`` (real, ndi-python), ``ndi`` with a
receiver connected over loopback in another process (the runtime compresses only when someone watches;
that receiver's decoding runs on the same cores, so this is an upper bound), and, where the real output
cannot run here (Spout: Windows, Syphon: macOS, window: no display on this machine), its sink driven
through the fakes of ``tests/test_outputs_stage.py`` (labelled *fake*: it measures livestyle's own share,
the BGR->BGRA conversion and the hand-over, not the library's GPU upload). Stylized frames per second are
counted over ``--seconds`` after ``--warmup``; the configurations run interleaved ``--repeats`` times and
the medians are compared with the baseline's.

    python calibration/bench_outputs.py [--seconds 12] [--warmup 6] [--repeats 3] [--width 640 --height 360]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import common  # noqa: E402  (puts this checkout's livestyle first on sys.path)

from livestyle.cli import quiet_native_logs  # noqa: E402
from livestyle.live.session import LiveConfig, LiveSession  # noqa: E402
from livestyle.outputs import Sink, SpoutSink, SyphonSink, WindowSink  # noqa: E402
from livestyle.paths import ASSETS  # noqa: E402
from tests.test_outputs_stage import FakeGui, fake_spoutgl, fake_syphon, listening_ports  # noqa: E402

DEMO = ASSETS / "styles" / "demo"
RECEIVER = """
import sys, time, NDIlib as ndi
ndi.initialize(); rc = ndi.RecvCreateV3(); rc.color_format = ndi.RECV_COLOR_FORMAT_BGRX_BGRA
r = ndi.recv_create_v3(rc); src = ndi.Source(); src.ndi_name = src.url_address = sys.argv[1]
ndi.recv_connect(r, src); n = 0; end = time.time() + float(sys.argv[2])
while time.time() < end:
    t, v, a, m = ndi.recv_capture_v2(r, 200)
    if t == ndi.FRAME_TYPE_VIDEO:
        n += 1; ndi.recv_free_video_v2(r, v)
print(n)
"""


def extra_sink(kind: str) -> Sink | None:
    if kind == "spout (fake)":
        return SpoutSink("bench", spout=fake_spoutgl(Quiet()))
    if kind == "syphon (fake)":
        return SyphonSink("bench", syphon=fake_syphon(Quiet()))
    if kind == "window (fake GUI)":
        return WindowSink(0, gui=FakeGui())
    return None


class Quiet(list):
    """A log for the fakes that keeps nothing (they append every frame)."""

    def append(self, item: object) -> None:
        pass


def run(kind: str, a: argparse.Namespace) -> tuple[float, str]:
    outputs = "null,ndi:bench" if kind.startswith("ndi") else "null"
    cfg = LiveConfig(style=str(DEMO), source="synthetic", outputs=outputs, width=a.width, height=a.height,
                     fps=a.fps, train=False)
    before = listening_ports()
    receiver = None
    note = ""
    with LiveSession(cfg) as s:
        assert s.sender is not None
        sink = extra_sink(kind)
        if sink is not None:
            sink.open(a.width, a.height, a.fps)
            if isinstance(sink, WindowSink):
                sink._gui.calls = Quiet()
            s.sender.add_sink(sink)
        if kind == "ndi + receiver":
            port = max(listening_ports() - before)
            receiver = subprocess.Popen([sys.executable, "-c", RECEIVER, f"127.0.0.1:{port}",
                                         str(a.warmup + a.seconds)], stdout=subprocess.PIPE, text=True)
        time.sleep(a.warmup)
        n0, t0 = s.stats().stylized, time.perf_counter()
        time.sleep(a.seconds)
        n1, t1 = s.stats().stylized, time.perf_counter()
        states = [state for _, state in s.stats().sinks]
        if any(st != "on" for st in states):
            note = f"sinks: {states}"
    if receiver is not None:
        out, _ = receiver.communicate(timeout=30)
        note = f"receiver got {out.strip()} frames"
    return (n1 - n0) / (t1 - t0), note


def sink_cpu(kind: str, a: argparse.Namespace, frames: int = 300) -> float:
    """Process CPU ms per frame that sending ``frames`` frames at ``a.fps`` through one sink costs, less the
    same loop through ``null`` (CPU time: steadier than frame rates on a shared, loaded box; it counts the
    NDI runtime's own compression thread too)."""
    import numpy as np

    from livestyle.outputs import NdiSink, NullSink

    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (a.height, a.width, 3), dtype=np.uint8) for _ in range(4)]

    def loop(sink: Sink) -> float:
        before = listening_ports()
        sink.open(a.width, a.height, a.fps)
        receiver = None
        if kind == "ndi + receiver" and isinstance(sink, NdiSink):
            port = max(listening_ports() - before)
            receiver = subprocess.Popen([sys.executable, "-c", RECEIVER, f"127.0.0.1:{port}",
                                         str(frames / a.fps + 3)], stdout=subprocess.PIPE, text=True)
            for i in range(int(a.fps)):  # let it connect
                sink.send(images[i % 4])
                time.sleep(1 / a.fps)
        t0 = time.process_time()
        for i in range(frames):
            sink.send(images[i % 4])
            time.sleep(1 / a.fps)
        cpu = time.process_time() - t0
        sink.close()
        if receiver is not None:
            receiver.communicate(timeout=30)
        return 1000 * cpu / frames

    sink = extra_sink(kind) or (NdiSink("bench-cpu") if kind.startswith("ndi") else NullSink())
    if isinstance(sink, WindowSink):
        sink._gui.calls = Quiet()
    return loop(sink) - loop(NullSink())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=12.0)
    p.add_argument("--warmup", type=float, default=6.0)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--height", type=int, default=360)
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument("--only", default="", help="comma-separated subset of the configurations")
    p.add_argument("--sink-cpu", action="store_true", help="only each sink's CPU ms per frame (no session)")
    a = p.parse_args()
    quiet_native_logs()
    kinds = ["null", "ndi", "ndi + receiver", "spout (fake)", "syphon (fake)", "window (fake GUI)"]
    if a.only:
        kinds = [k for k in kinds if k.split(" ")[0] in a.only.split(",") or k == "null"]
    print(common.machine_line(), f"load {common.load_average():.2f}")
    if a.sink_cpu:
        print(f"CPU ms per {a.width}x{a.height} frame sent at {a.fps:g} fps, beyond null (median of {a.repeats}); "
              "share = of this 2-core box at that rate:")
        for kind in kinds[1:]:
            ms = statistics.median(sink_cpu(kind, a) for _ in range(a.repeats))
            print(f"| {kind} | {ms:.2f} ms | {100 * ms * a.fps / 2000:.2f}% |", flush=True)
        return
    rates: dict[str, list[float]] = {k: [] for k in kinds}
    for rep in range(a.repeats):
        for kind in kinds:
            fps, note = run(kind, a)
            rates[kind].append(fps)
            print(f"  run {rep + 1} {kind:18s} {fps:6.2f} stylized fps {note}", flush=True)
    base = statistics.median(rates["null"])
    print(f"\n{a.width}x{a.height} @ {a.fps:g} fps, demo style, live defaults, no training; "
          f"{a.repeats} runs x {a.seconds:g} s each, medians:")
    print("| outputs | stylized fps (median) | runs | cost vs null |")
    print("|---|---|---|---|")
    for kind in kinds:
        med = statistics.median(rates[kind])
        cost = "-" if kind == "null" else f"{100 * (base - med) / base:+.1f}%"
        runs = ", ".join(f"{r:.2f}" for r in rates[kind])
        print(f"| null{'' if kind == 'null' else ' + ' + kind} | {med:.2f} | {runs} | {cost} |")
    print(f"load average after: {common.load_average():.2f}")


if __name__ == "__main__":
    main()
