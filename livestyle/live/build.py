"""How a live style stage is put together from a ``LiveConfig`` and this machine's live defaults
(``calibration.toml``, else built-ins): shared by ``LiveSession`` and
``livestyle render --live`` (``live.replay``), so the offline preview of the live look runs the very
same objects the camera does.
"""

from __future__ import annotations

import sys
import threading
import tomllib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from livestyle.capture import Frame
from livestyle.errors import LivestyleError, check_range
from livestyle.live.config import KEY_FLOWS, LiveConfig
from livestyle.live.slot import LatestSlot
from livestyle.live.stage import StageSettings, StyleStage
from livestyle.outputs import OutFrame
from livestyle.paths import config_dir

GPU_PHASES = 4  # on a GPU 4 shifted passes cost ~8 ms more per 640x360 frame (H200: stylize 4.0 -> 12.0 ms, gpu_check.sh)


def live_defaults(device: str = "auto") -> dict:
    """What ``livestyle live`` uses for every option the user did not give: the choice
    ``livestyle calibrate`` saved on this machine, else the built-in ``LiveConfig`` defaults, except
    that on a GPU (``device`` resolving to CUDA) the network averages ``GPU_PHASES`` phases.

    Keys: ``width``, ``height``, ``steady``, ``carry``, ``phases``, ``render_scale``, ``net_every``, ``key_flow``, ``preset``,
    ``precision``, ``render_scale_size`` (the capture size the render scale was calibrated at, or None). An
    absent or unreadable calibration file gives the built-in values.
    """
    base, cal = LiveConfig(), load_calibration()
    if _is_cuda(device):
        base = replace(base, phases=GPU_PHASES)
    return {"width": int(cal.get("width", base.width)), "height": int(cal.get("height", base.height)),
            "steady": float(cal.get("steady", base.steady)), "carry": float(cal.get("carry", base.carry)),
            "phases": int(cal.get("phases", base.phases)),
            "render_scale": float(cal.get("render_scale", base.render_scale)),
            "net_every": int(cal.get("net_every", base.net_every)),
            "key_flow": str(cal.get("key_flow", base.key_flow)),
            "preset": str(cal.get("preset", base.preset)), "precision": str(cal.get("precision", base.precision)),
            "render_scale_size": (int(cal["width"]), int(cal["height"])) if "width" in cal and "height" in cal
            and "render_scale" in cal else None}


def fitted_note(before: LiveConfig, after: LiveConfig, size: tuple[int, int]) -> str | None:
    """The line that says a calibrated render scale was fitted to ``size`` (None when it was not changed)."""
    ref = before.render_scale_size
    if ref is None or after.render_scale == before.render_scale:
        return None
    return (f"render scale {after.render_scale:g} at {size[0]}x{size[1]} (livestyle calibrate chose "
            f"{before.render_scale:g} at {ref[0]}x{ref[1]}: the same work size)")


def fit_render_scale(cfg: LiveConfig, size: tuple[int, int]) -> LiveConfig:
    """``cfg`` for frames of ``size`` ``(w, h)``: a render scale calibrated at another capture size
    (``cfg.render_scale_size``) becomes the one that keeps the work size that was measured (calibrated 0.5 at
    1280x720 is 1 at 640x360, 0.33 at 1920x1080), within ``RENDER_SCALE_RANGE``; else ``cfg`` as it is."""
    ref = cfg.render_scale_size
    if ref is None or tuple(size) == tuple(ref):
        return replace(cfg, render_scale_size=None)
    scale = cfg.render_scale * ((ref[0] * ref[1]) / max(1, size[0] * size[1])) ** 0.5
    scale = round(min(RENDER_SCALE_RANGE[1], max(RENDER_SCALE_RANGE[0], scale)), 2)
    return replace(cfg, render_scale=scale, render_scale_size=None)


def _is_cuda(device: str) -> bool:
    from livestyle.engine.device import pick

    try:
        return pick(device).device.type == "cuda"
    except LivestyleError:  # a bad --device is reported where the session picks it
        return False


