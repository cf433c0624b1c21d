"""Shared fixtures: tiny style folders and clips made from a real photo."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from livestyle.cli import main as cli_main
from livestyle.engine import checkpoint
from livestyle.paths import ASSETS

from .test_outputs import memcam  # noqa: F401  (the in-memory virtual camera fixture, shared)

torch.set_num_threads(2)
# PyTorch runs the network in every test unless a test picks a backend (tests/test_runtime.py): with the
# fast-cpu extra installed, "auto" would otherwise switch to OpenVINO once it is ready, mid-test.
os.environ.setdefault("LIVESTYLE_BACKEND", "torch")


@pytest.fixture(autouse=True)
def _own_config_dir(tmp_path_factory, monkeypatch):
    """Every test gets an empty config folder: a developer's own calibration or settings never leak in."""
    monkeypatch.setenv("LIVESTYLE_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))


def astronaut(size: tuple[int, int] = (96, 64)) -> np.ndarray:
    img = cv2.imread(str(ASSETS / "demo" / "astronaut.jpg"))
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA)


def paint(img: np.ndarray) -> np.ndarray:
    """A deterministic 'painting': OpenCV's stylization filter."""
    return cv2.stylization(img, sigma_s=30, sigma_r=0.4)


@pytest.fixture
def tiny_style(tmp_path: Path) -> Path:
    style = tmp_path / "style"
    (style / "keys").mkdir(parents=True)
    (style / "styled").mkdir()
    key = astronaut()
    cv2.imwrite(str(style / "keys" / "000.png"), key)
    cv2.imwrite(str(style / "styled" / "000.png"), paint(key))
    return style


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A tiny style trained for two steps without guides (render needs no keyframe index then); one per module."""
    style = tmp_path_factory.mktemp("trained") / "style"
    (style / "keys").mkdir(parents=True)
    (style / "styled").mkdir()
    key = astronaut()
    cv2.imwrite(str(style / "keys" / "000.png"), key)
    cv2.imwrite(str(style / "styled" / "000.png"), paint(key))
    assert cli_main(["train", str(style), "--iterations", "2", "--no-guides"]) == 0
    return style


@pytest.fixture
def tiny_clip(tmp_path: Path) -> Path:
    """Five frames of a slowly panning photo, as a folder of PNGs named 000..004."""
    clip = tmp_path / "clip"
    clip.mkdir()
    big = astronaut((128, 96))
    for i in range(5):
        cv2.imwrite(str(clip / f"{i:03d}.png"), big[8:72, 4 + 2 * i:100 + 2 * i])
    return clip


@pytest.fixture(scope="module")
def two_styles(tmp_path_factory):  # the control and OSC tests
    """Two style folders with models that draw clearly different pictures (b: a's model, output inverted)."""
    import cv2

    root = tmp_path_factory.mktemp("styles")
    a = root / "a"
    (a / "keys").mkdir(parents=True)
    (a / "styled").mkdir()
    key = astronaut()
    cv2.imwrite(str(a / "keys" / "000.png"), key)
    cv2.imwrite(str(a / "styled" / "000.png"), paint(key))
    assert cli_main(["train", str(a), "--iterations", "3"]) == 0
    b = root / "b"
    shutil.copytree(a, b)
    model, info = checkpoint.load(b / "model.safetensors" if (b / "model.safetensors").exists() else
                                  next(b.glob("*.safetensors")))
    with torch.no_grad():
        last = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)][-1]
        last.weight.mul_(-1.0)
        last.bias.fill_(2.0)  # tanh(~2) ~ white: a very different picture
    checkpoint.save(next(b.glob("*.safetensors")), model, info)
    return root, a, b


