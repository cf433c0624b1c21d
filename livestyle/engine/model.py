"""The stylization network: one U-Net builder, presets as data.

The ``paper`` preset is the reference generator of Texler et al. 2020
("GeneratorJ" with filters (32, 64, 128, 128, 128, 64), 7 residual blocks,
batch norm, bias, tanh and the two "smoother" convolutions): 3.27 M
parameters. Other presets reuse the same builder with a space-to-depth stem
(``pixel_unshuffle``) so that almost no work happens at full resolution.

Tensors: input ``(B, C_in, H, W)`` float in [-1, 1] (RGB, then guide
channels), output ``(B, 3, H, W)`` float in [-1, 1] RGB. H and W must be
multiples of :meth:`Generator.stride`; :func:`pad_to_stride` does that.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class GeneratorConfig:
    """Everything needed to rebuild a generator; saved beside its weights."""

    in_channels: int = 3  # RGB (3) plus guide channels
    out_channels: int = 3
    unshuffle: int = 1  # space-to-depth factor of the stem (1 = none, as the paper)
    stem_kernel: int = 7
    stem_width: int = 32
    down_widths: tuple[int, ...] = (64, 128)  # one stride-2 conv each
    blocks: int = 7  # residual blocks at the deepest level
    up_width: int = 128  # width of every upsample+conv stage
    up_order: str = "upsample-conv"  # "upsample-conv" (the paper) | "conv-upsample" (conv at the low
    # resolution, then bilinear x2: 4x fewer MACs per decoder stage)
    head_kernel: int = 7  # full-resolution conv that sees the stem skip and raw input
    head_width: int = 64
    smoothers: int = 2  # extra 3x3 convs after the head (the paper's "conv_11_a")
    norm: str = "batch"  # "batch" | "none"
    out_act: str = "tanh"  # "tanh" | "none" (then outputs are clamped at inference only)
    residual: bool = False  # predict a change of the input RGB (out = x_rgb + f(x)); needs out_act "none"
    rgb_kernel: int = 1  # kernel of the last conv (features -> RGB; -> r x r RGB cells when unshuffle > 1)
    refine: int = 0  # with unshuffle > 1: hidden width of a per-pixel MLP at full resolution that
    # corrects each output pixel from it and the input pixel (0 = none); see Generator.forward

    def to_dict(self) -> dict:
        d = asdict(self)
        d["down_widths"] = list(self.down_widths)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> GeneratorConfig:
        known = set(cls.__dataclass_fields__)
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown generator config keys: {sorted(unknown)}")
        d = dict(d)
        if "down_widths" in d:
            d["down_widths"] = tuple(int(w) for w in d["down_widths"])
        return cls(**d)

    def with_inputs(self, in_channels: int) -> GeneratorConfig:
        return replace(self, in_channels=in_channels)


PRESETS: dict[str, GeneratorConfig] = {
    # The reference generator, exactly (Texler et al. 2020, GeneratorJ).
    "paper": GeneratorConfig(),
    # Real-time on a 2-core CPU: a 4x4 patchify stem, one 3x3 conv at 1/4, the rest at 1/8 and
    # 1/16 (decoder convs before their bilinear x2, not after); it predicts a change of the input
    # frame (residual) with no tanh (outputs are clamped at inference). Its last conv is 3x3: each
    # 4x4 cell of the output sees its neighbours' features, so cell edges do not show as a grid (with
    # a 1x1 conv they did, and flickered); the compute for it comes from dropping the residual blocks
    # at 1/16, which did not help within a minute of training. No batch norm: without it the
    # network trains ~10% faster per step, takes a 3x higher learning rate (TRAIN_DEFAULTS) and
    # flickers less (no batch-statistics mismatch between 64 px patches and whole frames). Together,
    # against the same layout with a 1x1 last conv, residual blocks at 1/16 and batch norm, at equal
    # steps (calibration/quality.py): +0.03..0.09 SSIM at 600 steps, warping error 40-60% lower, no
    # slower to run.
    # Last, a per-pixel MLP at full resolution (``refine``, 6 -> 32 -> 3: the cell-predicted change
    # and the input pixel in, a correction out): each 4x4 cell comes from one feature vector, and
    # a local filter's fine structure (flat areas, posterised tones, dark edges) needs every pixel
    # to depend non-linearly on its own input colour. At equal training time (15 s) +0.01..0.05
    # SSIM on all six local-filter scenes of calibration/quality.py (docs/how-it-works.md); widths 16/48/64 were
    # within noise or behind; ~5 ms more per 640x360 frame on an AMX CPU.
    # 0.14 M parameters, ~0.79 GMAC per 640x360 frame vs the paper's 236 GMAC.
    "fast": GeneratorConfig(
        unshuffle=4, stem_kernel=3, stem_width=32, down_widths=(48, 64), blocks=0,
        up_width=32, up_order="conv-upsample", head_kernel=3, head_width=32, smoothers=0,
        norm="none", out_act="none", residual=True, rgb_kernel=3, refine=32,
    ),
    # A middle ground for GPUs and big CPUs: 2x space-to-depth.
    "quality": GeneratorConfig(
        unshuffle=2, stem_kernel=3, stem_width=48, down_widths=(64, 96), blocks=4,
        up_width=64, head_kernel=3, head_width=48, smoothers=1,
    ),
}
DEFAULT_PRESET = "fast"

@dataclass(frozen=True)
class TrainDefaults:
    """Training hyper-parameters that belong to a preset (``train.TrainConfig`` may override each)."""

    patch: int = 32  # patch side in pixels
    batch: int = 40  # patches per step
    lr: float = 4e-4  # Adam learning rate
    ema: float = 0.0  # decay of the published running average of the weights (0 = off)
    lr_hold: int = 0  # steps at ``lr``, then lr * sqrt(lr_hold / step) (0 = constant, as the paper)


# The same pixels per step (40 x 32^2 = 10 x 64^2). The paper preset keeps the paper's values (no
# averaging, no schedule). For ``fast`` (calibration/quality.py; docs/how-it-works.md): 3e-3 learned fastest at
# 200 and 600 steps (2e-3, 5e-3 and 1e-3 less; 5e-4 much less); 64 px x 10 beat 32 x 40 and 96 x 5;
# the published weights are a running average of the optimiser's (decay 0.99: +0.01 SSIM at 60 s,
# less flicker; see ``train.Trainer``). After 1,000 steps its learning rate decays as 1/sqrt(step):
# at a constant 3e-3, bf16 training blew up after ~4,000-5,000 steps (loss 0.3 -> 30, every ReLU
# dead), and the decayed rate also ends lower (eval L1 0.060 vs 0.062 at 9,000 steps, astronaut/oil).
# ``quality`` takes the same averaging and schedule, not measured on its own.
TRAIN_DEFAULTS: dict[str, TrainDefaults] = {
    "paper": TrainDefaults(),
    "fast": TrainDefaults(patch=64, batch=10, lr=3e-3, ema=0.99, lr_hold=1000),
    "quality": TrainDefaults(patch=64, batch=10, lr=1e-3, ema=0.99, lr_hold=1000),
}


def _norm(kind: str, channels: int) -> nn.Module:
    return nn.BatchNorm2d(channels) if kind == "batch" else nn.Identity()


def _conv(cin: int, cout: int, k: int, stride: int = 1, bias: bool = True) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=bias)


class ResBlock(nn.Module):
    """ReLU, conv3x3, norm, ReLU, conv3x3, plus identity (the reference order)."""

    def __init__(self, width: int, norm: str):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReLU(), _conv(width, width, 3), _norm(norm, width), nn.ReLU(), _conv(width, width, 3)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class Generator(nn.Module):
    """U-Net built from a :class:`GeneratorConfig`."""

    def __init__(self, cfg: GeneratorConfig):
        super().__init__()
        if cfg.residual and cfg.out_act != "none":
            raise ValueError("residual output needs out_act='none'")
        if cfg.refine and not (cfg.residual and cfg.unshuffle > 1):
            raise ValueError("refine needs residual output and unshuffle > 1")
        if cfg.up_order not in ("upsample-conv", "conv-upsample"):
            raise ValueError(f"up_order must be 'upsample-conv' or 'conv-upsample', got {cfg.up_order!r}")
        self.cfg = cfg
        r = cfg.unshuffle
        # With r > 1 the stem "patchifies": a r x r stride-r conv, which equals
        # pixel_unshuffle(r) + 1x1 conv but runs ~3x faster on CPU.
        stem = _conv(cfg.in_channels, cfg.stem_width, cfg.stem_kernel) if r == 1 else \
            nn.Conv2d(cfg.in_channels, cfg.stem_width, r, stride=r)
        self.stem = nn.Sequential(stem, _norm(cfg.norm, cfg.stem_width), nn.LeakyReLU(0.2))
        raw = cfg.in_channels if r == 1 else 0  # the head sees the raw input only at full resolution
        downs, widths = [], [cfg.stem_width, *cfg.down_widths]
        for a, b in zip(widths[:-1], widths[1:], strict=True):
            downs.append(nn.Sequential(_conv(a, b, 3, stride=2), _norm(cfg.norm, b), nn.LeakyReLU(0.2)))
        self.downs = nn.ModuleList(downs)
        self.blocks = nn.Sequential(*[ResBlock(widths[-1], cfg.norm) for _ in range(cfg.blocks)])
        ups = []
        prev = widths[-1]
        # Decoder: at each level, concat the skip of that level, upsample x2, conv3x3.
        for skip in reversed(widths[1:]):
            conv = [_conv(prev + skip, cfg.up_width, 3, bias=False), _norm(cfg.norm, cfg.up_width), nn.ReLU()]
            if cfg.up_order == "upsample-conv":
                ups.append(nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), *conv))
            else:
                ups.append(nn.Sequential(*conv, nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)))
            prev = cfg.up_width
        self.ups = nn.ModuleList(ups)
        head = [_conv(prev + cfg.stem_width + raw, cfg.head_width, cfg.head_kernel), nn.ReLU()]
        for i in range(cfg.smoothers):
            head.append(_conv(cfg.head_width, cfg.head_width, 3))
            head.append(nn.ReLU())
            if i == 0 and cfg.smoothers > 1:
                head.append(_norm(cfg.norm, cfg.head_width))
        self.head = nn.Sequential(*head)
        self.to_rgb = _conv(cfg.head_width, cfg.out_channels * r * r, cfg.rgb_kernel)
        self.refine: nn.Sequential | None = None
        if cfg.refine and r > 1:  # 1x1 convs (the weights' shape); run as matrix products, see _pixel_mlp
            last = nn.Conv2d(cfg.refine, cfg.out_channels, 1)
            nn.init.zeros_(last.weight)  # starts as "no correction"
            assert last.bias is not None
            nn.init.zeros_(last.bias)
            self.refine = nn.Sequential(nn.Conv2d(cfg.out_channels + 3, cfg.refine, 1), nn.ReLU(), last)

    @property
    def stride(self) -> int:
        """H and W of the input must be multiples of this."""
        return self.cfg.unshuffle * 2 ** len(self.cfg.down_widths)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r = self.cfg.unshuffle
        x0 = x
        s0 = self.stem(x)  # (B, stem_width, H/r, W/r)
        skips, h = [], s0
        for down in self.downs:
            h = down(h)
            skips.append(h)
        h = self.blocks(h)
        for up, skip in zip(self.ups, reversed(skips), strict=True):
            h = up(torch.cat((h, skip), dim=1))  # (B, up_width, 2h, 2w)
        h = self.head(torch.cat((h, s0, x), dim=1) if r == 1 else torch.cat((h, s0), dim=1))
        h = self.to_rgb(h)
        if self.refine is not None:
            # Per-pixel correction at full resolution: out = d + x + mlp(d, x), d the cell-predicted
            # change, x the input pixel. The U-Net predicts each 4x4 cell from features at 1/4
            # resolution; this lets every pixel's final colour depend non-linearly on its own input
            # colour (tone curves, posterisation, edge darkening of local filters). Planar (NCHW)
            # tensors here: on CPU that makes the matrix products and pixel_shuffle fast.
            if not torch.is_grad_enabled():
                return _refine_inference(self.refine, h, x0, r)
            xr = x0[:, :3].float().contiguous()
            d = F.pixel_shuffle(h.contiguous(), r).float()  # (B, 3, H, W)
            return d + xr + _pixel_mlp(self.refine, d, xr)
        if r > 1:
            h = F.pixel_shuffle(h, r)  # (B, 3, H, W)
        if self.cfg.residual:
            h = h + x0[:, :3]  # start from the input frame: most styles keep its layout and much of its colour
        return torch.tanh(h) if self.cfg.out_act == "tanh" else h


def _mlp_params(seq: nn.Sequential, batch: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Weights and biases of a refinement MLP ``(1x1 conv, ReLU, 1x1 conv)`` shaped for batched
    matrix products: ``w1 (B, hidden, 6)``, ``b1 (1, hidden, 1)``, ``w2 (B, 3, hidden)``, ``b2 (1, 3, 1)``."""
    c1, c2 = seq[0], seq[2]
    assert isinstance(c1, nn.Conv2d) and isinstance(c2, nn.Conv2d)
    assert c1.bias is not None and c2.bias is not None
    w1 = c1.weight.view(1, c1.out_channels, -1).expand(batch, -1, -1)
    w2 = c2.weight.view(1, c2.out_channels, -1).expand(batch, -1, -1)
    return w1, c1.bias.view(1, -1, 1), w2, c2.bias.view(1, -1, 1)


