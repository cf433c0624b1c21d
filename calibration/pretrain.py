"""Meta-learn the starting weights of a preset (Reptile, Nichol et al. 2018): ``livestyle/assets/priors/<preset>.safetensors``.

Few-shot training from random weights spends its first few hundred steps
learning what every style shares: keep the layout, follow the edges, map
colours through a smooth curve. A *prior* learned across many small style
tasks starts from there. Reptile: for each task, copy the prior, take K
training steps exactly as ``livestyle train`` does (same sampler, patch size,
batch, optimiser, guide and guide dropout), then move the prior a fraction
``eps`` of the way toward the adapted weights; ``eps`` decays over the run.

Tasks are held out from ``calibration/quality.py`` on purpose, so that its
scores measure a style the prior never saw:

- images: scikit-image's bundled photos and textures *except* astronaut,
  chelsea and coffee (the benchmark's), randomly cropped, scaled, flipped and
  colour-mixed (grey ones get a random tint);
- styles: one or two of tone curves + colour mixing, hue/saturation shifts, a
  bilateral cartoon with ink lines, detail enhancement, blur, unsharp mask,
  erosion/dilation, an edge sketch on tinted paper, emboss, and a random small
  convolutional filter. Not used: oil painting, OpenCV stylization,
  posterization, pencil sketch and the stroke/brush textures (the benchmark's, `gt_styles.py`).

    python calibration/pretrain.py --minutes 30            # writes livestyle/assets/priors/fast.safetensors
    python calibration/pretrain.py --tasks 200 --out /tmp/p.safetensors

Needs scikit-image (``pip install -e '.[test]'``); the shipped prior does not.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from livestyle.engine import checkpoint  # noqa: E402
from livestyle.engine.checkpoint import ModelInfo  # noqa: E402
from livestyle.engine.model import Generator  # noqa: E402
from livestyle.engine.train import TrainConfig, Trainer  # noqa: E402
from livestyle.paths import ASSETS  # noqa: E402
from livestyle.style import Keyframe  # noqa: E402

HELD_OUT = ("astronaut", "chelsea", "coffee")  # calibration/quality.py's photos: never seen here
IMAGES = ("rocket.jpg", "motorcycle_left.png", "motorcycle_right.png", "retina.jpg", "ihc.png",
          "hubble_deep_field.jpg", "camera.png", "moon.png", "coins.png", "brick.png", "grass.png",
          "gravel.png", "clock_motion.png", "horse.png", "cell.png", "color.png", "page.png", "text.png",
          "chessboard_RGB.png", "logo.png")


def load_images() -> list[np.ndarray]:
    import skimage

    folder = Path(os.path.dirname(skimage.__file__)) / "data"
    out = []
    for name in IMAGES:
        assert not name.startswith(HELD_OUT)
        im = cv2.imread(str(folder / name), cv2.IMREAD_UNCHANGED)
        if im is None:
            continue
        if im.dtype != np.uint8:
            im = (im.astype(np.float64) / max(float(im.max()), 1.0) * 255).astype(np.uint8)
        if im.ndim == 2:
            im = cv2.cvtColor(im, cv2.COLOR_GRAY2BGR)
        elif im.shape[2] == 4:
            im = cv2.cvtColor(im, cv2.COLOR_BGRA2BGR)
        out.append(im)
    if len(out) < 5:
        raise SystemExit("pretrain: scikit-image's sample images are missing; pip install -e '.[test]'")
    return out


def random_view(images: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """A random crop (192-400 px wide), scale, flip and colour mix of one image."""
    im = images[int(rng.integers(len(images)))]
    w = int(rng.integers(192, 401))
    h = int(w * rng.uniform(0.6, 1.0))
    fit = max(w / im.shape[1], h / im.shape[0])
    s = rng.uniform(fit, max(1.0, 1.5 * fit))
    im = cv2.resize(im, None, fx=s, fy=s, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    y = int(rng.integers(0, im.shape[0] - h + 1))
    x = int(rng.integers(0, im.shape[1] - w + 1))
    im = im[y:y + h, x:x + w]
    if rng.random() < 0.5:
        im = im[:, ::-1]
    mix = (np.eye(3) + rng.normal(0, 0.15, (3, 3))).astype(np.float32)
    return np.clip(im.astype(np.float32) @ mix.T, 0, 255).astype(np.uint8)


# Styles: (H, W, 3) uint8 BGR -> same, random parameters from rng.
def tone(f: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    ramp = np.arange(256) / 255.0
    lut = np.stack([255 * ramp ** rng.uniform(0.5, 2.0) for _ in range(3)], 1)
    mix = np.eye(3) + rng.normal(0, 0.25, (3, 3))
    out = np.stack([lut[f[..., c], c] for c in range(3)], -1) @ mix.T + rng.normal(0, 20, 3)
    return np.clip(out, 0, 255).astype(np.uint8)


def cartoon(f: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    s = f
    for _ in range(int(rng.integers(1, 4))):
        s = cv2.bilateralFilter(s, 7, rng.uniform(20, 80), 7)
    grey = cv2.medianBlur(cv2.cvtColor(f, cv2.COLOR_BGR2GRAY), 5)
    ink = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 9, int(rng.integers(2, 8)))
    return (s * (ink[..., None] / 255.0)).astype(np.uint8)


def detail(f: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return cv2.detailEnhance(f, sigma_s=rng.uniform(5, 30), sigma_r=rng.uniform(0.05, 0.3))


def blur(f: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    k = int(rng.integers(1, 5)) * 2 + 1
    return cv2.medianBlur(f, k) if rng.random() < 0.5 else cv2.GaussianBlur(f, (k, k), 0)


def sharpen(f: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    a = rng.uniform(0.5, 2.5)
    return cv2.addWeighted(f, 1 + a, cv2.GaussianBlur(f, (0, 0), rng.uniform(1, 4)), -a, 0)


def morph(f: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (int(rng.integers(2, 6)) * 2 + 1,) * 2)
    return cv2.erode(f, k) if rng.random() < 0.5 else cv2.dilate(f, k)


def sketch(f: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    g = cv2.GaussianBlur(cv2.cvtColor(f, cv2.COLOR_BGR2GRAY), (0, 0), rng.uniform(0.7, 2)).astype(np.float32)
    edges = np.clip(np.hypot(cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1)) * rng.uniform(1, 4), 0, 255)
    paper, ink = rng.uniform(180, 255, 3), rng.uniform(0, 90, 3)
    return np.clip(paper - edges[..., None] / 255 * (paper - ink), 0, 255).astype(np.uint8)


def hue(f: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    hsv = cv2.cvtColor(f, cv2.COLOR_BGR2HSV)
    hsv[..., 0] = (hsv[..., 0].astype(np.int32) + int(rng.integers(0, 180))) % 180
    hsv[..., 1] = np.clip(hsv[..., 1] * rng.uniform(0.3, 1.8), 0, 255)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)


def random_conv(f: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    x = torch.from_numpy(np.ascontiguousarray(f)).permute(2, 0, 1)[None].float() / 127.5 - 1
    w1 = torch.from_numpy(rng.normal(0, 0.5, (16, 3, 3, 3)).astype(np.float32))
    w2 = torch.from_numpy(rng.normal(0, 0.15, (3, 16, 3, 3)).astype(np.float32))
    with torch.no_grad():
        y = x + torch.nn.functional.conv2d(torch.tanh(torch.nn.functional.conv2d(x, w1, padding=1)), w2, padding=1)
    return ((y.clamp(-1, 1) + 1) * 127.5)[0].permute(1, 2, 0).numpy().astype(np.uint8)


def emboss(f: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    k = np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], np.float32) * rng.uniform(0.5, 1.5)
    return cv2.filter2D(f, -1, k)


STYLES = (tone, cartoon, detail, blur, sharpen, morph, sketch, hue, random_conv, emboss)


# Textures attached to the picture (what the blob guide is for): where a mark goes is a matter of
# position, not of the local colour. None of them is quality.py's ``texture`` or ``brush``.
def stipple(f: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Dots of 1-3 px, darker than the colour under them, denser where the picture is dark."""
    out = f.copy()
    h, w = f.shape[:2]
    n = int(h * w / rng.uniform(20, 80))
    ys, xs = rng.integers(0, h, n), rng.integers(0, w, n)
    grey = cv2.cvtColor(f, cv2.COLOR_BGR2GRAY)
    keep = rng.random(n) < 1.2 - grey[ys, xs] / 255.0
    dark = rng.uniform(0.2, 0.7)
    for y, x in zip(ys[keep], xs[keep], strict=True):
        colour = tuple(float(c) * dark for c in f[y, x])
        cv2.circle(out, (int(x), int(y)), int(rng.integers(1, 4)), colour, -1, cv2.LINE_AA)
    return out


