"""Does the live blob tracker drift? Point error against exact ground truth over a long clip.

Runs ``BlobTracker`` on a ``SyntheticScene`` (a person photo in a textured
room, smooth random camera motion, lighting drift, sensor noise) whose true
homographies are known, and prints the median / p95 distance between the
tracked seeds and their true positions at chosen frames, the share of seeds
drawn, and milliseconds per update. Optionally the person leaves the frame
(mask empty, background only) for a stretch and comes back.

``--photo NAME`` runs instead on one of the quality benchmark's clips (a photo
moved by smooth random homographies, no mask; ``NAME-flat`` is the photo
flattened into uniform regions, where flow is a guess and the tracker's
neighbour regularisation matters); ``--no-regularize`` turns that off.

    python calibration/drift.py --frames 1000
    python calibration/drift.py --frames 3000 --size 640x360 --leave 400:460
    python calibration/drift.py --photo astronaut-flat --frames 120 --size 320x240 [--no-regularize]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import get_photo  # noqa: E402

from livestyle.capture.synthclip import SyntheticScene, homography_clip, load_photo, map_points  # noqa: E402
from livestyle.guides import BlobGuide  # noqa: E402
from livestyle.temporal import CausalDenoiser  # noqa: E402


class PhotoClip:
    """A quality-benchmark clip with ``SyntheticScene``'s interface (no mask: the whole frame)."""

    def __init__(self, name: str, frames: int, size: tuple[int, int], seed: int, fps: float) -> None:
        self.clip = homography_clip(get_photo(name, load_photo), frames, size, seed, "mixed")
        self.fps = fps

    def _i(self, t: float) -> int:
        return round(t * self.fps)

    def frame(self, t: float) -> np.ndarray:
        return self.clip.frames[self._i(t)]

    def mask(self, t: float) -> np.ndarray:
        return np.full(self.clip.frames[0].shape[:2], 255, np.uint8)

    def homography(self, t: float, t0: float) -> np.ndarray:
        return self.clip.homographies[self._i(t)] @ np.linalg.inv(self.clip.homographies[self._i(t0)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=1000)
    ap.add_argument("--size", default="640x360", help="WxH")
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--anchor-every", type=int, default=8)
    ap.add_argument("--anchor-preset", default="ultrafast", help="DIS preset of the keyframe -> frame flow")
    ap.add_argument("--denoise", action="store_true", help="run CausalDenoiser first and reuse its flow")
    ap.add_argument("--leave", default="", help="START:END frames with the person gone (mask empty)")
    ap.add_argument("--photo", default="", help="a quality-benchmark clip instead (astronaut, coffee, chelsea, "
                    "astronaut-flat, ...)")
    ap.add_argument("--no-regularize", action="store_true", help="seeds on flat regions do not follow their neighbours")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    scene: SyntheticScene | PhotoClip = (PhotoClip(args.photo, args.frames, (w, h), args.seed, args.fps)
                                         if args.photo else SyntheticScene((w, h), seed=args.seed))
    leave = tuple(int(v) for v in args.leave.split(":")) if args.leave else (-1, -1)
    marks = {1, 10, 30, 60, 100, 500, 1000, 2000, 5000, 10000, args.frames - 1} if args.photo else \
        {1, 100, 500, 1000, 2000, 5000, 10000, args.frames - 1}
    if args.leave:
        marks |= {leave[0] - 1, leave[1], leave[1] + 5, leave[1] + 30}
    report = sorted(f for f in marks if 0 < f < args.frames)

    key = scene.frame(0.0)
    key_mask = scene.mask(0.0)
    guide = BlobGuide()
    kp, _ = guide.key_points(key, key_mask)
    tracker = guide.tracker(key, key_mask, anchor_every=args.anchor_every, anchor_preset=args.anchor_preset,
                            regularize=not args.no_regularize)
    denoiser = CausalDenoiser() if args.denoise else None
    if denoiser is not None:
        denoiser(key)
    times: list[float] = []
    empty = np.zeros((h, w), np.uint8)
    print(f"{args.photo or 'synthetic scene'}: {len(kp)} seeds, {w}x{h}, {args.frames} frames, anchor every "
          f"{args.anchor_every} ({args.anchor_preset} flow), regularisation {'off' if args.no_regularize else 'on'}")
    print(" frame  drawn  median_px  p95_px  max_px")
    for i in range(1, args.frames):
        t = i / args.fps
        gone = leave[0] <= i < leave[1]
        frame = scene.frame(t)
        mask = scene.mask(t)
        if gone:  # the person left: show the room with their rectangle blurred away
            frame = np.where(mask[:, :, None] > 0, cv2.blur(frame, (61, 61)), frame)
            mask = empty
        t0 = time.perf_counter()
        flow = None
        if denoiser is not None:
            frame = denoiser(frame)
            flow = denoiser.last_flow
        tracker.update(frame, mask, flow_to_prev=flow)
        times.append(time.perf_counter() - t0)
        if i in report:
            truth = map_points(scene.homography(t, 0.0), kp)
            inside = (truth[:, 0] >= 0) & (truth[:, 0] <= w - 1) & (truth[:, 1] >= 0) & (truth[:, 1] <= h - 1)
            vis = tracker.visible & inside
            if not vis.any():
                print(f"{i:6d}  {0:5d}  (none drawn)")
                continue
            err = np.linalg.norm(tracker.points[vis] - truth[vis], axis=1)
            print(f"{i:6d}  {vis.sum():5d}  {np.median(err):9.3f}  {np.percentile(err, 95):6.3f}  {err.max():6.2f}"
                  f"   ({inside.sum()} truly in frame)")
    ms = np.array(times) * 1e3
    what = "denoise + update" if denoiser is not None else "update"
    print(f"ms per {what}: mean {ms.mean():.2f}  median {np.median(ms):.2f}  p95 {np.percentile(ms, 95):.2f}")


if __name__ == "__main__":
    main()
