"""How a live style stage is put together from a ``LiveConfig``: shared by ``LiveSession`` and
``livestyle render --live`` (``live.replay``), so the offline preview of the live look runs the very
same objects the camera does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace

from ..capture import Frame
from ..errors import LivestyleError, check_range
from ..outputs import OutFrame
from ..slot import LatestSlot
from .config import LiveConfig
from .stage import StageSettings, StyleStage

GPU_PHASES = 4  # on a GPU 4 shifted passes cost ~8 ms more per 640x360 frame (H200: stylize 4.0 -> 12.0 ms, gpu_check.sh)


def live_defaults(device: str = "auto") -> dict:
    """What ``livestyle live`` uses for every option the user did not give: the choice
    ``livestyle calibrate`` saved on this machine, else the built-in ``LiveConfig`` defaults, except
    that on a GPU (``device`` resolving to CUDA) the network averages ``GPU_PHASES`` phases.

    Keys: ``width``, ``height``, ``steady``, ``carry``, ``phases``, ``render_scale``, ``preset``,
    ``precision``. An absent or unreadable calibration file gives the built-in values.
    """
    from ..calibrate import load_calibration

    base, cal = LiveConfig(), load_calibration()
    if _is_cuda(device):
        base = replace(base, phases=GPU_PHASES)
    return {"width": int(cal.get("width", base.width)), "height": int(cal.get("height", base.height)),
            "steady": float(cal.get("steady", base.steady)), "carry": float(cal.get("carry", base.carry)),
            "phases": int(cal.get("phases", base.phases)),
            "render_scale": float(cal.get("render_scale", base.render_scale)),
            "preset": str(cal.get("preset", base.preset)), "precision": str(cal.get("precision", base.precision))}


def _is_cuda(device: str) -> bool:
    from ..device import pick

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
SEGMENT_EVERY_RANGE = (1, 1000)


def check_live_options(steady: float | None = None, carry: float | None = None, phases: int | None = None,
                       render_scale: float | None = None, segment_every: int | None = None,
                       width: int | None = None, height: int | None = None, fps: float | None = None,
                       prefix: str = "--") -> None:
    """Raise ``LivestyleError`` (one line, with the allowed range) for a live option out of range; None = not given.

    ``prefix`` names the options in the message: ``"--"`` for flags (``--steady``), or e.g. ``"FILE: key "``
    for a config file's keys (``FILE: key steady``); underscores become dashes only for flags."""
    from ..infer import PHASE_CHOICES

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


def stage_settings(cfg: LiveConfig) -> StageSettings:
    """The per-frame settings a session starts with (the UI may change them later)."""
    return StageSettings(masked=cfg.masked, background=cfg.background, steady=cfg.steady, carry=cfg.carry)


def make_segmenter(cfg: LiveConfig, work_size: tuple[int, int]):
    """The person segmenter for frames of ``work_size`` ``(w, h)`` (mediapipe; loads its model)."""
    from ..segment import Segmenter, default_model

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
        from ..guides import STEADY_FLOW, CausalDenoiser

        denoiser = CausalDenoiser(preset=STEADY_FLOW[0], scale=STEADY_FLOW[1])
    return StyleStage(inp if inp is not None else LatestSlot(), out if out is not None else LatestSlot(),
                      stop if stop is not None else threading.Event(), settings, denoiser, segmenter,
                      on_error=on_error, threads=threads, scale=cfg.render_scale)
