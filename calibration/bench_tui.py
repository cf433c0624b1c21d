"""What the control room costs: key-to-visible latency, and the pipeline's fps with and without the UI.

(a) While the pipeline stylizes and the trainer runs, press ``b`` (cycle the
    background: a round trip through a thread worker into the session and
    back through ``poll()``) and ``r`` (mirror the preview: UI only) with
    Pilot, and time until the changed panel is painted (its render method
    runs after the change). Prints p50/p95 ms.
(b) Stylized frames per second of the same session with the TUI running
    (headless, polling at 4 Hz and drawing the preview) and with no UI.
    Prints both and the cost in %.

Usage: ``python calibration/bench_tui.py [--seconds 10] [--width 320 --height 180]``.
The headless driver composes every frame but writes nothing to a terminal, so
(b) slightly under-counts a real terminal's cost.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from livestyle import cli
from livestyle.live.session import LiveConfig, LiveSession
from livestyle.paths import ASSETS
from livestyle.tui.app import LivestyleApp
from livestyle.tui.settings import Settings


def make_style(root: Path, iterations: int) -> Path:
    """A one-keyframe style (the astronaut photo and an OpenCV 'painting'), trained for ``iterations``."""
    style = root / "style"
    (style / "keys").mkdir(parents=True)
    (style / "styled").mkdir()
    key = cv2.resize(cv2.imread(str(ASSETS / "demo" / "astronaut.jpg")), (192, 128), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(style / "keys" / "000.png"), key)
    cv2.imwrite(str(style / "styled" / "000.png"), cv2.stylization(key, sigma_s=30, sigma_r=0.4))
    if cli.main(["train", str(style), "--iterations", str(iterations), "--no-guides"]) != 0:
        raise SystemExit("training the benchmark style failed")
    return style


def pct(xs: list[float]) -> str:
    a = np.array(xs)
    return f"p50 {np.percentile(a, 50):6.1f} ms  p95 {np.percentile(a, 95):6.1f} ms  (n={len(a)})"


def watch_paints(widget: Any, method: str, state: Callable[[], object]) -> list[tuple[float, object]]:
    """Wrap ``widget.method`` (its paint entry point) to log ``(time, state())`` at every paint."""
    log: list[tuple[float, object]] = []
    original = getattr(widget, method)

    def painted(*args: Any) -> Any:
        log.append((time.perf_counter(), state()))
        return original(*args)

    setattr(widget, method, painted)
    return log


async def first_paint(log: list[tuple[float, object]], after: float, ok: Callable[[object], bool],
                      timeout: float = 10.0) -> float:
    """Milliseconds from ``after`` to the first paint whose state satisfies ``ok``."""
    t_end = time.perf_counter() + timeout
    while time.perf_counter() < t_end:
        hit = next((t for t, st in log if t > after and ok(st)), None)
        if hit is not None:
            return 1000 * (hit - after)
        await asyncio.sleep(0.005)
    raise SystemExit("no visible reaction within 10 s")


async def key_latency(cfg: LiveConfig, presses: int) -> tuple[list[float], list[float]]:
    app = LivestyleApp(cfg, Settings(), None)
    bg_ms: list[float] = []
    mirror_ms: list[float] = []
    async with app.run_test(size=(100, 30)) as pilot:
        t0 = time.monotonic()
        while app.session is None or app.last_stats is None or app.last_stats.stylized < 5:
            await asyncio.sleep(0.05)
            if time.monotonic() - t0 > 60:
                raise SystemExit(f"session did not start: {app.history}")
        sinks, preview = app.main.query_one("#sinks"), app.main.preview
        sinks_log = watch_paints(sinks, "render_lines", lambda: str(sinks.content))
        preview_log = watch_paints(preview.picture, "render_line", lambda: preview.mirror)  # the drawn picture
        backgrounds = ["keep", "blur", "solid", "stylized"]
        for _ in range(presses):
            want = backgrounds[(backgrounds.index(app.last_stats.background) + 1) % len(backgrounds)]
            t = time.perf_counter()
            await pilot.press("b")
            bg_ms.append(await first_paint(sinks_log, t, lambda text, want=want: f"bg {want}" in str(text)))
            await asyncio.sleep(0.3)
        for _ in range(presses):
            want_m = not preview.mirror
            t = time.perf_counter()
            await pilot.press("r")
            mirror_ms.append(await first_paint(preview_log, t, lambda m, want_m=want_m: m == want_m))
            await asyncio.sleep(0.1)
        train = app.last_stats.training.get("state")
        print(f"  (training state during the run: {train}, stylized {app.last_stats.stylized_fps} fps)")
    return bg_ms, mirror_ms


def fps_without_ui(cfg: LiveConfig, warmup: float, seconds: float) -> float:
    with LiveSession(cfg) as s:
        time.sleep(warmup)
        n0, t0 = s.stats().stylized, time.perf_counter()
        time.sleep(seconds)
        return (s.stats().stylized - n0) / (time.perf_counter() - t0)


async def fps_with_ui(cfg: LiveConfig, warmup: float, seconds: float) -> float:
    app = LivestyleApp(cfg, Settings(), None)
    async with app.run_test(size=(100, 30)):
        t0 = time.monotonic()
        while app.session is None:
            await asyncio.sleep(0.05)
            if time.monotonic() - t0 > 60:
                raise SystemExit(f"session did not start: {app.history}")
        await asyncio.sleep(warmup)
        n0, t0 = app.session.stats().stylized, time.perf_counter()
        await asyncio.sleep(seconds)
        return (app.session.stats().stylized - n0) / (time.perf_counter() - t0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=10.0, help="measuring time per fps run")
    p.add_argument("--warmup", type=float, default=3.0)
    p.add_argument("--width", type=int, default=320)
    p.add_argument("--height", type=int, default=180)
    p.add_argument("--presses", type=int, default=20)
    a = p.parse_args()
    cli.quiet_native_logs()
    with tempfile.TemporaryDirectory() as tmp:
        style = make_style(Path(tmp), iterations=10)
        base = LiveConfig(style=str(style), source="synthetic", outputs="null", width=a.width, height=a.height,
                          fps=30.0, guides=False)
        print(f"{a.width}x{a.height} synthetic, preset {base.preset}")
        print("(a) key -> visible reaction, pipeline + live training running:")
        model = style / "model.safetensors"
        saved = model.read_bytes()
        model.unlink()  # no saved model: the session trains while we press keys
        bg, mirror = asyncio.run(key_latency(base, a.presses))
        print(f"  b (background, engine round trip): {pct(bg)}")
        print(f"  r (mirror preview, UI only):       {pct(mirror)}")
        model.write_bytes(saved)
        cfg = LiveConfig(**{**base.__dict__, "train": False})
        print("(b) stylized fps, trained model, no live training:")
        without = fps_without_ui(cfg, a.warmup, a.seconds)
        with_ui = asyncio.run(fps_with_ui(cfg, a.warmup, a.seconds))
        print(f"  no UI:   {without:6.2f} fps")
        print(f"  with UI: {with_ui:6.2f} fps")
        print(f"  UI cost: {100 * (without - with_ui) / without:5.1f} %")


if __name__ == "__main__":
    main()
