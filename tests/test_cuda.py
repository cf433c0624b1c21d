"""The CUDA path: inference, training and the live per-frame path on an NVIDIA GPU.

Skipped where PyTorch sees no CUDA device (CI and the dev machines have none); run on a GPU
machine by ``calibration/gpu_check.sh``. CPU fp32 is the reference for every comparison.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from livestyle.engine.device import pick
from livestyle.engine.infer import Stylizer
from livestyle.engine.model import build
from livestyle.engine.train import TrainConfig, Trainer
from livestyle.live.config import LiveConfig
from livestyle.live.replay import LiveReplay
from livestyle.style import Keyframe

from .conftest import astronaut, paint

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device visible to PyTorch")

PRECISIONS = ["fp32", "fp16"] + (["bf16"] if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else [])
TOLERANCE = {"fp32": 2, "fp16": 6, "bf16": 12}  # grey levels (0..255) of the worst pixel against CPU fp32


def frames(n: int = 3, size: tuple[int, int] = (98, 66)) -> list[np.ndarray]:
    big = astronaut((size[0] + 4 * n, size[1] + 8))
    return [np.ascontiguousarray(big[4:4 + size[1], 3 * i:3 * i + size[0]]) for i in range(n)]


def test_auto_picks_the_gpu():
    c = pick("auto")
    assert c.device.type == "cuda"
    assert c.precision in ("bf16", "fp16")


@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("preset", ["fast", "paper"])
@pytest.mark.parametrize("phases", [1, 4])
def test_gpu_inference_matches_cpu(preset, precision, phases):
    torch.manual_seed(0)
    model = build(preset, 6).eval()
    fr = frames()
    guides = [[np.roll(f, 5, axis=1)] for f in fr]
    ref = Stylizer(model, pick("cpu", "fp32"), phases)(fr, guides)
    out = Stylizer(copy.deepcopy(model), pick("cuda", precision), phases)(fr, guides)
    for a, b in zip(out, ref, strict=True):
        assert a.shape == b.shape and a.dtype == np.uint8
        assert np.abs(a.astype(int) - b.astype(int)).max() <= TOLERANCE[precision]


def test_gpu_swap_takes_the_new_weights():
    torch.manual_seed(1)
    a, b = build("fast", 3).eval(), build("fast", 3).eval()
    st = Stylizer(a, pick("cuda", "fp32"))
    fr = frames(1)
    before = st(fr)[0]
    st.swap(b.state_dict())
    after = st(fr)[0]
    want = Stylizer(b, pick("cpu", "fp32"))(fr)[0]
    assert not np.array_equal(before, after)
    assert np.abs(after.astype(int) - want.astype(int)).max() <= TOLERANCE["fp32"]


@pytest.mark.parametrize("precision", PRECISIONS)
def test_gpu_training_lowers_the_loss(precision):
    key = astronaut((96, 64))
    kf = [Keyframe("000", key, paint(key), None)]
    trainer = Trainer(kf, TrainConfig(device="cuda", precision=precision, seed=0))
    losses = [trainer.step() for _ in range(80)]
    assert all(np.isfinite(v) for v in losses)
    assert np.mean(losses[-10:]) < np.mean(losses[:5])
    state = trainer.state_dict()
    assert all(torch.isfinite(v.float()).all() for v in state.values())


def test_gpu_live_path_matches_cpu():
    torch.manual_seed(2)
    model = build("fast", 6).eval()
    fr = frames(4)
    kf = [Keyframe("000", fr[0], paint(fr[0]), None)]
    outs = {}
    for device in ("cpu", "cuda"):
        m = copy.deepcopy(model)
        cfg = LiveConfig(device=device, precision="fp32", carry=1.0)
        with LiveReplay(m, ("blobs",), kf, cfg, fr[0].shape[1::-1]) as r:
            outs[device] = [r.process(f) for f in fr]
    for a, b in zip(outs["cuda"], outs["cpu"], strict=True):
        assert np.abs(a.astype(int) - b.astype(int)).mean() < 1.0