# Allowed ranges of the live options, shared by the flags, ``calibration.toml`` and ``settings.toml``.
WIDTH_RANGE = (32, 7680)  # below 32 px nothing is left to stylize; 7680 = 8K
HEIGHT_RANGE = (32, 4320)
FPS_RANGE = (1.0, 240.0)
STEADY_RANGE = (0.0, 0.95)  # 1 would freeze the picture
CARRY_RANGE = (0.0, 1.0)
RENDER_SCALE_RANGE = (0.25, 1.0)
NET_EVERY_RANGE = (1, 4)
SEGMENT_EVERY_RANGE = (1, 1000)


def check_live_options(steady: float | None = None, carry: float | None = None, phases: int | None = None,
                       render_scale: float | None = None, segment_every: int | None = None,
                       width: int | None = None, height: int | None = None, fps: float | None = None,
                       prefix: str = "--", net_every: int | None = None, key_flow: str | None = None) -> None:
    """Raise ``LivestyleError`` (one line, with the allowed range) for a live option out of range; None = not given.

    ``prefix`` names the options in the message: ``"--"`` for flags (``--steady``), or e.g. ``"FILE: key "``
    for a config file's keys (``FILE: key steady``); underscores become dashes only for flags."""
    from livestyle.engine.infer import PHASE_CHOICES

    def name(key: str) -> str:
        return prefix + (key.replace("_", "-") if prefix == "--" else key)

    check_range(name("width"), width, *WIDTH_RANGE, integer=True)
    check_range(name("height"), height, *HEIGHT_RANGE, integer=True)
    check_range(name("fps"), fps, *FPS_RANGE)
    check_range(name("segment_every"), segment_every, *SEGMENT_EVERY_RANGE, integer=True)
    check_range(name("steady"), steady, *STEADY_RANGE)
    check_range(name("carry"), carry, *CARRY_RANGE)
    if phases is not None and (isinstance(phases, bool) or phases not in PHASE_CHOICES):
        raise LivestyleError(f"{name('phases')} must be one of {', '.join(map(str, PHASE_CHOICES))}, got {phases!r}")
    check_range(name("render_scale"), render_scale, *RENDER_SCALE_RANGE)
    check_range(name("net_every"), net_every, *NET_EVERY_RANGE, integer=True)
    if key_flow is not None and key_flow not in KEY_FLOWS:
        raise LivestyleError(f"{name('key_flow')} must be one of {', '.join(KEY_FLOWS)}, got {key_flow!r}")


def stage_settings(cfg: LiveConfig) -> StageSettings:
    """The per-frame settings a session starts with (the UI may change them later)."""
    return StageSettings(masked=cfg.masked, background=cfg.background, steady=cfg.steady, carry=cfg.carry,
                         strength=cfg.strength, transition=cfg.transition)


def make_segmenter(cfg: LiveConfig, work_size: tuple[int, int]):
    """The person segmenter for frames of ``work_size`` ``(w, h)`` (mediapipe; loads its model)."""
    from livestyle.segment import Segmenter, default_model

    model = cfg.segment_model or default_model(*work_size)
    return Segmenter(model_path=model, every=cfg.segment_every)


def make_stage(cfg: LiveConfig, settings: StageSettings, segmenter=None,
               inp: LatestSlot[Frame] | None = None, out: LatestSlot[OutFrame] | None = None,
               stop: threading.Event | None = None, on_error: Callable[[str], None] | None = None,
               threads: int | None = None) -> StyleStage:
    """The style stage of ``cfg``: causal denoiser (if on), ``segmenter``, render scale.

    Slots and stop event are only used when the stage runs as threads (``start()``); for
    ``StyleStage.process`` (one frame at a time, in the caller's thread) they may be omitted.
    """
    denoiser = None
    if cfg.denoise:
        from livestyle.temporal import STEADY_FLOW, CausalDenoiser

        denoiser = CausalDenoiser(preset=STEADY_FLOW[0], scale=STEADY_FLOW[1])
    return StyleStage(inp if inp is not None else LatestSlot(), out if out is not None else LatestSlot(),
                      stop if stop is not None else threading.Event(), settings, denoiser, segmenter,
                      on_error=on_error, threads=threads, scale=cfg.render_scale, net_every=cfg.net_every)


