"""``livestyle doctor``: check this machine for everything livestyle uses, and print the fix for each problem."""

from __future__ import annotations

import glob
import platform
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from livestyle.errors import LivestyleError


def _camera() -> tuple[bool, str]:
    import cv2

    devices = sorted(glob.glob("/dev/video*")) if sys.platform.startswith("linux") else []
    if sys.platform.startswith("linux") and not devices:
        return False, "no camera (/dev/video* is empty); plug one in, or use --source synthetic / a video file"
    cap = cv2.VideoCapture(0)
    try:
        ok = cap.isOpened() and cap.read()[0]
    finally:
        cap.release()
    if ok:
        return True, "camera 0 delivers frames" + (f" ({', '.join(devices)})" if devices else "")
    hint = f" (devices: {', '.join(devices)}; one may be the virtual camera)" if devices else ""
    return False, (f"no camera delivers frames{hint}; plug one in, close other apps using it, "
                   "or use --source synthetic / a video file")


def _vcam() -> tuple[bool, str]:
    from livestyle.outputs import driver_fix
    from livestyle.outputs.vcam import vcam_available

    why = vcam_available()
    if why is None:
        return True, "virtual camera opens"
    return False, f"virtual camera unavailable ({why}); fix: {driver_fix()}"


def _gpu() -> tuple[bool, str]:
    import torch

    if torch.cuda.is_available():
        return True, f"CUDA GPU: {torch.cuda.get_device_name(0)} (torch {torch.__version__})"
    if shutil.which("nvidia-smi"):
        return False, ("an NVIDIA GPU is present but this torch has no CUDA "
                       f"({torch.__version__}); reinstall torch with CUDA support from pytorch.org")
    return True, "no GPU: the CPU path is used"


def _cpu() -> tuple[bool, str]:
    import torch

    from livestyle.engine.device import cpu_has_fast_bf16

    cap = torch.backends.cpu.get_cpu_capability()
    if cpu_has_fast_bf16():
        return True, f"CPU {cap} with native bf16: bf16 autocast + channels_last"
    return True, f"CPU {cap} without native bf16: fast fp32 + channels_last (bf16 would be emulated, slower)"


def _runtime() -> tuple[bool, str]:
    """The network's CPU runtime: OpenVINO (a dependency on x86-64) for bf16 and the int8 network."""
    from livestyle.engine import int8, runtime

    x86 = platform.machine().lower() in ("x86_64", "amd64") and platform.system() != "Darwin"  # where it is a dependency
    if not runtime.openvino_available():
        if x86:
            return False, "OpenVINO is missing: the network runs in PyTorch, slower; fix: pip install openvino onnx"
        return True, "PyTorch runs the network (OpenVINO is not measured here: pip install 'livestyle[fast-cpu]' to try it)"
    import openvino

    bits = 8 if int8.cpu_has_vnni() else 7
    return True, (f"OpenVINO {openvino.__version__.split('-')[0]}: the network in int8 once its weights settle "
                  f"({bits}-bit weights{'' if bits == 8 else ': no VNNI'}; --no-int8 turns it off)")


SHIPPED_FILES = (
    "models/selfie_segmentation.tflite", "models/selfie_segmentation_landscape.tflite", "priors/fast.safetensors",
    "styles/demo/keys/000.png", "styles/demo/styled/000.png", "styles/demo/model.safetensors", "demo/astronaut.jpg",
)
"""Files every install must have (``livestyle/assets``): segmentation models, prior, demo style, demo photo."""


def _install() -> tuple[bool, str]:
    from livestyle import __file__ as package_file
    from livestyle.paths import ASSETS

    missing = [rel for rel in SHIPPED_FILES if not (ASSETS / rel).is_file()]
    if missing:
        return False, (f"this install of livestyle ({Path(package_file).parent}) lacks {len(missing)} of its "
                       f"shipped files ({', '.join(missing)} in {ASSETS}); reinstall it: "
                       "pip install --force-reinstall livestyle, or pip install . from the repository")
    return True, f"shipped models, prior and demo style present ({ASSETS})"


def _segmenter() -> tuple[bool, str]:
    from livestyle.segment import Segmenter

    seg = Segmenter()
    try:
        t = time.perf_counter()
        m = seg(np.zeros((360, 640, 3), np.uint8))
        ms = 1000 * (time.perf_counter() - t)
    finally:
        seg.close()
    return m.shape == (360, 640), f"segmentation model loads and runs ({ms:.0f} ms first frame)"


