"""``livestyle render --live``: a clip through the live per-frame path, every frame, in order.

The frames go one by one through ``StyleStage.process``, the very function the live
pipeline's two threads split between them (prepare, then finish), on a stage built by
``live.build`` exactly as ``LiveSession`` builds it: causal denoiser, segmenter (masked
mode), blob tracker and keyframe carry over every painted keyframe (the one most like
each frame, whatever the keyframes are named), render scale, output stabiliser. Nothing is
dropped and nothing waits for a camera: what a viewer of ``livestyle live`` would see on
this clip with a machine fast enough to keep up with every frame.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from livestyle.engine import checkpoint
from livestyle.engine.device import pick
from livestyle.engine.infer import Stylizer
from livestyle.engine.model import Generator
from livestyle.errors import LivestyleError
from livestyle.live.build import (
    fit_render_scale,
    fitted_note,
    make_segmenter,
    make_stage,
    stage_settings,
)
from livestyle.live.config import LiveConfig
from livestyle.live.keyed import keyed_from, work_size
from livestyle.live.stage import StyleStage
from livestyle.style import Keyframe, StyleFolder


class LiveReplay:
    """The live style stage of one trained model, for frames of one size, driven one frame at a time.

    ``model``: the trained generator; ``guides``: the guide names it takes (its checkpoint's);
    ``keyframes``: the painted keyframes its guide trackers and keyframe carry start from. ``cfg``: the live options (``masked``, ``background``, ``steady``, ``carry``, ``phases``,
    ``render_scale``, ``key_flow``, ``denoise``, ``segment_every``, ``device``, ``precision``); its ``style``,
    ``source`` and ``outputs`` are not used. ``size``: ``(w, h)`` of the frames to come.
    Use as a context manager (the segmenter holds a mediapipe graph).
    """

    def __init__(self, model: Generator, guides: tuple[str, ...], keyframes: Sequence[Keyframe], cfg: LiveConfig,
                 size: tuple[int, int]):
        self.cfg = cfg = fit_render_scale(cfg, size)  # a calibrated scale keeps its work size at this size
        self.compute = pick(cfg.device, cfg.precision)
        w, h = size
        r = cfg.render_scale
        work = work_size((w, h), r)
        self.segmenter = make_segmenter(cfg, work) if cfg.masked else None
        self.stage: StyleStage = make_stage(cfg, stage_settings(cfg), self.segmenter)
        self.stage.offline = True  # every frame through the same network runtime, whatever the timing
        self.stage.set_model(Stylizer(model, self.compute, cfg.phases, int8=cfg.int8), keyed_from(keyframes, guides, (w, h), r,
                                                                                  cfg.key_flow))

    @classmethod
    def from_style(cls, style: str | Path, cfg: LiveConfig, size: tuple[int, int]) -> LiveReplay:
        """The replay of a trained style folder: its model, its painted keyframes (whatever their names)."""
        folder = StyleFolder(style)
        folder.check_exists()
        model, info = checkpoint.load(folder.model_path)
        guides = tuple(g["name"] for g in info.guides)  # the model's own inputs decide its guides
        try:
            kfs = folder.load(strict=False)
        except LivestyleError:  # as live: unreadable keyframes, no guides or carry from them
            kfs = []
        return cls(model, guides, kfs, cfg, size)

    def process(self, frame: np.ndarray) -> np.ndarray:
        """The live output for the next frame of the clip: ``(H, W, 3) uint8 BGR`` in and out."""
        return self.stage.process(frame)

    def frames(self, frames: list[np.ndarray]) -> Iterator[np.ndarray]:
        for f in frames:
            yield self.process(f)

    def close(self) -> None:
        if self.segmenter is not None:
            self.segmenter.close()
            self.segmenter = None

    def __enter__(self) -> LiveReplay:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def render_live(style: str | Path, input_path: str | Path, output_path: str | Path, cfg: LiveConfig,
                max_frames: int | None = None, quiet: bool = False,
                progress: Callable[[int, int], None] | None = None) -> int:
    """Render ``input_path`` through the live path to ``output_path``; returns the frames written."""
    from livestyle.files.video import ClipWriter, read_clip
    from livestyle.progress import Progress

    StyleFolder(style).check_exists()
    frames, names, fps = read_clip(input_path, max_frames)
    h, w = frames[0].shape[:2]
    bar = None if quiet else Progress(len(frames), "render --live", "frames")
    done = 0
    replay = LiveReplay.from_style(style, cfg, (w, h))
    if not quiet and (note := fitted_note(cfg, replay.cfg, (w, h))):
        print(f"livestyle: {note}", file=sys.stderr)
    with replay:
        writer = ClipWriter(output_path, fps)
        try:
            for name, out in zip(names, replay.frames(frames), strict=True):
                writer.write(name, out)
                done += 1
                if bar:
                    bar.update(done)
                if progress:
                    progress(done, len(frames))
        finally:
            writer.close()
    if bar:
        bar.close(done)
    if not quiet:
        ms = replay.stage.timer.snapshot()  # moving averages over the last frames, one thread doing both halves
        print("livestyle: live path, ms per frame: " + ", ".join(f"{k} {v:.1f}" for k, v in ms.items()),
              file=sys.stderr)
    return done