def calibration_path() -> Path:
    """``calibration.toml`` in the config folder: ``livestyle calibrate`` writes it, ``live_defaults`` reads it."""
    return config_dir() / "calibration.toml"


# The keys of ``calibration.toml``'s ``[live]`` table and their types (``run`` writes them all).
CALIBRATION_KEYS: dict[str, type] = {"preset": str, "width": int, "height": int, "render_scale": float,
                                     "precision": str, "steady": float, "carry": float, "phases": int, "net_every": int,
                                     "key_flow": str,
                                     "measured_fps": float, "target_fps": float}


def load_calibration() -> dict:
    """The saved choice (``preset``, ``width``, ``height``, ``render_scale``, ``precision``, ``steady``, ``carry``,
    ``phases``, ``net_every``, ``key_flow``, ``measured_fps``, ``target_fps``), or {} if there is none (a folder of
    that name: with a warning line).

    A file that is not valid TOML, has an unknown table or key, or a value of the wrong type or out of range
    is a ``LivestyleError`` naming the file and the key (not ignored: these values choose what ``live``, the
    TUI and ``render --live`` do, so a silent fallback would change the picture without a word; the file is
    written by ``livestyle calibrate``, which can always write it again)."""
    p = calibration_path()
    if p.is_dir():  # no calibration can be in it (and read_text would fail): say so, and go on as with none
        print(f"livestyle: warning: {p}: a folder, not a calibration file; live uses the built-in defaults "
              "(remove the folder, then run `livestyle calibrate`)", file=sys.stderr)
        return {}
    if not p.is_file():
        return {}
    fix = "run `livestyle calibrate` again or delete the file"
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise LivestyleError(f"{p}: cannot read the calibration ({e}); {fix}") from None
    except tomllib.TOMLDecodeError as e:
        raise LivestyleError(f"{p}: not valid TOML ({e}); {fix}") from None
    for table in data:
        if table != "live":
            raise LivestyleError(f"{p}: unknown table or key {table!r} (only [live] is read); {fix}")
    live = data.get("live", {})
    if not isinstance(live, dict):
        raise LivestyleError(f"{p}: 'live' must be a table ([live]); {fix}")
    out: dict = {}
    for key, value in live.items():
        want = CALIBRATION_KEYS.get(key)
        if want is None:
            raise LivestyleError(f"{p}: unknown key {key!r} in [live]; valid keys: {', '.join(CALIBRATION_KEYS)}")
        ok = (isinstance(value, (int, float)) if want is float else isinstance(value, want)) and not isinstance(value, bool)
        if not ok:
            raise LivestyleError(f"{p}: key {key!r} must be a{'n' if want is int else ''} {want.__name__}, "
                                 f"got {value!r}; {fix}")
        out[key] = float(value) if want is float else value
    _check_calibration(p, out, fix)
    return out


def _check_calibration(p: Path, cal: dict, fix: str) -> None:
    from livestyle.engine.device import PRECISIONS
    from livestyle.engine.model import PRESETS

    try:
        check_live_options(cal.get("steady"), cal.get("carry"), cal.get("phases"), cal.get("render_scale"),
                           width=cal.get("width"), height=cal.get("height"), prefix=f"{p}: key ",
                           net_every=cal.get("net_every"), key_flow=cal.get("key_flow"))
        check_range(f"{p}: key target_fps", cal.get("target_fps"), *FPS_RANGE)
        check_range(f"{p}: key measured_fps", cal.get("measured_fps"), 0, None)
    except LivestyleError as e:
        raise LivestyleError(f"{e}; {fix}") from None
    if "preset" in cal and cal["preset"] not in PRESETS:
        raise LivestyleError(f"{p}: key 'preset' must be one of {', '.join(PRESETS)}, got {cal['preset']!r}; {fix}")
    if "precision" in cal and cal["precision"] not in PRECISIONS:
        raise LivestyleError(f"{p}: key 'precision' must be one of {', '.join(PRECISIONS)}, "
                             f"got {cal['precision']!r}; {fix}")
