"""The network alone at render scale 0.5 against full size: no keyframe carry, no stabiliser.

Per scene (640x480 clips of quality.py, 40 frames, every 5th scored) one model is trained at full size
and one at the work size (900 steps each); PSNR against the ground truth of: the full-size model at full
size; the work-size model at half size with its change of the frame upsampled (live's render scale);
and the same with the refinement MLP run at full size on the upsampled cell change and the full-size
pixels. Tells how much of render scale's loss is the network's resolution (and how much a full-size
refine would win back).

Usage: ``python calibration/render_scale_network.py``
"""
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import get_photo, machine_line, setup_torch  # noqa: E402, I001
from quality import make_scene  # noqa: E402, I001
from render_scale import train  # noqa: E402, I001
from livestyle.capture.synthclip import homography_clip, load_photo  # noqa: E402
from livestyle.engine.model import _refine_inference  # noqa: E402
from livestyle.engine.train import make_guides  # noqa: E402
from livestyle.engine.infer import batch_to_frames, frames_to_batch  # noqa: E402
from livestyle.style import Keyframe  # noqa: E402
from skimage.metrics import peak_signal_noise_ratio as psnr  # noqa: E402
setup_torch(2, False)
print(f"# the network alone at render scale 0.5\n\n{machine_line('cpu')}\n", flush=True)
W, H = 640, 480
w, h = W // 2, H // 2

def trunk(m, x):
    """The generator up to its cell-predicted change (``Generator.forward`` before the refinement)."""
    s0 = m.stem(x)
    hh, skips = s0, []
    for d in m.downs:
        hh = d(hh)
        skips.append(hh)
    hh = m.blocks(hh)
    for up, skip in zip(m.ups, reversed(skips), strict=True):
        hh = up(torch.cat((hh, skip), 1))
    return m.to_rgb(m.head(torch.cat((hh, s0), 1)))


def to_img(y):
    return batch_to_frames(y.float())[0]


for photo in ("astronaut", "chelsea"):
    clip = homography_clip(get_photo(photo, load_photo), 40, (W, H), 0, "mixed", 1.0)
    for style in ("stylize", "oil", "brush"):
        sc = make_scene(photo, style, clip, get_photo(photo, load_photo), 0, 5, {})
        keys = [Keyframe("000", sc.frames[0], sc.gt[0], None)]
        small_keys = [Keyframe("000", cv2.resize(sc.frames[0], (w, h), interpolation=cv2.INTER_AREA),
                               cv2.resize(sc.gt[0], (w, h), interpolation=cv2.INTER_AREA), None)]
        full, guides = train(keys, 900, 0)
        work, _ = train(small_keys, 900, 0)
        gfull = make_guides(guides)[0].sequence(sc.frames, {0: None})
        fsmall = [cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA) for f in sc.frames]
        gsmall = make_guides(guides)[0].sequence(fsmall, {0: None})
        res = {"full": [], "scale0.5": [], "scale0.5+full refine": []}
        with torch.inference_mode():
            for t in sc.targets:
                xb = frames_to_batch([sc.frames[t]], [[gfull[t]]], full.stride)
                res["full"].append(psnr(sc.gt[t], to_img(full(xb)[..., :H, :W]), data_range=255))
                xs = frames_to_batch([fsmall[t]], [[gsmall[t]]], work.stride)
                ys = to_img(work(xs)[..., :h, :w])
                change = cv2.subtract(ys, fsmall[t], dtype=cv2.CV_16S)
                up = cv2.add(sc.frames[t], cv2.resize(change, (W, H)), dtype=cv2.CV_8U)
                res["scale0.5"].append(psnr(sc.gt[t], up, data_range=255))
                cells = trunk(work, xs)  # (1, 48, h/4, w/4)
                d = torch.nn.functional.pixel_shuffle(cells, 4)[..., :h, :w]
                dup = torch.nn.functional.interpolate(d, size=(H, W), mode="bilinear", align_corners=False)
                xf = frames_to_batch([sc.frames[t]], [[gfull[t]]], 1)[:, :3, :H, :W]
                y = _refine_inference(work.refine, torch.nn.functional.pixel_unshuffle(dup, 4), xf, 4)
                res["scale0.5+full refine"].append(psnr(sc.gt[t], to_img(y), data_range=255))
        print(photo, style, {k: round(float(np.mean(v)), 2) for k, v in res.items()}, flush=True)
