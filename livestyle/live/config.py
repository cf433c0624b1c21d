"""What a live session starts from (``LiveConfig``) and what it reports (``SessionStats``, ``Event``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from livestyle.engine.model import DEFAULT_PRESET
from livestyle.temporal.carry import CARRY_LIVE
from livestyle.temporal.denoise import STEADY_LIVE

NET_EVERY_HELP = ("run the network on every Nth frame, 1-4; the frames between move its last output along the "
                  "optical flow (the keyframe carry and stabiliser still run on every frame): for a CPU that cannot "
                  "keep up; what a moving person uncovers looks a frame old")
KEY_FLOWS = ("auto", "fine", "coarse")
KEY_FLOW_HELP = ("at a render scale below 1, the keyframe carry's optical flow: fine (as precise as at full size: "
                 "the painting's strokes land where they belong, ~4x the flow's time), coarse (matched on the "
                 "smaller frame: cheaper, strokes a pixel or two off) or auto (fine with 8 or more CPU cores)")


INT8_HELP = ("on a CPU, once the weights stop changing (after training, or a saved style), run the network "
             "quantized to int8 (OpenVINO; 13-21%% faster on an AVX-512 CPU, 30-48%% on AVX2; default on)")


@dataclass(frozen=True)
class LiveConfig:
    """Everything a live session starts from; each field has a CLI flag and a TOML key."""

    style: str | None = None  # style folder (or a folder of style folders); None = pass-through until one is chosen
    styles: tuple[str, ...] = ()  # more style folders, loaded at start and kept warm (live.styles)
    source: str = "synthetic"
    outputs: str = "null"  # comma-separated sink specs: vcam, preview, record:FILE, null
    width: int = 640
    height: int = 360
    fps: float = 30.0
    masked: bool = False
    background: str = "keep"
    guides: bool = True
    denoise: bool = False  # causal denoiser before the network: for noisy cameras; on clean input it cost
    # 0.2-0.6 dB against render on the same snapshot, the warping error staying under the truth's (live_gap.py)
    steady: float = STEADY_LIVE  # output stabiliser strength along the flow (guides.OutputStabilizer); 0 = off
    carry: float = CARRY_LIVE  # keyframe carry strength (guides.KeyCarry); 0 = off (the live default: its cost)
    phases: int = 1  # shifted copies the network's output averages (infer.phase_offsets); 1 live: it costs N x
    segment_every: int = 2  # the network every 2nd frame; the mask follows the flow in between
    segment_model: str | None = None
    render_scale: float = 1.0  # < 1: the network works on the frame resized by this (see StyleStage)
    # The capture size a calibrated render scale was measured at (``live.build.live_defaults``); frames of another size
    # get the scale that keeps that work size (``live.build.fit_render_scale``). None: the scale is used as it is.
    render_scale_size: tuple[int, int] | None = None
    net_every: int = 1  # the network on every Nth frame, its last output moved along the flow between (live.skipping)
    key_flow: str = "auto"  # at a render scale < 1: the carry's key flow fine, coarse or auto (KEY_FLOWS, KeyCarry.live)
    preset: str = DEFAULT_PRESET
    device: str = "auto"
    precision: str = "auto"
    int8: bool = True  # on CPU, once the weights settle, the network quantized to int8 (infer.Stylizer int8)
    train: bool = True  # learn while live when paintings appear or change
    mirror: bool = False  # preview only
    side_by_side: bool = False
    max_frames: int | None = None
    vcam_backend: str | None = None  # pyvirtualcam backend name (None = the OS default)
    vcam_fmt: str = "I420"  # pixel format sent to the virtual camera
    strength: float = 1.0  # blend of the camera frame (0) and the stylized frame (1)
    transition: float = 0.5  # crossfade seconds of a style switch (0 = cut)
    osc: str | None = None  # OSC control: "PORT" (127.0.0.1) or "HOST:PORT" (control.osc); None = off
    midi: str | None = None  # MIDI control: an input port name, "" = the first one (control.midi); None = off
    midi_map: str | None = None  # the MIDI mapping TOML file (None: the built-in default mapping)
    record_dir: str = "."  # where `record` control messages put their files


@dataclass
class Event:
    t: float
    severity: str  # information | warning | error
    message: str


@dataclass
class SessionStats:
    state: str
    source: dict = field(default_factory=dict)
    frames_in: int = 0
    frames_out: int = 0
    stylized: int = 0
    stylized_fps: float = 0.0
    output_fps: float = 0.0
    latency_ms: dict = field(default_factory=dict)
    drops: int = 0
    repeats: int = 0
    stage_ms: dict = field(default_factory=dict)
    sinks: list = field(default_factory=list)
    training: dict = field(default_factory=dict)
    model_version: int = 0
    keyframes: dict = field(default_factory=dict)
    masked: bool = False
    background: str = "keep"
    carry: float = 0.0  # keyframe carry strength in use (0 = off)
    strength: float = 1.0  # blend of the camera frame (0) and the stylized frame (1)
    styles: list = field(default_factory=list)  # the style set's names, in order
    style_index: int = 0  # 1-based index of the active style in ``styles`` (0 = none)
    phases: int = 1  # network passes averaged per frame
    device: str = ""
