"""Helpers shared by the calibration scripts: machine description, tables, timing, loss mixes.

Scripts in ``calibration/`` measure livestyle and print numbers (tests assert
behaviour; these scripts measure it). Run them from the repository root, e.g.
``python calibration/bench_train.py``; they put the repository on ``sys.path``
themselves so that ``import livestyle`` works without installing it.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import cv2  # noqa: E402  (after the sys.path fix above, like every import of livestyle)
import numpy as np  # noqa: E402
import torch  # noqa: E402

# Loss mixes as (l1, perceptual, adversarial) weights; "paper" is Texler et al. 2020's 4 / 6 / 0.5.
MIXES: dict[str, tuple[float, float, float]] = {
    "l1": (4.0, 0.0, 0.0),
    "l1+adv": (4.0, 0.0, 0.5),
    "paper": (4.0, 6.0, 0.5),
    "l1+perc": (4.0, 6.0, 0.0),
}


def mix_name(l1: float, perceptual: float, adversarial: float) -> str:
    """The name in :data:`MIXES` of a weight triple, or ``"l1=..,perc=..,adv=.."`` if none matches."""
    for name, w in MIXES.items():
        if w == (l1, perceptual, adversarial):
            return name
    return f"l1={l1:g},perc={perceptual:g},adv={adversarial:g}"


def setup_torch(threads: int | None, keep_denormals: bool = False) -> None:
    """Thread count (None = torch's choice) and denormal flushing, set once before any timing.

    livestyle's ``Stylizer`` flushes denormals to zero (trained weights drift towards them, ~10x
    slower on CPU); doing it up front means every case of a script runs in the same state.
    """
    if threads:
        torch.set_num_threads(threads)
    torch.set_flush_denormal(not keep_denormals)


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` (Linux), else ``platform.processor()``."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def cpu_flags() -> list[str]:
    """The SIMD flags that matter for oneDNN (avx2, avx512*, amx*) found in ``/proc/cpuinfo``."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    for line in text.splitlines():
        if line.startswith("flags"):
            flags = line.split(":", 1)[1].split()
            return sorted(f for f in flags if f == "avx2" or f.startswith(("avx512", "amx")))
    return []


def load_average() -> float:
    """The 1-minute load average (other processes sharing the CPU make timings slower)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def machine_line(device: str = "cpu") -> str:
    """One line naming the machine: CPU model, cores, SIMD flags, torch threads and version, GPU."""
    from livestyle.engine.device import cpu_has_fast_bf16

    parts = [f"CPU: {cpu_model()}", f"{os.cpu_count()} cores", "flags: " + (" ".join(cpu_flags()) or "none listed"),
             f"torch {torch.__version__} ({torch.get_num_threads()} threads)",
             f"native bf16: {'yes' if cpu_has_fast_bf16() else 'no (emulated)'}",
             f"load avg {load_average():.2f}"]
    if device.startswith("cuda") and torch.cuda.is_available():
        parts.append(f"GPU: {torch.cuda.get_device_name(torch.device(device))}")
    return "; ".join(parts)


def sync(device: torch.device | str) -> None:
    """Wait for queued device work, so that a clock read afterwards measures it."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def time_calls(fn: Callable[[], object], device: torch.device | str, warmup: int, runs: int) -> list[float]:
    """Call ``fn`` ``warmup`` times untimed, then ``runs`` times; returns each run's seconds."""
    for _ in range(warmup):
        fn()
    sync(device)
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        sync(device)
        out.append(time.perf_counter() - t0)
    return out


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) of ``values``, linear interpolation between ranks."""
    if not values:
        return float("nan")
    s = sorted(values)
    pos = (len(s) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub Markdown table; floats are printed as given (format them before)."""
    lines = ["| " + " | ".join(str(h) for h in header) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def parse_list(text: str, known: Sequence[str] | None = None, what: str = "value") -> list[str]:
    """Split ``"a,b"`` into ``["a", "b"]``; with ``known``, reject anything else (SystemExit with a message)."""
    items = [t.strip() for t in text.split(",") if t.strip()]
    if known is not None:
        bad = [t for t in items if t not in known]
        if bad:
            raise SystemExit(f"unknown {what} {', '.join(bad)}; choose from {', '.join(known)}")
    return items


def parse_size(text: str) -> tuple[int, int]:
    """``"640x360"`` -> ``(640, 360)`` as ``(W, H)``."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise SystemExit(f"size {text!r}: expected WIDTHxHEIGHT, e.g. 640x360") from None
    if w <= 0 or h <= 0:
        raise SystemExit(f"size {text!r}: width and height must be positive")
    return w, h


# Temporal metric: warping error of Lai et al. 2018 ("Learning Blind Video Temporal Consistency"),
# with OpenCV DIS flow in place of FlowNet2. Independent of livestyle.guides on purpose.

def dis_flow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """DIS flow (medium) ``(H, W, 2) float32`` from BGR frame ``a`` to ``b``: a(x) ~ b(x + flow(x))."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    return dis.calc(cv2.cvtColor(a, cv2.COLOR_BGR2GRAY), cv2.cvtColor(b, cv2.COLOR_BGR2GRAY), None)


def backward_warp(img: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``out(x) = img(x + flow(x))``, bilinear, border replicated; same dtype as ``img``."""
    h, w = flow.shape[:2]
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(img, gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


@dataclass
class Pair:
    """What the warping error of frames (t-1, t) needs: flow t -> t-1 and the non-occluded pixels."""

    flow: np.ndarray  # (H, W, 2) float32, t -> t-1
    mask: np.ndarray  # (H, W) bool


def make_pair(prev: np.ndarray, cur: np.ndarray) -> Pair:
    """Flow and occlusion mask for input frames ``prev`` (t-1) and ``cur`` (t), ``(H, W, 3) uint8 BGR``.

    A pixel of ``cur`` counts when its flow to ``prev`` lands inside the frame and passes Lai et al.'s
    forward-backward test ``|b + f(x+b)|^2 <= 0.01 (|b|^2 + |f(x+b)|^2) + 0.5``.
    """
    b = dis_flow(cur, prev)
    f_at = backward_warp(dis_flow(prev, cur), b)
    h, w = b.shape[:2]
    gx, gy = np.meshgrid(np.arange(w), np.arange(h))
    inside = (gx + b[..., 0] >= 0) & (gx + b[..., 0] <= w - 1) & (gy + b[..., 1] >= 0) & (gy + b[..., 1] <= h - 1)
    s = b + f_at
    ok = (s**2).sum(-1) <= 0.01 * ((b**2).sum(-1) + (f_at**2).sum(-1)) + 0.5
    return Pair(b, inside & ok)


def warp_error(prev: np.ndarray, cur: np.ndarray, pair: Pair) -> float:
    """``sum_c (cur - warp(prev))^2`` on [0, 1] colour, averaged over ``pair.mask`` (outputs, uint8 BGR)."""
    diff = cur.astype(np.float32) / 255 - backward_warp(prev, pair.flow).astype(np.float32) / 255
    return float((diff**2).sum(-1)[pair.mask].mean())


def get_photo(name: str, load_photo) -> np.ndarray:
    """A photo by name; ``NAME-flat`` is NAME flattened into large uniform regions (a black T-shirt's
    problem: texture on flat areas can only stick to the object if a guide says where it is)."""
    if not name.endswith("-flat"):
        return load_photo(name)
    img = load_photo(name[:-5])
    smooth = cv2.pyrMeanShiftFiltering(img, 21, 40)
    step = 256 // 4
    return (smooth // step * step + step // 2).astype(np.uint8)
