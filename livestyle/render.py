"""Offline render: stylize every frame of a clip with a trained style.

Keyframe names in the style folder are frame indices of the input
(``keys/000.png`` is frame 0). Guides are computed over the whole clip first
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

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from livestyle.engine.infer import PHASE_CHOICES, PHASES, Stylizer
from livestyle.engine.train import make_guides
from livestyle.errors import LivestyleError, StyleError
from livestyle.files.video import ClipWriter, read_clip
from livestyle.progress import Progress
from livestyle.style import StyleFolder
from livestyle.temporal import STEADY, STEADY_FLOW_RENDER, FlowEstimator, OutputStabilizer
from livestyle.temporal.carry import CARRY, CarryKey, KeyCarry, nearest_keys


def key_indices(style: StyleFolder, n_frames: int) -> dict[int, np.ndarray | None]:
    """Map frame index -> keyframe mask (None = whole frame) from the style folder's key names."""
    from livestyle.files.imageio import read_mask

    out: dict[int, np.ndarray | None] = {}
    for name in style.key_names():
        try:
            idx = int(name)
        except ValueError:
            raise StyleError(f"{style.keys_dir / name}.*: for render, keyframes are named by their frame "
                             f"index in the input (e.g. 000.png); rename {name!r}") from None
        if not 0 <= idx < n_frames:
            raise StyleError(f"{style.keys_dir / name}.*: frame {idx} is outside the input's 0..{n_frames - 1}")
        mp = next(iter(style.masks_dir.glob(f"{name}.*")), None) if style.masks_dir.is_dir() else None
        out[idx] = read_mask(mp) if mp else None
    return out


def render(style_path: str | Path, input_path: str | Path, output_path: str | Path,
           device: str = "auto", precision: str = "auto", batch: int = 4,
           denoise: bool | None = None, max_frames: int | None = None,
           progress: Callable[[int, int], None] | None = None, quiet: bool = False,
           steady: float = STEADY, carry: float = CARRY, phases: int = PHASES) -> int:
    """Render ``input_path`` to ``output_path``; returns the number of frames written."""
    from livestyle.files.safepaths import check_output_not_in_input

    check_output_not_in_input(input_path, output_path)  # before any work: never write over the frames being read
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
    keys = key_indices(style, len(frames)) if guides or info.denoise else {}
    if (guides or info.denoise) and not keys:
        raise StyleError(f"{style.keys_dir}: the model uses guides, which start from keyframes named by frame "
                         "index (000.png); none found")
    bar = None if quiet else Progress(len(frames), "render", "frames")
    if denoise if denoise is not None else info.denoise:
        from livestyle.temporal import denoise_sequence

        frames = denoise_sequence(frames)
    per_guide = [g.sequence(frames, keys) for g in guides]  # each: list of (H, W, 3) uint8
    carrier, nearest = _carrier(style, len(frames), carry, quiet)
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


def _carrier(style: StyleFolder, n_frames: int, strength: float, quiet: bool) -> tuple[KeyCarry | None, list[int]]:
    """The keyframe carry for a clip and, per frame, which of its keys to carry from (the nearest by
    index); ``(None, [])`` when it is off or no painted keyframe is named by a frame index of the input."""
    if strength <= 0:
        return None, []
    indexed = [(int(k.name), k) for k in style.load(strict=False) if k.name.isdigit() and int(k.name) < n_frames]
    if not indexed:
        if not quiet:
            print("livestyle: --carry is off for this clip: no painted keyframe is named by one of its frame "
                  "indices (000.png = frame 0)", file=sys.stderr)
        return None, []
    carrier = KeyCarry([CarryKey(k.key, k.styled, k.mask) for _, k in indexed], strength)
    return carrier, nearest_keys(n_frames, [i for i, _ in indexed])