def mosaic(f: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Voronoi tiles of 6-16 px, each the mean colour under it, with dark grout."""
    h, w = f.shape[:2]
    step = rng.uniform(6, 16)
    n = int(h * w / step ** 2)
    pts = np.stack([rng.uniform(0, w, n), rng.uniform(0, h, n)], 1).astype(np.float32)
    sub = cv2.Subdiv2D((0, 0, w, h))
    for x, y in pts:
        sub.insert((float(min(x, w - 1)), float(min(y, h - 1))))
    facets, _ = sub.getVoronoiFacetList([])
    labels = np.zeros((h, w), np.int32)
    for i, poly in enumerate(facets):
        cv2.fillConvexPoly(labels, poly.astype(np.int32), i + 1)
    flat = labels.ravel()
    counts = np.bincount(flat, minlength=len(facets) + 1).astype(np.float64)
    means = np.stack([np.bincount(flat, f[..., c].ravel(), len(facets) + 1) for c in range(3)], 1)
    out = (means / np.maximum(counts, 1)[:, None])[labels]
    edges = cv2.dilate((cv2.Laplacian(labels.astype(np.float32), cv2.CV_32F) != 0).astype(np.uint8), None)
    out[edges > 0] *= rng.uniform(0.3, 0.7)
    return np.clip(out, 0, 255).astype(np.uint8)


def grain(f: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Paper or canvas grain: the picture times a fixed random texture of 1-4 px."""
    h, w = f.shape[:2]
    s = rng.uniform(1, 4)
    noise = cv2.resize(rng.normal(0, 1, (int(h / s) + 1, int(w / s) + 1)).astype(np.float32), (w, h))
    if rng.random() < 0.5:  # woven: add a grid
        period = int(rng.integers(3, 8))
        yy, xx = np.mgrid[0:h, 0:w]
        noise = noise + 1.5 * np.sin(2 * np.pi * xx / period) * np.sin(2 * np.pi * yy / period)
    out = f.astype(np.float32) * (1 + rng.uniform(0.08, 0.25) * noise[..., None])
    return np.clip(out, 0, 255).astype(np.uint8)


TEXTURES = (stipple, mosaic, grain)


def random_task(images: list[np.ndarray], rng: np.random.Generator, textures: float = 0.0) -> Keyframe:
    """A keyframe and its "painting": one or two random styles applied in turn, then, with
    probability ``textures``, an attached texture."""
    key = np.ascontiguousarray(random_view(images, rng))
    styled = key
    for _ in range(int(rng.integers(1, 3))):
        styled = STYLES[int(rng.integers(len(STYLES)))](styled, rng)
    if rng.random() < textures:
        styled = TEXTURES[int(rng.integers(len(TEXTURES)))](styled, rng)
    return Keyframe("0", key, np.ascontiguousarray(styled), None)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="fast")
    ap.add_argument("--minutes", type=float, default=30.0, help="time budget (default 30)")
    ap.add_argument("--tasks", type=int, help="stop after this many tasks instead")
    ap.add_argument("--inner-steps", type=int, default=64, help="training steps per task (default 64)")
    ap.add_argument("--eps", type=float, nargs=2, default=(0.55, 0.05), metavar=("START", "END"),
                    help="outer step size, decayed linearly from START to END (default 0.55 0.05)")
    ap.add_argument("--textures", type=float, default=0.0,
                    help="share of tasks that also get an attached texture (stipple, mosaic, grain)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, help="default: livestyle/assets/priors/<preset>.safetensors")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    torch.set_num_threads(min(2, torch.get_num_threads()))
    out = a.out or ASSETS / "priors" / f"{a.preset}.safetensors"
    images = load_images()
    rng = np.random.default_rng(a.seed)
    torch.manual_seed(a.seed)
    prior: dict[str, torch.Tensor] | None = None
    gen_cfg = None
    t0 = time.perf_counter()
    n = 0

    def progress() -> float:
        if a.tasks:
            return n / a.tasks
        return (time.perf_counter() - t0) / (a.minutes * 60)

    while progress() < 1.0:
        task = random_task(images, rng, a.textures)
        cfg = TrainConfig(preset=a.preset, iterations=a.inner_steps, ema=0.0, init="scratch",
                          seed=int(rng.integers(1 << 30)))
        trainer = Trainer([task], cfg, init_state=prior)
        if prior is None:
            prior = {k: v.detach().float().clone() for k, v in trainer.model.state_dict().items()}
            gen_cfg = trainer.gen_cfg
        first = last = float("nan")
        for i in range(a.inner_steps):
            last = trainer.step()
            first = last if i == 0 else first
        eps = a.eps[0] + (a.eps[1] - a.eps[0]) * min(1.0, progress())
        adapted = trainer.model.state_dict()
        for k in prior:
            prior[k] += eps * (adapted[k].float() - prior[k])
        n += 1
        if n % 50 == 0:
            print(f"[{time.perf_counter() - t0:6.0f}s] {n} tasks  loss {first:.3f} -> {last:.3f}  eps {eps:.2f}",
                  flush=True)
    assert prior is not None and gen_cfg is not None
    model = Generator(gen_cfg)
    model.load_state_dict(prior)
    info = ModelInfo(preset=a.preset, config=gen_cfg, guides=[{"name": g} for g in TrainConfig().guides],
                     train={"method": "reptile", "tasks": n, "inner_steps": a.inner_steps,
                            "eps": list(a.eps), "seconds": round(time.perf_counter() - t0), "seed": a.seed,
                            "images": "scikit-image data except " + ", ".join(HELD_OUT),
                            "styles": [s.__name__ for s in STYLES], "textures": a.textures,
                            "texture_styles": [t.__name__ for t in TEXTURES]})
    out.parent.mkdir(parents=True, exist_ok=True)
    checkpoint.save(out, model, info)
    print(f"pretrain: wrote {out} ({n} tasks of {a.inner_steps} steps, {time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
