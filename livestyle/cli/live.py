"""``livestyle live`` and ``livestyle demo``: run a live session from the command line."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from dataclasses import asdict
from pathlib import Path

from livestyle.control.flags import add_control_arguments, check_control_options, control_config
from livestyle.engine.model import PRESETS
from livestyle.errors import check_positive, check_range
from livestyle.files.safepaths import check_writable
from livestyle.live.build import check_live_options, live_defaults
from livestyle.live.composite import BACKGROUNDS
from livestyle.live.config import INT8_HELP, KEY_FLOW_HELP, KEY_FLOWS, NET_EVERY_HELP
from livestyle.live.session import LiveConfig, LiveSession
from livestyle.outputs.spec import parse_sinks
from livestyle.paths import ASSETS
from livestyle.temporal.carry import CARRY_LIVE
from livestyle.temporal.denoise import STEADY_LIVE

DEMO_STYLE = ASSETS / "styles" / "demo"


def add_arguments(p: argparse.ArgumentParser, demo: bool = False) -> None:
    if not demo:
        p.add_argument("--style", action="append", metavar="FOLDER",
                       help="style folder (created if missing); repeat for a style set kept warm (switch with "
                            "the style controls), or give a folder of style folders")
        p.add_argument("--source", default="synthetic",
                       help="synthetic | camera index | /dev/videoN | name:CAMERA | video file | image folder")
        p.add_argument("--output", default="null",
                       help="comma-separated: vcam[:DEVICE], preview, record:FILE, window[:DISPLAY], ndi[:NAME], "
                            "spout[:NAME], syphon[:NAME], null (docs/outputs.md)")
    else:
        p.add_argument("--output", default=None, help="default: vcam and preview where available, else "
                       "record:livestyle-demo.mp4")
    p.add_argument("--width", type=int, help="requested width (default: from `livestyle calibrate`, else 640)")
    p.add_argument("--height", type=int, help="requested height (default: calibrated, else 360)")
    p.add_argument("--fps", type=float, default=30.0, help="requested camera and output frame rate (default 30)")
    p.add_argument("--masked", action="store_true", help="stylize only the person (mediapipe segmentation)")
    p.add_argument("--background", choices=BACKGROUNDS, default="keep", help="background in masked mode")
    p.add_argument("--no-guides", action="store_true", help="no Gaussian-blob guide")
    p.add_argument("--denoise", action=argparse.BooleanOptionalAction, default=False,
                   help="causal temporal denoising of the camera before the network, for a noisy (low-light) "
                        "camera (default off: on clean input it cost 0.2-0.6 dB against render; the output "
                        "stabiliser keeps the output steady)")
    p.add_argument("--steady", type=float, default=None, metavar="S",
                   help="smooth the stylized output along optical flow against flicker, 0..0.95 (0 = off; "
                        f"default: calibrated, else {STEADY_LIVE:g})")
    p.add_argument("--carry", type=float, default=None, metavar="C",
                   help="blend in the painting of the most similar keyframe, carried by optical flow, where the frame "
                        f"shows what it showed, 0..1 (0 = off; default: calibrated, else {CARRY_LIVE:g}; its ~20 ms per "
                        "640x360 frame on a CPU run beside the network)")
    p.add_argument("--phases", type=int, default=None, metavar="N",
                   help="average the network over N shifted copies of each frame, 1, 2 or 4: steadier invented "
                        "texture, N times the network's time (default: calibrated, else 4 on a GPU, 1 on a CPU)")
    p.add_argument("--no-train", action="store_true", help="do not learn while live")
    p.add_argument("--segment-every", type=int, default=2, metavar="N",
                   help="run the segmentation network every N frames; between runs the mask follows the optical flow (default 2)")
    p.add_argument("--segment-model", help="another mediapipe segmentation .tflite")
    p.add_argument("--render-scale", type=float, default=None,
                   help="run the network on the frame resized by this (0.25-1; e.g. 0.5 for 720p on a laptop "
                        "CPU); the style's change is upsampled onto the full-size frame (default: calibrated, else 1)")
    p.add_argument("--net-every", type=int, default=None, metavar="N",
                   help=NET_EVERY_HELP + " (default: calibrated, else 1)")
    p.add_argument("--key-flow", choices=KEY_FLOWS, default=None,
                   help=KEY_FLOW_HELP + " (default: calibrated, else auto)")
    p.add_argument("--preset", choices=sorted(PRESETS), help="network preset (default: calibrated, else fast)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda[:N] (default auto: CUDA where available, else the CPU)")
    p.add_argument("--precision", help="auto | fp32 | bf16 | fp16 (default: calibrated, else auto)")
    p.add_argument("--int8", action=argparse.BooleanOptionalAction, default=True, help=INT8_HELP)
    p.add_argument("--mirror", action="store_true", help="mirror the preview window (never the camera)")
    p.add_argument("--side-by-side", action="store_true", help="preview original and stylized side by side")
    p.add_argument("--vcam-backend", help="pyvirtualcam backend (v4l2loopback, obs, unitycapture)")
    p.add_argument("--vcam-format", default="I420", choices=("I420", "BGR", "RGB", "NV12", "YUYV"),
                   help="pixel format sent to the virtual camera")
    add_control_arguments(p)
    p.add_argument("--max-frames", type=int, metavar="N", help="stop after N output frames")
    p.add_argument("--seconds", type=float, help="stop after S seconds")
    p.add_argument("--stats-json", metavar="FILE", help="write final stats to this JSON file")


def _demo_outputs() -> str:
    from livestyle.outputs import has_display
    from livestyle.outputs.vcam import vcam_available

    outs = []
    if vcam_available() is None:
        outs.append("vcam")
    if has_display():
        outs.append("preview")
    return ",".join(outs) if outs else "record:livestyle-demo.mp4"


def config_from_args(a: argparse.Namespace, demo: bool = False) -> LiveConfig:
    check_range("--max-frames", a.max_frames, 1, None, integer=True)
    check_positive("--seconds", a.seconds)
    check_live_options(a.steady, a.carry, a.phases, a.render_scale, a.segment_every, a.width, a.height, a.fps,
                       net_every=a.net_every, key_flow=a.key_flow)
    check_control_options(a)
    if a.stats_json:
        check_writable(a.stats_json)
    d = live_defaults(a.device)  # this machine's calibration, else the built-in defaults
    cfg = LiveConfig(
        style=str(DEMO_STYLE) if demo else (a.style[0] if a.style else None),
        styles=() if demo else tuple(a.style[1:] if a.style else ()),
        source="synthetic" if demo else a.source,
        outputs=(a.output or _demo_outputs()) if demo else a.output,
        width=d["width"] if a.width is None else a.width, height=d["height"] if a.height is None else a.height, fps=a.fps, masked=a.masked,
        background=a.background, guides=not a.no_guides, denoise=a.denoise,
        steady=d["steady"] if a.steady is None else a.steady, carry=d["carry"] if a.carry is None else a.carry,
        phases=d["phases"] if a.phases is None else a.phases,
        train=False if demo else not a.no_train,
        segment_every=a.segment_every, segment_model=a.segment_model,
        render_scale=d["render_scale"] if a.render_scale is None else a.render_scale, preset=a.preset or d["preset"], device=a.device,
        render_scale_size=d["render_scale_size"] if a.render_scale is None else None,
        net_every=d["net_every"] if a.net_every is None else a.net_every,
        key_flow=a.key_flow or d["key_flow"],
        precision=a.precision or d["precision"], int8=a.int8, mirror=a.mirror, side_by_side=a.side_by_side,
        max_frames=a.max_frames,
        vcam_backend=a.vcam_backend, vcam_fmt=a.vcam_format, **control_config(a),
    )
    for out in parse_sinks(cfg.outputs):  # a recording that cannot be written: say so now, not when it stops
        if out.kind == "record" and out.arg:
            check_writable(out.arg)
    return cfg


def run(a: argparse.Namespace, demo: bool = False) -> int:
    cfg = config_from_args(a, demo)
    max_frames, seconds = cfg.max_frames, a.seconds
    if demo and max_frames is None and seconds is None and "record:" in cfg.outputs and "vcam" not in cfg.outputs:
        max_frames = 300  # no camera, no screen: record ten seconds and stop
    session = LiveSession(cfg, require_output=True)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    t0 = time.perf_counter()
    interrupted = False
    with session:
        for ev in session.drain_events():
            print(f"livestyle: {ev.message}", file=sys.stderr)
        try:
            last = 0.0
            while True:
                session.wait(max_frames, timeout=1.0)
                for ev in session.drain_events():
                    print(f"livestyle: {ev.severity}: {ev.message}" if ev.severity != "information"
                          else f"livestyle: {ev.message}", file=sys.stderr)
                st = session.stats()
                now = time.perf_counter()
                if now - last >= 5.0:
                    last = now
                    print(f"livestyle: out {st.frames_out} frames @ {st.output_fps:.1f} fps, stylized "
                          f"{st.stylized_fps:.1f} fps, latency p95 {st.latency_ms['p95']:.0f} ms, "
                          f"drops {st.drops}, training {st.training.get('state', 'idle')}", file=sys.stderr)
                if max_frames and st.frames_out >= max_frames:
                    break
                if seconds and now - t0 >= seconds:
                    break
                if st.source.get("state") == "finished":
                    break
        except KeyboardInterrupt:
            interrupted = True
        final = session.stats()
    for ev in session.drain_events():  # what closing said: a recording that could not be finished
        print(f"livestyle: {ev.severity}: {ev.message}" if ev.severity != "information"
              else f"livestyle: {ev.message}", file=sys.stderr)
    if a.stats_json:
        from livestyle.files.imageio import write_atomic

        write_atomic(a.stats_json, json.dumps(asdict(final), indent=2).encode())
    print(f"livestyle: done: {final.frames_out} frames out, stylized {final.stylized} "
          f"({final.stylized / max(1e-9, time.perf_counter() - t0):.1f}/s overall)", file=sys.stderr)
    if demo and "record:" in cfg.outputs and not session.failed_recordings:
        path = cfg.outputs.split("record:", 1)[1].split(",", 1)[0]
        print(f"livestyle: demo written to {Path(path).resolve()}", file=sys.stderr)
    return 130 if interrupted else 1 if session.failed_recordings or session.unsaved_models else 0

