"""Offline render: stylize every frame of a clip with a trained style.

Each painted keyframe stands for one frame of the input: the frame its name gives
(``keys/012.png`` is frame 12, as offline styles name them), else the frame most
like it (``place_keys``: a style made live, whose keys are named by time, renders
any clip). Guides are computed over the whole clip first
(blobs carried from the nearest keyframe by optical flow; optional non-causal
temporal denoising); after that, frames are independent and go through the
network in batches, each averaged over ``phases`` shifted copies of its input
(``infer.phase_offsets``: the fast preset's cells then do not shimmer as content
pans). Where a frame shows what a keyframe showed, the painting of
the nearest keyframe, carried by optical flow, is blended into the network's
output (``guides.KeyCarry``, ``carry``; 0 = off). Last, the outputs are smoothed
in order along the input's optical flow (``guides.OutputStabilizer``,
``steady``; 0 = off).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from livestyle.engine.infer import PHASE_CHOICES, PHASES, Stylizer
from livestyle.engine.train import make_guides
from livestyle.errors import LivestyleError, StyleError
from livestyle.files.video import ClipWriter, read_clip
from livestyle.keymatch import nearest_frame, thumbnail
from livestyle.progress import Progress
from livestyle.style import Keyframe, StyleFolder
from livestyle.temporal import STEADY, STEADY_FLOW_RENDER, FlowEstimator, OutputStabilizer
from livestyle.temporal.carry import CARRY, CarryKey, KeyCarry, nearest_keys


def check_output_not_in_style(style_path: str | Path, output_path: str | Path) -> None:
    """Refuse an output that would write over the style itself: the style folder, a folder holding it,
    its keys/, styled/ or masks/ (the frames are named like 000.png, as keyframes are), or its model.
    ``LivestyleError`` before anything is written; an output elsewhere inside the style folder is fine."""
    style, out = StyleFolder(Path(style_path).resolve()), Path(output_path).resolve()
    if out == style.path or out in style.path.parents:
        raise LivestyleError(f"{output_path}: the output {'is' if out == style.path else 'contains'} the style "
                             f"folder {style_path}; write it elsewhere")
    for d in (style.keys_dir, style.styled_dir, style.masks_dir):
        if out == d or d in out.parents:
            raise LivestyleError(f"{output_path}: the output is or is inside the style's {d.name}/ folder and would "
                                 "write over its keyframes or paintings; write it elsewhere")
    if out == style.model_path:
        raise LivestyleError(f"{output_path}: the output is the style's model; write it elsewhere")


MATCH_WARN = 0.5  # keymatch distance above which a key looks like none of the clip's frames (~1: unrelated)


@dataclass(frozen=True)
class PlacedKey:
    """Where a painted keyframe stands in the clip being rendered."""

    key: Keyframe
    frame: int  # the clip's frame it stands for
    by_name: bool  # True: its name is that frame's index (012 = frame 12); False: its most similar frame
    distance: float  # keymatch distance between the key and that frame (0 = the same picture)


def place_keys(keyframes: list[Keyframe], frames: list[np.ndarray]) -> list[PlacedKey]:
    """Each keyframe's frame in the clip: the frame its name gives (``012.png`` = frame 12, as offline styles
    name them), else the frame most like it (``keymatch.nearest_frame``; live-made keys are named by time).
    A name that is an index outside the clip is matched like any other name."""
    out: list[PlacedKey] = []
    thumbs: list[np.ndarray] | None = None
    for k in keyframes:
        if re.fullmatch(r"[0-9]+", k.name) and int(k.name) < len(frames):
            out.append(PlacedKey(k, int(k.name), True, 0.0))
            continue
        if thumbs is None:
            thumbs = [thumbnail(f) for f in frames]
        idx, dist = nearest_frame(frames, k.key, thumbs)
        out.append(PlacedKey(k, idx, False, dist))
    return out


def say_placed(placed: list[PlacedKey], names: list[str]) -> None:
    """One line per key placed by likeness: which frame, and a warning when it looks like none of them."""
    for p in placed:
        if p.by_name:
            continue
        where = f"frame {p.frame} ({names[p.frame]})" if names[p.frame] != str(p.frame) else f"frame {p.frame}"
        line = f"livestyle: key {p.key.name} placed on {where}, the frame most like it (distance {p.distance:.3f})"
        if p.distance > MATCH_WARN:
            line += ("; it looks like none of this clip's frames, so its guide and carry will fit poorly "
                     "(snapshot a keyframe from this clip, or name a key by its frame index: 012.png = frame 12)")
        print(line, file=sys.stderr)


def guide_inputs(frames: list[np.ndarray], placed: list[PlacedKey]
                 ) -> tuple[list[np.ndarray], dict[int, np.ndarray | None], list[int]]:
    """What the guides are computed over: the clip with each key placed by likeness inserted as a frame of
    its own just before its frame (its blobs are then drawn on the photo the network was trained on, and
    carried to the clip's frames by flow, as live does); keys named by index are their frame, as before.
    Returns the frames, key positions in them -> mask (None = whole frame), and each clip frame's position."""
    h, w = frames[0].shape[:2]

    def fit(img: np.ndarray | None, interp: int) -> np.ndarray | None:
        return img if img is None or img.shape[:2] == (h, w) else cv2.resize(img, (w, h), interpolation=interp)

    inserted: dict[int, list[PlacedKey]] = {}
    for p in placed:
        if not p.by_name:
            inserted.setdefault(p.frame, []).append(p)
    named = {p.frame: p for p in placed if p.by_name}
    seq: list[np.ndarray] = []
    keys: dict[int, np.ndarray | None] = {}
    real: list[int] = []
    for t, f in enumerate(frames):
        for p in inserted.get(t, []):
            keys[len(seq)] = fit(p.key.mask, cv2.INTER_NEAREST)
            seq.append(fit(p.key.key, cv2.INTER_AREA))  # type: ignore[arg-type]  # a key is never None
        if t in named:
            keys[len(seq)] = fit(named[t].key.mask, cv2.INTER_NEAREST)
        real.append(len(seq))
        seq.append(f)
    return seq, keys, real


def render(style_path: str | Path, input_path: str | Path, output_path: str | Path,
           device: str = "auto", precision: str = "auto", batch: int = 4,
           denoise: bool | None = None, max_frames: int | None = None,
           progress: Callable[[int, int], None] | None = None, quiet: bool = False,
           steady: float = STEADY, carry: float = CARRY, phases: int = PHASES) -> int:
    """Render ``input_path`` to ``output_path``; returns the number of frames written."""
    from livestyle.files.safepaths import check_output_not_in_input

    check_output_not_in_input(input_path, output_path)  # before any work: never write over the frames being read
    check_output_not_in_style(style_path, output_path)  # nor over the keyframes, paintings or model
    if not 0.0 <= steady <= 0.95:
        raise LivestyleError(f"--steady must be between 0 (off) and 0.95, got {steady:g}")
    if not 0.0 <= carry <= 1.0:
        raise LivestyleError(f"--carry must be between 0 (off) and 1, got {carry:g}")
    if phases not in PHASE_CHOICES:
        raise LivestyleError(f"--phases must be one of {', '.join(map(str, PHASE_CHOICES))}, got {phases}")
    style = StyleFolder(style_path)
    style.check_exists()
    stylizer, info = Stylizer.from_file(style.model_path, device, precision, phases)
    frames, names, fps = read_clip(input_path, max_frames)
    guides = make_guides([g["name"] for g in info.guides])
    placed = place_keys(style.load(strict=False), frames) if guides or info.denoise or carry > 0 else []
    if (guides or info.denoise) and not placed:
        raise StyleError(f"{style.keys_dir}: the model uses guides, which start from its painted keyframes; "
                         "none found (keys/NAME.png with styled/NAME.png)")
    if not quiet:
        say_placed(placed, names)
    bar = None if quiet else Progress(len(frames), "render", "frames")
    if denoise if denoise is not None else info.denoise:
        from livestyle.temporal import denoise_sequence

        frames = denoise_sequence(frames)
    per_guide = []  # per guide: (H, W, 3) uint8 for every frame of the clip
    if guides:
        seq, keys, real = guide_inputs(frames, placed)
        per_guide = [[full[i] for i in real] for full in (g.sequence(seq, keys) for g in guides)]
    carrier, nearest = _carrier(placed, len(frames), carry, quiet)
    stabilize = OutputStabilizer(steady)
    flow = FlowEstimator(*STEADY_FLOW_RENDER)
    writer = ClipWriter(output_path, fps)
    done = 0
    try:
        for s in range(0, len(frames), batch):
            chunk = frames[s:s + batch]
            g = [[pg[s + i] for pg in per_guide] for i in range(len(chunk))] if per_guide else None
            for i, (name, out) in enumerate(zip(names[s:s + batch], stylizer(chunk, g), strict=True)):
                t = s + i
                to_prev = flow(frames[t], frames[t - 1]) if t and (steady or carrier is not None) else None
                if carrier is not None:
                    out = carrier(frames[t], out, key=nearest[t], flow_to_prev=to_prev)
                if steady:
                    out = stabilize(out, to_prev)
                writer.write(name, out)
            done += len(chunk)
            if bar:
                bar.update(done)
            if progress:
                progress(done, len(frames))
    finally:
        writer.close()
    if bar:
        bar.close(done)
    return done


def _carrier(placed: list[PlacedKey], n_frames: int, strength: float,
             quiet: bool) -> tuple[KeyCarry | None, list[int]]:
    """The keyframe carry for a clip and, per frame, which of its keys to carry from (the nearest by the
    frame each stands for); ``(None, [])`` when it is off or the style has no painted keyframe."""
    if strength <= 0:
        return None, []
    if not placed:
        if not quiet:
            print("livestyle: --carry is off for this clip: the style has no painted keyframe", file=sys.stderr)
        return None, []
    carrier = KeyCarry([CarryKey(p.key.key, p.key.styled, p.key.mask) for p in placed], strength)
    return carrier, nearest_keys(n_frames, [p.frame for p in placed])
