"""One live session: the object the CLI and the TUI drive.

It owns the capture thread, the style stage, the paced sender, the style
set (``live.styles``: every style's model kept warm, the active one's trainer
and folder watch), the control surfaces (``--osc``, ``--midi``:
``control.surfaces``), and exposes commands (snapshot, auto-style, masked
mode, background, outputs, training, recording; ``control.commands`` is the
table every control surface goes through) and a ``stats()`` snapshot. Errors from every thread become ``events`` (one line
each, with the fix) that the UI shows; none of them stops the output.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from dataclasses import replace
from pathlib import Path

from livestyle.autostyle import autostyle
from livestyle.capture import CaptureThread, Frame, make_source
from livestyle.control.surfaces import Surface, open_surfaces
from livestyle.engine.device import pick
from livestyle.engine.model import PRESETS
from livestyle.errors import LivestyleError, SinkError, StyleError, one_line
from livestyle.live.build import (
    fit_render_scale,
    fitted_note,
    make_segmenter,
    make_stage,
    stage_settings,
)
from livestyle.live.composite import BACKGROUNDS
from livestyle.live.config import Event, LiveConfig, SessionStats
from livestyle.live.keyed import work_size
from livestyle.live.memory import release_free_memory
from livestyle.live.sinks import SessionSinks
from livestyle.live.slot import LatestSlot
from livestyle.live.stage import StyleStage
from livestyle.live.stats import SLOW_FIX, LatencyLog, SlowWatch
from livestyle.live.styles import StyleSet
from livestyle.outputs import OutFrame, RecordSink, Sender, Sink, parse_sinks
from livestyle.style import StyleFolder

RESTART_FIX = "save a painting again to restart training"
SOURCE_FIX = "plug the camera back in or put the file back, or restart with another --source"
RECORD_FINISH_S = 30.0
"""How long ``close`` waits for recordings to be finished (encoder flush, index, rename) after 1 s."""


class LiveSession:
    def __init__(self, cfg: LiveConfig, require_output: bool = False):
        """``require_output``: ``start`` raises ``SinkError`` when no output opens (``livestyle live``: sending
        nowhere is a failure); the TUI keeps running, showing each failed output, so the user can add another."""
        if cfg.background not in BACKGROUNDS:
            raise LivestyleError(f"unknown background {cfg.background!r}; use one of {', '.join(BACKGROUNDS)}")
        if cfg.preset not in PRESETS:
            raise LivestyleError(f"unknown preset {cfg.preset!r}; use one of {', '.join(PRESETS)}")
        self.cfg = cfg
        self.sink_specs = parse_sinks(cfg.outputs)
        self.source = make_source(cfg.source, cfg.width, cfg.height, cfg.fps)
        self.compute = pick(cfg.device, cfg.precision)
        self.styles = StyleSet(self, [p for p in (cfg.style, *cfg.styles) if p])  # checks each folder
        self.require_output = require_output
        self.events: deque[Event] = deque(maxlen=200)
        self._event_lock = threading.Lock()
        self._stop = threading.Event()
        self.in_slot: LatestSlot[Frame] = LatestSlot()
        self.out_slot: LatestSlot[OutFrame] = LatestSlot()
        self.settings = stage_settings(cfg)
        self.latency = LatencyLog()
        self.capture: CaptureThread | None = None
        self.stage: StyleStage | None = None
        self.sender: Sender | None = None
        self._watch: threading.Thread | None = None
        self.state = "created"
        self._segmenter = None
        self.outputs = SessionSinks(cfg, self.notify)
        self.surfaces: list[Surface] = []  # OSC server, MIDI input (opened in start)
        self.slow_fix = SLOW_FIX  # what the warning of a rate below the camera's says to do (the TUI: its key)
        self.restart_fix = RESTART_FIX  # how to start training again after its process died (the TUI: its key)
        self.source_fix = SOURCE_FIX  # what to do when the source is lost (the TUI: its key)

    # -- events ---------------------------------------------------------------
    def notify(self, message: str, severity: str = "information") -> None:
        """One event, one line (an exception's multi-line text keeps its first line)."""
        with self._event_lock:
            self.events.append(Event(time.time(), severity, one_line(message)))

    def drain_events(self) -> list[Event]:
        with self._event_lock:
            out = list(self.events)
            self.events.clear()
        return out

    # -- lifecycle --------------------------------------------------------------
    def __enter__(self) -> LiveSession:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        cfg = self.cfg
        self.source.open()  # a bad source is a one-line SourceError here, before any thread starts
        w, h, fps = self.source.width, self.source.height, self.source.fps
        self.cfg = cfg = fit_render_scale(before := cfg, (w, h))  # a calibrated scale keeps its work size here
        if note := fitted_note(before, cfg, (w, h)):
            self.notify(note)
        sinks = self.outputs.open_all(self.sink_specs, w, h, cfg.fps)
        if self.require_output and not any(s.is_on for s in sinks):
            self.source.close()
            for sink in sinks:
                sink.close()
            reasons = "; ".join(s.state.removeprefix("error: ") for s in sinks)
            raise SinkError(f"no output could be opened ({reasons}); fix the --output list or add null to run anyway")
        self._segmenter = self._make_segmenter() if cfg.masked else None
        self.stage = make_stage(cfg, self.settings, self._segmenter, self.in_slot, self.out_slot, self._stop,
                                on_error=lambda m: self.notify(m, "error"), threads=self._net_threads())
        self.capture = CaptureThread(self.source, self.in_slot, self._stop)
        self.sender = Sender(self.out_slot, sinks, cfg.fps, self._stop, on_error=self.outputs.failed)
        self.styles.load_all()
        self.surfaces = open_surfaces(self)  # --osc, --midi: one line each if they cannot open; the show goes on
        self.capture.start()
        self.stage.start()
        self.sender.start()
        self._watch = threading.Thread(target=self._watch_loop, name="style-watch", daemon=True)
        self._watch.start()
        self.state = "running"
        self.notify(f"live: {self.source.name} {w}x{h}@{fps:g} -> {', '.join(str(s) for s in self.sink_specs)}; "
                    f"{self.compute.describe()}")

    def close(self) -> None:
        """Stop every thread and release every device (well within 2 s)."""
        self._stop.set()
        for surface in self.surfaces:
            surface.close()
        self.styles.close()
        for th in (self.capture, self.stage, self.sender, self._watch):
            if th is not None and th.is_alive():
                th.join(1.0)
        if self.sender is not None and self.sender.is_alive() and (self.sender.closing or any(
                isinstance(s, RecordSink) for s in self.sender.sinks)):
            self.sender.join(RECORD_FINISH_S)  # a recording's last frames and index must reach the disk
        if self._segmenter is not None:
            self._segmenter.close()
        self.in_slot.close()
        self.out_slot.close()
        self.state = "stopped"

    def wait(self, max_frames: int | None = None, timeout: float | None = None) -> None:
        """Block until ``max_frames`` frames went out, the source finished, or Ctrl-C."""
        t0 = time.perf_counter()
        while not self._stop.is_set():
            st = self.sender.stats() if self.sender else None
            if max_frames and st and st.sent >= max_frames:
                return
            if self.capture is not None and self.capture.stats().state == "finished":
                return
            if timeout is not None and time.perf_counter() - t0 > timeout:
                return
            time.sleep(0.05)

    # -- pieces -----------------------------------------------------------------
    def _net_threads(self) -> int | None:
        """Torch threads for the network on CPU: all cores but one, which the prep thread (denoise,
        segmentation, guides) keeps busy. On 2 cores a single network thread gave 30.1 stylized fps
        (640x360, masked) against 28.5 with two: two compute teams fighting for two cores stall
        each other (calibration/bench_live.py)."""
        if self.compute.device.type != "cpu":
            return None
        return max(1, (os.cpu_count() or 2) - 1)

    @property
    def source_size(self) -> tuple[int, int]:
        """``(width, height)`` of the camera's frames (and of the output)."""
        return self.source.width, self.source.height

    @property
    def work_size(self) -> tuple[int, int]:
        """``(width, height)`` the network and guides work at (the source's, times the render scale)."""
        return work_size(self.source_size, self.cfg.render_scale)

    @property
    def failed_recordings(self) -> list[str]:
        """One line per ``record:`` output that could not be opened or finished (``live`` exits non-zero)."""
        return self.outputs.failed_recordings

    @property
    def unsaved_models(self) -> list[str]:
        """One line per training that could not save its model (``live`` exits non-zero)."""
        return self.styles.unsaved

    def _make_segmenter(self):
        return make_segmenter(self.cfg, self.work_size)

    def _watch_loop(self) -> None:
        """Poll the active style's folder (``StyleSet.watch``). Every 30 s, hand freed heap memory back
        to the OS (frames and crops of changing sizes fragment it)."""
        trim_at = time.monotonic() + 30.0
        backend = ""
        slow = SlowWatch(fix=self.slow_fix)
        source = "running"
        while not self._stop.wait(0.5):
            if time.monotonic() >= trim_at:
                trim_at = time.monotonic() + 30.0
                release_free_memory()
            self.styles.watch()
            self._drain_latencies()
            backend = self._note_backend(backend)
            self._note_slow(slow)
            source = self._note_source(source)

    def _note_source(self, last: str) -> str:
        """Say once when the source is lost (a camera unplugged, a video file deleted), back, or stopped for good."""
        cap = self.capture.stats() if self.capture is not None else None
        if cap is None or cap.state == last:
            return last
        why = f" ({cap.last_error})" if cap.last_error else ""
        if cap.state == "reconnecting":
            self.notify(f"source {cap.source} lost{why}; the output holds its last frame and livestyle reopens the "
                        f"source by itself: {self.source_fix}", "warning")
        elif cap.state == "running" and last == "reconnecting":
            self.notify(f"source {cap.source} is back")
        elif cap.state == "crashed":
            self.notify(f"source {cap.source} stopped{why}; the output holds its last frame: {self.source_fix}",
                        "error")
        return cap.state

    def _note_slow(self, watch: SlowWatch) -> None:
        """Say once when the stylized rate stays below the camera's (``SlowWatch``), with the fix."""
        st, cap = self.stage, self.capture
        if st is None or cap is None:
            return
        busy = self.train_stats.get("state") in ("starting", "preparing", "training")
        msg = watch.update(time.monotonic(), st.processed, cap.stats().frames,
                           settled=st.stylizer is not None and not busy)
        if msg:
            self.notify(msg, "warning")

    def _note_backend(self, last: str) -> str:
        """Say once when the network's runtime changes to or from int8 (``Stylizer.backend``)."""
        sty = self.stage.stylizer if self.stage is not None else None
        now = sty.backend if sty is not None else ""
        if "int8" in now and "int8" not in last:
            q = sty.quantized if sty is not None else None
            detail = f" ({q.bits}-bit weights, {q.psnr:.0f} dB to the float network)" if q is not None else ""
            self.notify(f"network: int8 in OpenVINO{detail}; --no-int8 turns it off")
        elif "int8" in last and "int8" not in now and now:
            self.notify("network: float again (new weights; int8 once they settle)")
        return now

    # -- commands (from the UI or CLI; any thread) ------------------------------
    def snapshot(self, name: str | None = None) -> str:
        """Save the current (denoised) camera frame as a keyframe (plus its mask in masked mode)."""
        if self.style is None:
            raise StyleError("no style folder chosen; create or load one first")
        last = self.stage.last_input if self.stage else None
        if last is None:
            raise LivestyleError("no camera frame yet; wait for the source to start")
        img, mask = last
        if self.settings.masked and mask is not None and not mask.any():
            raise LivestyleError("masked mode: nobody is in the frame; step in front of the camera and retry")
        name = self.style.snapshot(img, mask if self.settings.masked else None, name)
        self.notify(f"keyframe {name} saved to {self.style.keys_dir}; paint styled/{name}.png or auto-style it")
        return name

    def auto_style(self, name: str, kind: str = "watercolor") -> Path:
        """Fill the painting of keyframe ``name`` with a classical stylization."""
        if self.style is None:
            raise StyleError("no style folder chosen")
        from livestyle.files.imageio import read_image

        keys = {p.stem: p for p in self.style.keys_dir.glob("*")}
        if name not in keys:
            raise StyleError(f"no keyframe named {name!r} in {self.style.keys_dir}")
        painted = autostyle(read_image(keys[name]), kind)
        path, went = self.style.replace_painting(name, painted)  # one already there (perhaps by hand) is kept
        kept = f"; the painting it replaced is in {went[0]}" if went else ""
        self.notify(f"auto-styled {name} ({kind}){kept}")
        return path

    def set_masked(self, on: bool) -> None:
        if on and self._segmenter is None:
            self._segmenter = self._make_segmenter()
            assert self.stage is not None  # commands run on a started session
            self.stage.segmenter = self._segmenter
        self.settings.masked = on

    def cycle_background(self) -> str:
        i = BACKGROUNDS.index(self.settings.background)
        self.settings.background = BACKGROUNDS[(i + 1) % len(BACKGROUNDS)]
        return self.settings.background

    def set_stylize(self, on: bool) -> None:
        self.settings.enabled = on

    def set_carry(self, strength: float) -> None:
        """Keyframe carry strength, 0 (off) .. 1 (guides.KeyCarry)."""
        if not 0.0 <= strength <= 1.0:
            raise LivestyleError(f"carry must be between 0 (off) and 1, got {strength:g}")
        self.settings.carry = strength

    def pause_training(self) -> None:
        self.styles.pause()

    def resume_training(self) -> None:
        self.styles.resume()

    def set_style(self, path: str | Path) -> None:
        """Switch to the style folder ``path`` (created if missing; added to the set if new); the old trainer stops."""
        self.styles.add(path)
        self.cfg = replace(self.cfg, style=str(path))

    @property
    def style(self) -> StyleFolder | None:
        """The active style's folder (snapshots, paintings and training go there)."""
        return self.styles.folder

    @property
    def train_stats(self) -> dict:
        return self.styles.train_stats

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def recording(self) -> bool:
        return any(isinstance(s, RecordSink) and s.is_on for s in (self.sender.sinks if self.sender else []))

    def set_recording(self, what: bool | str) -> None:
        """Stop (False) or start a recording (True: named by the time; a bare file name) in ``cfg.record_dir``."""
        self.remove_sink("record")
        if what is not False:
            folder = Path(self.cfg.record_dir).expanduser()
            name = what if isinstance(what, str) else f"livestyle-{time.strftime('%Y%m%d-%H%M%S')}.mp4"
            folder.mkdir(parents=True, exist_ok=True)
            self.add_sink(f"record:{folder / name}")

    def add_sink(self, spec: str) -> Sink:
        """Open another output (e.g. ``record:take1.mp4`` or ``vcam``) while running."""
        assert self.sender is not None  # commands run on a started session
        sink = self.outputs.create(parse_sinks(spec)[0])
        sink.open(self.source.width, self.source.height, self.cfg.fps)
        self.sender.add_sink(sink)
        return sink

    def remove_sink(self, name_prefix: str) -> bool:
        assert self.sender is not None  # commands run on a started session
        return self.sender.remove_sink(name_prefix)

    def _drain_latencies(self) -> None:
        if self.sender is not None:
            for lat in self.sender.drain_latencies():
                self.latency.add(lat)

    def stats(self) -> SessionStats:
        self._drain_latencies()
        cap = self.capture.stats() if self.capture else None
        snd = self.sender.stats() if self.sender else None
        st = self.stage
        return SessionStats(
            state=self.state,
            source={} if cap is None else {"name": cap.source, "state": cap.state, "width": cap.width,
                                           "height": cap.height, "fps": round(cap.fps, 2),
                                           "error": cap.last_error or ""},
            frames_in=cap.frames if cap else 0,
            frames_out=snd.sent if snd else 0,
            stylized=st.processed if st else 0,
            stylized_fps=round(st.timer.fps, 2) if st else 0.0,
            output_fps=round(snd.fps, 2) if snd else 0.0,
            latency_ms=self.latency.percentiles(),
            drops=(cap.drops if cap else 0) + self.out_slot.drops,
            repeats=snd.repeats if snd else 0,
            stage_ms=st.timer.snapshot() if st else {},
            sinks=[list(s) for s in snd.sinks] if snd else [],
            training=dict(self.train_stats),
            model_version=st.stylizer.version if st and st.stylizer else 0,
            keyframes=self.style.status() if self.style and self.style.path.is_dir() else {},
            masked=self.settings.masked,
            background=self.settings.background,
            carry=self.settings.carry,
            strength=self.settings.strength,
            styles=self.styles.names(),
            style_index=self.styles.active + 1 if self.styles.entries else 0,
            phases=self.cfg.phases,
            device=self.compute.describe() + (f", {st.stylizer.backend}" if st and st.stylizer else ""),
        )
