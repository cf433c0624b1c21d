"""Where live at a render scale loses to live at full size: PSNR by region of the full-size carry's trust.

For each scene (``quality.py``'s clips and ground-truth styles; the keyframe and its painting full size),
one model is trained at full size and one on the keyframe brought to the work size (as
``render_scale.py``). Live at scale 1 (full-size model) and at ``--scale`` (work-size model, the fine key
flow) run through ``LiveReplay``; every 5th frame is scored against the ground truth in three regions of
the scale-1 keyframe carry's trust (> 0.8, 0.2..0.8, < 0.2). Then, without training, the carried
painting alone (``KeyCarry``: medium-r2 at full size against fine-r2 on the work frame, brought to full
size by ``painting_at``) in the trusted region: is the painting itself as precise at the work size?

    python calibration/render_scale_where.py [--size 640x480] [--scale 0.5] [--steps 900]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import get_photo, machine_line, parse_size, setup_torch  # noqa: E402, I001
from quality import Scene, make_scene  # noqa: E402, I001
from render_scale import train  # noqa: E402, I001

from livestyle.capture.synthclip import homography_clip, load_photo  # noqa: E402
from livestyle.engine.model import Generator  # noqa: E402
from livestyle.live.config import LiveConfig  # noqa: E402
from livestyle.live.keyed import work_size  # noqa: E402
from livestyle.live.replay import LiveReplay  # noqa: E402
from livestyle.style import Keyframe  # noqa: E402
from livestyle.temporal.carry import CarryKey, KeyCarry  # noqa: E402

REGIONS = ("trusted > 0.8", "partly 0.2-0.8", "untrusted < 0.2")


def live(scene: Scene, model: Generator, guides: tuple[str, ...], keys: list[Keyframe], scale: float
         ) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """The live outputs and the carry's trust at full size, frame by frame."""
    h, w = scene.frames[0].shape[:2]
    out, trust = {}, {}
    with LiveReplay(model, guides, keys, LiveConfig(render_scale=scale, key_flow="fine"), (w, h)) as r:
        for t in range(max(scene.needed) + 1):
            out[t] = r.process(scene.frames[t])
            st = r.stage._carry.state
            trust[t] = np.zeros((h, w), np.float32) if st is None else \
                cv2.resize(st.trust, (w, h), interpolation=cv2.INTER_LINEAR)
    return out, trust


def region_psnr(outs: dict[int, np.ndarray], scene: Scene, masks: dict[int, np.ndarray]) -> float:
    se, n = 0.0, 0
    for t, m in masks.items():
        e = np.square(outs[t].astype(np.float32) - scene.gt[t].astype(np.float32)).mean(axis=2)[m]
        se, n = se + float(e.sum()), n + e.size
    return 10 * np.log10(255 ** 2 / max(se / max(n, 1), 1e-9))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=parse_size, default=(640, 480))
    ap.add_argument("--scale", type=float, default=0.5)
    ap.add_argument("--steps", type=int, default=900)
    ap.add_argument("--frames", type=int, default=60)
    args = ap.parse_args(argv)
    setup_torch(2, False)
    cv2.setNumThreads(2)
    started = time.perf_counter()
    w, h = args.size
    ww, hh = work_size(args.size, args.scale)
    print(f"# live at render scale {args.scale:g} against live at scale 1, by region of the carry's trust\n\n"
          f"{machine_line('cpu')}\n\nclips: {args.frames} frames {w}x{h}, mixed motion; {args.steps} training steps "
          f"per model; the fine key flow at the render scale; scored every 5th frame\n")
    print("| photo | style | region | share | live 1 | live " + f"{args.scale:g} | d | carried painting alone: "
          "full size | work size |\n|---|---|---|---|---|---|---|---|---|")
    for photo_name in ("astronaut", "chelsea"):
        photo = get_photo(photo_name, load_photo)
        clip = homography_clip(photo, args.frames, args.size, 0, "mixed", 1.0)
        for style in ("stylize", "brush"):
            scene = make_scene(photo_name, style, clip, photo, 0, 5, {}, None)
            keys = [Keyframe("000", scene.frames[0], scene.gt[0], None)]
            full, guides = train(keys, args.steps, 0)
            small = [Keyframe("000", cv2.resize(k.key, (ww, hh), interpolation=cv2.INTER_AREA),
                              cv2.resize(k.styled, (ww, hh), interpolation=cv2.INTER_AREA), None) for k in keys]
            work, _ = train(small, args.steps, 0)
            o1, t1 = live(scene, full, guides, keys, 1.0)
            o2, _ = live(scene, work, guides, keys, args.scale)
            kf, kw = KeyCarry.live([CarryKey(keys[0].key, keys[0].styled)], scale=1.0), \
                KeyCarry.live([CarryKey(keys[0].key, keys[0].styled)], scale=args.scale, fine=True)
            pf, pw = {}, {}
            for t in scene.targets:
                pf[t] = kf.carry(scene.frames[t], 0).painting
                cw = kw.carry(cv2.resize(scene.frames[t], (ww, hh), interpolation=cv2.INTER_AREA), 0)
                pw[t] = kw.painting_at(cw, (h, w))
            total = sum(int(t1[t].size) for t in scene.targets)
            for name in REGIONS:
                masks = {t: (t1[t] > 0.8) if name == REGIONS[0] else (t1[t] < 0.2) if name == REGIONS[2] else
                         (t1[t] >= 0.2) & (t1[t] <= 0.8) for t in scene.targets}
                share = sum(int(m.sum()) for m in masks.values()) / total
                a, b = region_psnr(o1, scene, masks), region_psnr(o2, scene, masks)
                extra = f"{region_psnr(pf, scene, masks):.2f} | {region_psnr(pw, scene, masks):.2f}" \
                    if name == REGIONS[0] else "— | —"
                print(f"| {photo_name} | {style} | {name} | {share:.2f} | {a:.2f} | {b:.2f} | {b - a:+.2f} | {extra} |",
                      flush=True)
    print(f"\ntotal {(time.perf_counter() - started) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
