"""A non-editable install works: the wheel and the sdist hold the shipped files, and livestyle
installed from the wheel into a fresh venv runs ``doctor`` and a stylized ``demo`` from another folder.

The fresh venv gets the wheel with ``--no-deps`` (offline, no torch download) and sees the
current environment's packages (torch, OpenCV, mediapipe, ...) through a ``.pth`` file: a
``.pth`` line only adds a folder to ``sys.path``, so the editable livestyle installed there
(an import hook run from its own ``.pth``) stays off, and ``import livestyle`` finds the wheel's copy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from livestyle.cli.doctor import SHIPPED_FILES

REPO = Path(__file__).resolve().parent.parent
SHIPPED = [f"livestyle/assets/{rel}" for rel in SHIPPED_FILES] + [
    "livestyle/assets/models/LICENSE.mediapipe", "livestyle/tui/livestyle.tcss"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """A copy of the project's source (what an sdist or a fresh clone holds), so builds leave the
    working tree as it was."""
    dst = tmp_path_factory.mktemp("src") / "livestyle-src"
    dst.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, dst / name)
    shutil.copytree(REPO / "livestyle", dst / "livestyle", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dst


@pytest.fixture(scope="module")
def wheel(source, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    p = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                        "-q", "-w", str(out), str(source)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    return next(out.glob("livestyle-*.whl"))


def test_the_wheel_holds_the_models_the_prior_and_the_demo_style_and_photo(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert not [f for f in SHIPPED if f not in names]
    assert not [n for n in names if n.startswith("assets/")]  # inside the package, not a top-level folder


def test_the_sdist_holds_them_too(source, tmp_path):
    code = f"from setuptools import build_meta; print(build_meta.build_sdist({str(tmp_path)!r}))"
    p = subprocess.run([sys.executable, "-c", code], cwd=source, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    with tarfile.open(next(tmp_path.glob("livestyle-*.tar.gz"))) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    assert not [f for f in SHIPPED if f not in names]


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed non-editable; returns its ``bin`` folder."""
    env_dir = tmp_path_factory.mktemp("venv") / "env"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    ours = [p for p in sys.path if p.endswith(("site-packages", "dist-packages")) and Path(p).is_dir()]
    (Path(site) / "_livestyle_test_deps.pth").write_text("\n".join(ours) + "\n")
    p = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index",
                        "-q", str(wheel)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    where = subprocess.run([str(py), "-c", "import livestyle; print(livestyle.__file__)"], capture_output=True,
                           text=True, cwd=tmp_path_factory.mktemp("elsewhere"))
    assert where.stdout.strip().startswith(site), where.stdout + where.stderr  # the wheel's copy, not the repo
    return env_dir / "bin"


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


def test_doctor_from_another_folder_finds_every_shipped_file(installed, tmp_path):
    p = subprocess.run([str(installed / "livestyle"), "doctor"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=300, env=_env())
    lines = {ln.split("]", 1)[1].split()[0]: ln for ln in p.stdout.splitlines() if ln.strip().startswith("[")}
    for check in ("install", "segmentation", "prior"):
        assert lines[check].strip().startswith("[ok]"), p.stdout + p.stderr
    assert str(REPO / "livestyle") not in p.stdout  # the installed files, not the working tree's
    assert "Traceback" not in p.stderr


def _frames(path: Path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    out = []
    while (f := cap.read())[0]:
        out.append(f[1].astype(np.float32))
    cap.release()
    return out


def test_the_demo_from_another_folder_writes_a_stylized_video(installed, tmp_path):
    size = ["--width", "320", "--height", "192", "--max-frames", "30"]
    demo = subprocess.run([str(installed / "livestyle"), "demo", "--output", "record:demo.mp4", *size],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300, env=_env())
    assert demo.returncode == 0, demo.stderr
    assert "Traceback" not in demo.stderr and "error" not in demo.stderr.lower(), demo.stderr
    assert "loaded " in demo.stderr and "model.safetensors" in demo.stderr, demo.stderr  # the demo style's model
    raw = subprocess.run([str(installed / "livestyle"), "live", "--source", "synthetic", "--output",
                          "record:raw.mp4", "--no-train", *size], cwd=tmp_path, capture_output=True, text=True,
                         timeout=300, env=_env())
    assert raw.returncode == 0, raw.stderr
    stylized, plain = _frames(tmp_path / "demo.mp4"), _frames(tmp_path / "raw.mp4")
    assert len(stylized) >= 30 and len(plain) >= 30
    # the same synthetic scene, unstylized: the demo's frames must differ from it far more than
    # consecutive unstylized frames differ from each other (motion alone)
    motion = np.mean([np.abs(a - b).mean() for a, b in zip(plain[:-1], plain[1:], strict=True)])
    styled = np.mean([np.abs(a - b).mean() for a, b in zip(stylized, plain, strict=False)])
    assert styled > 3 * motion + 5, (styled, motion)
