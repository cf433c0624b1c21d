"""Rebuild the bundled demo style: livestyle/assets/styles/demo (a synthetic-scene keyframe, its cartoon
auto-style, and a model trained on it). Usage: python calibration/make_demo_style.py [--seconds 90]"""

from __future__ import annotations

import argparse
import shutil

from livestyle.autostyle import autostyle
from livestyle.capture.synthclip import SyntheticScene
from livestyle.cli import main as cli_main
from livestyle.paths import ASSETS
from livestyle.style import StyleFolder
from livestyle.temporal import CausalDenoiser


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=90.0)
    ap.add_argument("--kind", default="cartoon")
    a = ap.parse_args()
    path = ASSETS / "styles" / "demo"
    shutil.rmtree(path, ignore_errors=True)
    style = StyleFolder(path).create()
    scene, den = SyntheticScene((640, 360)), CausalDenoiser()
    for i in range(10):  # the live key is what the causal denoiser outputs at snapshot time
        key = den(scene.frame(i / 30))
    style.snapshot(key, name="000")
    style.write_painting("000", autostyle(key, a.kind))
    cli_main(["train", str(path), "--seconds", str(a.seconds)])


if __name__ == "__main__":
    main()