def _prior() -> tuple[bool, str]:
    from livestyle.engine.model import DEFAULT_PRESET, PRESETS
    from livestyle.engine.prior import prior_path, prior_state
    from livestyle.engine.train import TrainConfig

    path = prior_path(DEFAULT_PRESET)
    if not path.is_file():
        return False, (f"{path} is missing from this install: training would start from random weights and "
                       "need more seconds; reinstall livestyle (pip install --force-reinstall livestyle)")
    if prior_state(DEFAULT_PRESET, PRESETS[DEFAULT_PRESET].with_inputs(3 + 3 * len(TrainConfig().guides))) is None:
        return False, f"{path} was made for another version of the {DEFAULT_PRESET!r} preset; reinstall livestyle"
    return True, f"starting weights for {DEFAULT_PRESET!r}: {path}"


def _display() -> tuple[bool, str]:
    from livestyle.outputs import has_display

    if has_display():
        return True, "display available for --output preview"
    return False, "no display: --output preview will not open (the TUI, vcam and record still work)"


def _osc() -> tuple[bool, str]:
    """An optional extra: not installed is not a problem, only said (with the install line)."""
    try:
        import pythonosc  # noqa: F401  (presence only)
    except ImportError:
        return True, "not installed (optional, for --osc control): pip install 'livestyle[osc]'"
    from importlib.metadata import version

    return True, f"python-osc {version('python-osc')} installed: --osc PORT works (docs/control.md)"


def _midi() -> tuple[bool, str]:
    """An optional extra: not installed is not a problem; installed without a MIDI system here is."""
    try:
        import mido  # noqa: F401  (presence only)
    except ImportError:
        return True, "not installed (optional, for --midi control): pip install 'livestyle[midi]'"
    from livestyle.control.midi import input_names

    names = input_names()  # LivestyleError (no backend, no ALSA sequencer): reported with its fix
    return True, (f"mido installed; MIDI inputs: {', '.join(names)}" if names else
                  "mido installed; no MIDI input port now (plug the controller in before `--midi`)")


def _ndi() -> tuple[bool, str]:
    """An optional extra: not installed is not a problem; installed with a runtime that does not start is."""
    from importlib.util import find_spec

    from livestyle.outputs.ndi import ndi_available

    if find_spec("NDIlib") is None:
        return True, "not installed (optional, for --output ndi / --source ndi:NAME): pip install 'livestyle[ndi]'"
    return ndi_available()


def _share(kind: str, system: str, module: str) -> tuple[bool, str]:
    """Spout (Windows) and Syphon (macOS): said, never a problem on another OS or when not installed."""
    from importlib.util import find_spec

    if platform.system() != system:
        return True, f"not on {platform.system()} ({kind} exists on {system.replace('Darwin', 'macOS')} only; --output ndi reaches other machines)"
    if find_spec(module) is None:
        return True, f"not installed (optional, for --output {kind}[:NAME]): pip install 'livestyle[{kind}]'"
    return True, f"{module} installed: --output {kind}[:NAME] (docs/outputs.md)"


def _window() -> tuple[bool, str]:
    """The full-screen output window: a display, and (for window:N) the displays screeninfo sees."""
    from importlib.util import find_spec

    from livestyle.outputs import has_display

    if not has_display():
        return True, "no display: --output window will not open here (fine on a headless machine)"
    if find_spec("screeninfo") is None:
        return True, ("--output window works on display 0; for window:N install screeninfo: "
                      "pip install 'livestyle[window]'")
    from livestyle.outputs.window import list_monitors

    monitors = list_monitors()
    listing = ", ".join(f"{i}: {m.width}x{m.height}" for i, m in enumerate(monitors))
    return True, f"--output window:N on displays {listing}"


CHECKS: list[tuple[str, Callable[[], tuple[bool, str]]]] = [
    ("install", _install), ("camera", _camera), ("virtual camera", _vcam), ("gpu", _gpu), ("cpu", _cpu), ("runtime", _runtime),
    ("segmentation", _segmenter), ("prior", _prior), ("display", _display), ("osc", _osc), ("midi", _midi),
    ("ndi", _ndi), ("spout", lambda: _share("spout", "Windows", "SpoutGL")),
    ("syphon", lambda: _share("syphon", "Darwin", "syphon")), ("window", _window),
]


def run(_args=None) -> int:
    print(f"livestyle doctor on {platform.system()} {platform.machine()}, Python {platform.python_version()}")
    problems = 0
    for name, check in CHECKS:
        try:
            ok, msg = check()
        except LivestyleError as e:  # says what is wrong and the fix already
            ok, msg = False, str(e)
        except Exception as e:  # a broken check is itself a finding
            ok, msg = False, f"check failed: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
        problems += not ok
        print(f"  [{'ok' if ok else '!!'}] {name:15s} {msg}")
    print("no problems found" if not problems else f"{problems} problem(s): see the fixes above")
    return 0 if not problems else 1
