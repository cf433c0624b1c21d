"""The README's picture: real output of livestyle, made from what ships with it.

Top row: the snapshot (the demo style's keyframe) and what the built-in synthetic camera shows
later; bottom row: the painting of that snapshot (the demo style's cartoon auto-style) and the
live output for those frames. The frames go, every one and in order, through the live per-frame
path (``LiveReplay``, as ``livestyle render --live``) with live's defaults on a CPU (keyframe carry
1, output stabiliser 0.7, one network pass), on the demo style's shipped model: nothing is
trained here, so the picture is the same on every machine up to the CPU's rounding.

Usage: python calibration/make_readme_picture.py [--out docs/images/livestyle.png] [--times 3,9,15]
Writes a palette PNG (256 colours), small enough to commit (~180 KB at the default size; ~1 min on a 2-core CPU).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from livestyle.capture.synthclip import SyntheticScene  # noqa: E402
from livestyle.files.imageio import read_image  # noqa: E402
from livestyle.live.config import LiveConfig  # noqa: E402
from livestyle.live.replay import LiveReplay  # noqa: E402
from livestyle.paths import asset  # noqa: E402

SIZE = (640, 360)  # the live default frame size
FPS = 30.0


def label(img: np.ndarray, text: str) -> np.ndarray:
    """``img`` ``(H, W, 3) uint8 BGR`` with ``text`` on a dark band at its top left."""
    out = img.copy()
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)
    cv2.rectangle(out, (0, 0), (tw + 10, th + base + 8), (20, 20, 20), -1)
    cv2.putText(out, text, (5, th + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def live_outputs(style: Path, times: list[float]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The synthetic camera's frames at ``times`` (s) and the live output for them, every frame
    from 0 to the last time run through the live path in order."""
    scene = SyntheticScene(SIZE)
    cfg = LiveConfig(device="cpu", phases=1)  # live's CPU defaults, whatever machine makes the picture
    wanted = {round(t * FPS): t for t in times}
    inputs, outputs = [], []
    with LiveReplay.from_style(style, cfg, SIZE) as replay:
        for i in range(max(wanted) + 1):
            frame = scene.frame(i / FPS)
            out = replay.process(frame)
            if i in wanted:
                inputs.append(frame)
                outputs.append(out)
    return inputs, outputs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="docs/images/livestyle.png")
    ap.add_argument("--times", default="3,9,15", help="seconds of the synthetic camera to show, comma-separated")
    ap.add_argument("--panel", type=int, default=320, help="width of each picture in the grid (px)")
    a = ap.parse_args()
    times = [float(t) for t in a.times.split(",")]
    style = asset("styles/demo")
    key = read_image(style / "keys" / "000.png")
    painted = read_image(style / "styled" / "000.png")
    inputs, outputs = live_outputs(style, times)
    pw = a.panel
    ph = round(pw * SIZE[1] / SIZE[0])

    def fit(img: np.ndarray) -> np.ndarray:
        return cv2.resize(img, (pw, ph), interpolation=cv2.INTER_AREA)

    top = [label(fit(key), "snapshot")] + [label(fit(f), f"camera, {t:g} s") for f, t in zip(inputs, times, strict=True)]
    bottom = [label(fit(painted), "its painting")] + [label(fit(o), f"live output, {t:g} s")
                                                      for o, t in zip(outputs, times, strict=True)]
    gap = 4
    row = lambda panels: np.concatenate(  # noqa: E731
        [np.pad(p, ((0, 0), (0, gap if i < len(panels) - 1 else 0), (0, 0)), constant_values=255)
         for i, p in enumerate(panels)], axis=1)
    grid = np.concatenate([row(top), np.full((gap, row(top).shape[1], 3), 255, np.uint8), row(bottom)], axis=0)

    from PIL import Image  # Pillow comes with textual-image, a livestyle dependency

    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rgb = Image.fromarray(np.ascontiguousarray(grid[:, :, ::-1]))  # BGR -> RGB
    tmp = out.with_name(out.name + ".tmp")
    rgb.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        tmp, format="PNG", optimize=True)
    tmp.replace(out)
    print(f"{out}: {grid.shape[1]}x{grid.shape[0]}, {out.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
