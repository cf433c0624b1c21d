"""``livestyle render STYLE INPUT OUTPUT [--live]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from livestyle.engine.infer import PHASES
from livestyle.errors import LivestyleError, check_range
from livestyle.live.composite import BACKGROUNDS
from livestyle.live.config import INT8_HELP, KEY_FLOW_HELP, KEY_FLOWS, NET_EVERY_HELP
from livestyle.render import check_output_not_in_style, render
from livestyle.temporal.carry import CARRY
from livestyle.temporal.denoise import STEADY

MAX_BATCH = 64  # a sanity bound: frames per network call beyond a few only cost memory
LIVE_ONLY = ("masked", "background", "render_scale", "net_every", "key_flow", "int8", "segment_every", "segment_model",
             "strength")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("style", help="trained style folder; a keyframe named by a frame index of the input (012.png) "
                   "is that frame, any other (a live snapshot's time name) is placed on the frame most like it")
    p.add_argument("input", help="video file or folder of frames")
    p.add_argument("output", help="folder for PNGs (named like the input frames) or a video file")
    p.add_argument("--live", action="store_true",
                   help="run every frame, in order, through the per-frame path of `livestyle live` (causal, "
                        "with live's options and, where not given, the defaults live uses on this machine): "
                        "what the live output will look like on this clip")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda[:N] (default auto: CUDA where available, else the CPU)")
    p.add_argument("--precision", default=None, help="auto | fp32 | bf16 | fp16 (default: auto; with --live, "
                   "as live: calibrated, else auto)")
    p.add_argument("--batch", type=int, default=4, help=f"frames per network call, 1-{MAX_BATCH} (not with --live)")
    p.add_argument("--denoise", action=argparse.BooleanOptionalAction, default=None,
                   help="temporal bilateral denoising along optical flow (default: as trained; with --live the "
                        "causal live denoiser, as live: off)")
    p.add_argument("--steady", type=float, default=None, metavar="S",
                   help=f"smooth the output along optical flow against flicker, 0..0.95 (0 = off; default {STEADY}; "
                        "with --live, as live)")
    p.add_argument("--carry", type=float, default=None, metavar="C",
                   help="blend in the painting of the nearest keyframe, carried by optical flow, where the frame "
                        f"shows what it showed, 0..1 (0 = off; default {CARRY:g}; with --live, as live)")
    p.add_argument("--phases", type=int, default=None, metavar="N",
                   help="average the network over N shifted copies of each frame, 1, 2 or 4: steadier invented "
                        f"texture, N times the network's time (default {PHASES}; with --live, as live)")
    live = p.add_argument_group("live options (with --live)")
    live.add_argument("--masked", action="store_true", help="stylize only the person (mediapipe segmentation)")
    live.add_argument("--background", choices=BACKGROUNDS, default=None, help="background in masked mode")
    live.add_argument("--render-scale", type=float, default=None,
                      help="run the network on the frame resized by this (0.25-1; default as live)")
    live.add_argument("--net-every", type=int, default=None, metavar="N", help=NET_EVERY_HELP + " (default as live)")
    live.add_argument("--key-flow", choices=KEY_FLOWS, default=None, help=KEY_FLOW_HELP + " (default as live)")
    live.add_argument("--int8", action=argparse.BooleanOptionalAction, default=None, help=INT8_HELP + " as live")
    live.add_argument("--segment-every", type=int, default=None, metavar="N",
                      help="segmentation network every N frames (default 2)")
    live.add_argument("--segment-model", help="another mediapipe segmentation .tflite")
    live.add_argument("--strength", type=float, default=None, metavar="S",
                      help="blend of the input frame (0) and the stylized frame (1), as live's --strength (default 1)")
    p.add_argument("--max-frames", type=int, metavar="N", help="stop after the first N frames of the input")


def run(a: argparse.Namespace) -> int:
    from livestyle.files.safepaths import check_output_not_in_input, check_writable
    from livestyle.files.videowrite import VIDEO_EXTS
    from livestyle.live.build import check_live_options

    check_range("--max-frames", a.max_frames, 1, None, integer=True)
    check_range("--batch", a.batch, 1, MAX_BATCH, integer=True)
    check_live_options(a.steady, a.carry, a.phases, a.render_scale, a.segment_every, net_every=a.net_every)
    check_range("--strength", a.strength, 0.0, 1.0)
    check_output_not_in_input(a.input, a.output)  # both paths: never write over what is being read
    check_output_not_in_style(a.style, a.output)  # nor over the style's keyframes, paintings or model
    out = Path(a.output)  # checked before the model, the clip and its guides load, not when the frames are written
    if out.suffix.lower() in VIDEO_EXTS:
        check_writable(out)
    elif out.is_dir() or not out.exists():  # a folder for PNGs (a file there: ClipWriter says what to give)
        check_writable(out, folder=True)
    if a.live:
        n = _run_live(a)
    else:
        given = [f"--{k.replace('_', '-')}" for k in LIVE_ONLY if getattr(a, k) not in (None, False)]
        if given:
            raise LivestyleError(f"{', '.join(given)} only {'applies' if len(given) == 1 else 'apply'} with --live "
                                 "(the live path); add --live")
        n = render(a.style, a.input, a.output, a.device, a.precision or "auto", a.batch, a.denoise, a.max_frames,
                   steady=STEADY if a.steady is None else a.steady, carry=CARRY if a.carry is None else a.carry,
                   phases=PHASES if a.phases is None else a.phases)
    print(f"livestyle: wrote {n} frames to {a.output}", file=sys.stderr)
    return 0


def _run_live(a: argparse.Namespace) -> int:
    from livestyle.live.build import live_defaults
    from livestyle.live.config import LiveConfig
    from livestyle.live.replay import render_live

    d = live_defaults(a.device)
    cfg = LiveConfig(masked=a.masked, background=a.background or "keep",
                     denoise=LiveConfig().denoise if a.denoise is None else a.denoise,
                     steady=d["steady"] if a.steady is None else a.steady,
                     carry=d["carry"] if a.carry is None else a.carry,
                     phases=d["phases"] if a.phases is None else a.phases,
                     render_scale=d["render_scale"] if a.render_scale is None else a.render_scale,
                     render_scale_size=d["render_scale_size"] if a.render_scale is None else None,
                     net_every=d["net_every"] if a.net_every is None else a.net_every,
                     key_flow=a.key_flow or d["key_flow"],
                     segment_every=2 if a.segment_every is None else a.segment_every, segment_model=a.segment_model,
                     device=a.device, precision=a.precision or d["precision"],
                     int8=LiveConfig().int8 if a.int8 is None else a.int8,
                     strength=1.0 if a.strength is None else a.strength)
    print(f"livestyle: live path: steady {cfg.steady:g}, carry {cfg.carry:g}, phases {cfg.phases}, render scale "
          f"{cfg.render_scale:g}{f' ({cfg.key_flow} key flow)' if cfg.render_scale < 1 else ''}, network every "
          f"{cfg.net_every}{', masked' if cfg.masked else ''}, "
          f"denoise {'on' if cfg.denoise else 'off'}, int8 {'on' if cfg.int8 else 'off'}",
          file=sys.stderr)
    return render_live(a.style, a.input, a.output, cfg, a.max_frames)