def _pixel_mlp(seq: nn.Sequential, d: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``seq`` = (1x1 conv, ReLU, 1x1 conv) on the channels of ``cat(d, x)`` (both planar
    ``(B, 3, H, W)``), returned as ``(B, 3, H, W)`` float32.

    Run as batched (out, in) x (in, pixels) matrix products in fp32 with autocast off: for so
    few channels at full resolution that is faster on CPU than 1x1 convolutions, which take a
    slow path there (measured with 16 hidden units, 2 threads: forward + backward on 10 patches
    of 64 px 2.3 ms, against 8.2 ms for the convolutions in fp32 and 2.9 ms in bf16 channels_last),
    and bf16 matrix products were slower still on this memory-bound pass (2.7 ms).
    """
    b, _, hh, ww = d.shape
    w1, b1, w2, b2 = _mlp_params(seq, b)
    with torch.autocast(d.device.type, enabled=False):
        z = torch.cat((d.float(), x.float()), dim=1).view(b, -1, hh * ww)  # (B, 6, HW)
        h = torch.baddbmm(b1, w1, z).relu_()  # (B, hidden, HW)
        return torch.baddbmm(b2, w2, h).view(b, -1, hh, ww)


REFINE_CHUNK = 16384  # pixels per matrix product in inference: the hidden layer stays in L2 cache


def _refine_inference(seq: nn.Sequential, cells: torch.Tensor, x: torch.Tensor, r: int) -> torch.Tensor:
    """``d + x + mlp(d, x)`` as in training (:func:`_pixel_mlp`), without autograd and faster:

    - ``d`` (the pixel shuffle of ``cells``, ``(B, 3*r*r, H/r, W/r)``) and the input's RGB
      (``x[:, :3]``) are written into one planar fp32 buffer by two strided copies, whatever
      the memory format and dtype of the sources: no separate pixel_shuffle, cast, contiguous
      and cat passes;
    - the MLP runs on chunks of pixels so that its hidden layer stays in cache (at 720p the
      whole hidden layer would stream through memory twice: 2.5x slower);
    - the output starts as ``d + x + bias`` and the second matrix product accumulates into it.
    """
    b, _, hq, wq = cells.shape
    w1, b1, w2, b2 = _mlp_params(seq, b)
    hh, ww = hq * r, wq * r
    n = hh * ww
    with torch.autocast(cells.device.type, enabled=False):
        z = torch.empty(b, 6, hh, ww, device=cells.device)  # (B, 6, H, W): d then x
        z[:, :3].view(b, 3, hq, r, wq, r).copy_(  # pixel_shuffle: channel c*r*r + i*r + j -> (c, y*r+i, x*r+j)
            cells.permute(0, 2, 3, 1).reshape(b, hq, wq, 3, r, r).permute(0, 3, 1, 4, 2, 5))
        z[:, 3:].copy_(x[:, :3])
        zf = z.view(b, 6, n)
        out = torch.add(zf[:, :3], zf[:, 3:]).add_(b2)  # (B, 3, HW)
        for s in range(0, n, REFINE_CHUNK):
            hid = torch.baddbmm(b1, w1, zf[:, :, s:s + REFINE_CHUNK]).relu_()  # (B, hidden, chunk)
            out[:, :, s:s + REFINE_CHUNK].baddbmm_(w2, hid)
    return out.view(b, -1, hh, ww)


def build(preset_or_cfg: str | GeneratorConfig, in_channels: int = 3) -> Generator:
    cfg = PRESETS[preset_or_cfg] if isinstance(preset_or_cfg, str) else preset_or_cfg
    return Generator(cfg.with_inputs(in_channels))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def pad_to_stride(x: torch.Tensor, stride: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """Reflect-pad ``(B, C, H, W)`` on the bottom/right to multiples of ``stride``.

    Returns the padded tensor and the original ``(H, W)`` to crop back to.
    """
    h, w = x.shape[-2:]
    ph, pw = (-h) % stride, (-w) % stride
    if ph or pw:
        mode = "reflect" if ph < h and pw < w else "replicate"
        x = F.pad(x, (0, pw, 0, ph), mode=mode)
    return x, (h, w)
