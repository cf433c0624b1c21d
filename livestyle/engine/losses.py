"""Training losses: L1, perceptual (VGG19 or a download-free substitute), LSGAN with a tiny PatchGAN.

All image tensors are ``(B, 3, h, w)`` float RGB in [-1, 1], fed to VGG without
ImageNet normalisation, as the reference code does.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from livestyle.errors import ModelError

VGG19_FILE = "vgg19-dcbb9e9d.pth"  # torchvision's ImageNet weights, if the user has them cached


def _vgg_cache_path() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / VGG19_FILE


class PerceptualFeatures(nn.Module):
    """VGG19 ``features[0:6]``: conv1_1, relu, conv1_2, relu, maxpool, conv2_1.

    Returns the outputs of layers 0, 3 and 5 (conv1_1, relu1_2, conv2_1) as the
    reference does. With the ImageNet weights in the local torch cache they are
    used (``source == "vgg19"``); otherwise the same layers get fixed random
    weights from a seeded Kaiming init (``source == "random"``): random conv
    features still measure local structure and texture statistics, and need no
    download.
    """

    def __init__(self, weights: str | Path | None = None, seed: int = 0):
        super().__init__()
        conv0 = nn.Conv2d(3, 64, 3, padding=1)
        conv2 = nn.Conv2d(64, 64, 3, padding=1)
        conv5 = nn.Conv2d(64, 128, 3, padding=1)
        self.layers = nn.ModuleList([conv0, nn.ReLU(), conv2, nn.ReLU(), nn.MaxPool2d(2, 2), conv5])
        convs = {0: conv0, 2: conv2, 5: conv5}  # index in ``layers`` (and in VGG19 ``features``) -> conv
        path = Path(weights) if weights else _vgg_cache_path()
        self.source = "random"
        if path.is_file():
            # A truncated download or another file under that name: one line naming it, no traceback.
            fix = "delete it (training then uses its download-free substitute) or download it again with torchvision"
            try:
                sd = torch.load(path, map_location="cpu", weights_only=True)
            except Exception:  # UnpicklingError, RuntimeError, EOFError...: torch's own text misleads here
                raise ModelError(f"{path}: cannot be read as VGG19 weights (truncated, or not a PyTorch "
                                 f"file); {fix}") from None
            try:
                for i, conv in convs.items():
                    assert conv.bias is not None  # Conv2d's default bias=True
                    conv.weight.data.copy_(sd[f"features.{i}.weight"])
                    conv.bias.data.copy_(sd[f"features.{i}.bias"])
            except (KeyError, TypeError, IndexError, RuntimeError) as e:
                raise ModelError(f"{path}: not VGG19's weights (no or a wrong {e} tensor); {fix}") from None
            self.source = "vgg19"
        else:
            g = torch.Generator().manual_seed(seed)
            for conv in convs.values():
                assert conv.bias is not None
                fan_in = conv.in_channels * 9
                conv.weight.data = torch.randn(conv.weight.shape, generator=g) * (2.0 / fan_in) ** 0.5
                conv.bias.data.zero_()
        self.requires_grad_(False)
        self.eval()

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = []
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i in (0, 3, 5):
                feats.append(x)
        return feats


def perceptual_loss(feat: PerceptualFeatures, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Sum over layers of the MSE between features (reference: layers 0, 3, 5)."""
    fo, ft = feat(out), feat(target)
    total = F.mse_loss(fo[0], ft[0])
    for a, b in zip(fo[1:], ft[1:], strict=True):
        total = total + F.mse_loss(a, b)
    return total


class PatchDiscriminator(nn.Module):
    """The reference's tiny PatchGAN: 12 filters, 2 layers, instance norm. ``(B, 3, h, w) -> (B, 1, h', w')``."""

    def __init__(self, filters: int = 12, layers: int = 2, in_channels: int = 3):
        super().__init__()
        seq: list[nn.Module] = [nn.Conv2d(in_channels, filters, 4, 2, 1), nn.LeakyReLU(0.2)]
        ch = filters
        for i in range(1, layers + 1):
            out = filters * 2**i
            stride = 2 if i < layers else 1
            seq += [nn.Conv2d(ch, out, 4, stride, 1), nn.InstanceNorm2d(out), nn.LeakyReLU(0.2)]
            ch = out
        seq.append(nn.Conv2d(ch, 1, 4, 1, 1))
        self.net = nn.Sequential(*seq)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def lsgan(pred: torch.Tensor, real: bool) -> torch.Tensor:
    """Least-squares GAN loss against 1 (real) or 0 (fake)."""
    return F.mse_loss(pred, torch.full_like(pred, 1.0 if real else 0.0))
