"""The int8 network: the ``Stylizer``'s network quantized to int8 for OpenVINO once its weights settle.

Once the weights stop changing (live, after training, or a saved style), the
``Stylizer`` can run the network quantized to int8: every convolution's input and weights (but the
per-pixel refinement MLP's, ``INT8_KEEP``) pass through fake quantization (ranges from one real frame),
exported with the weights baked in, and OpenVINO runs those convolutions as int8 (AVX-512 VNNI,
AVX-VNNI, AMX; on plain AVX2 with 7-bit weights, which its int8 dot product cannot saturate). A
self-check against PyTorch fp32 on that frame keeps it off where it is not close (``INT8_MIN_PSNR``).
Quality through the live path: within 0.01 dB of the float network (calibration/results/
live-gap-2026-12-05-v18-int8-*.md); speed: live-2026-12-05-v18-int8.md, backends-2026-12-05-v18-int8*.md.
"""

from __future__ import annotations

import copy
import os
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from livestyle.engine.runtime import (
    _EXPORT_LOCK,
    MAX_SHAPES,
    OpenVinoNet,
    _conv_refine,
    export_onnx,
    log,
)

# The self-check's floor (PSNR in dB of the int8 output against PyTorch fp32 on the calibration frame, both on
# 0..255). With the refinement MLP in float, the demo style's network scored 42.8 and a real clip's style's
# 48.7-50.9 on the AMD EPYC dev CPU (7-bit weights on its AVX2 stand-in: ~2 dB lower); 8-bit weights on AVX2
# without VNNI, whose dot product saturates, scored 25-32 (the whole network quantized).
INT8_MIN_PSNR = 36.0
# Activation ranges: the calibration frame's, widened by this share, since later frames go past it (one
# frame's exact ranges clipped the next ones: max error 0.58 on [-1, 1] against 0.13 with 1.25).
INT8_MARGIN = 1.25
# Left in floating point: the refinement MLP (``model.Generator.refine``). Its input, the cell change beside the
# pixel, spans [-12, 7] on the demo style: quantized, the whole network scored 32-33 dB against PyTorch fp32 (the
# others' 41-44); without it 42.8 (the demo style) and 49.6 (a real clip's style). It runs at the compile's float
# precision: bf16 where the CPU has it natively, else fp32.
INT8_KEEP = ("refine",)


def cpu_has_vnni() -> bool:
    """True when int8 dot products here do not saturate (AVX-512 VNNI, AVX-VNNI or AMX), as far as Linux's
    /proc/cpuinfo tells and ``OV_CPU_MAX_ISA`` does not cap them; False elsewhere (then 7-bit weights)."""
    if os.environ.get("OV_CPU_MAX_ISA", "").strip().upper() in ("SSE41", "AVX", "AVX2"):
        return False
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((ln for ln in f if ln.startswith("flags")), "").split()
    except OSError:
        return False
    return any(f in flags for f in ("avx512_vnni", "avx_vnni", "amx_int8"))


class _FakeQuantConv(nn.Module):
    """``conv`` with its input fake-quantized to uint8 (per tensor, range ``lo``..``hi``) and its weights to
    ``levels`` steps each side of 0 (per output channel): ONNX QuantizeLinear/DequantizeLinear pairs, which
    OpenVINO's CPU plugin runs as one int8 convolution."""

    weight: torch.Tensor
    w_scale: torch.Tensor
    w_zero: torch.Tensor

    def __init__(self, conv: nn.Conv2d, lo: float, hi: float, levels: int):
        super().__init__()
        lo, hi = min(lo, 0.0), max(hi, 1e-6)
        self.scale = (hi - lo) / 255
        self.zero = round(-lo / self.scale)
        w = conv.weight.detach().float()
        ws = (w.abs().amax(dim=(1, 2, 3)).clamp_min(1e-12) / levels).view(-1, 1, 1, 1)
        # rounded to ``levels`` here, so the int8 range below (all ONNX has) holds them exactly
        self.register_buffer("weight", torch.clamp(torch.round(w / ws), -levels, levels) * ws)
        self.register_buffer("w_scale", ws.flatten())
        self.register_buffer("w_zero", torch.zeros(w.shape[0], dtype=torch.int32))
        self.bias = None if conv.bias is None else conv.bias.detach().float()
        self.stride, self.padding = conv.stride, conv.padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.fake_quantize_per_tensor_affine(x, self.scale, self.zero, 0, 255)
        w = torch.fake_quantize_per_channel_affine(self.weight, self.w_scale, self.w_zero, 0, -128, 127)
        return F.conv2d(x, w, self.bias, self.stride, self.padding)


Ranges = dict[str, tuple[float, float]]  # quantized convolution -> (min, max) of its input


def _quantizable(net: nn.Module, keep: tuple[str, ...] = INT8_KEEP) -> dict[str, nn.Conv2d]:
    return {n: m for n, m in net.named_modules()
            if isinstance(m, nn.Conv2d) and not any(n == k or n.startswith(k + ".") for k in keep)}


def activation_ranges(net: nn.Module, sample: torch.Tensor, keep: tuple[str, ...] = INT8_KEEP) -> Ranges:
    """The (min, max) of each quantizable convolution's input as ``net`` meets them on ``sample`` ``(1, C, H,
    W)``, in the graph ``export_onnx`` traces (the refinement MLP as 1x1 convolutions); the first one's, the
    network's own input, is [-1, 1]. Runs on a copy: ``net`` may be running meanwhile."""
    q = copy.deepcopy(net).float().eval()
    convs = _quantizable(q, keep)
    ranges: Ranges = {}

    def seen(name: str) -> Any:
        def hook(_m: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
            a = args[0].detach()
            ranges[name] = (float(a.min()), float(a.max()))
        return hook

    hooks = [m.register_forward_pre_hook(seen(n)) for n, m in convs.items()]
    try:
        with _EXPORT_LOCK, _conv_refine(), torch.enable_grad():
            q(sample.detach().float().clone())
    finally:
        for h in hooks:
            h.remove()
    ranges[next(iter(convs))] = (-1.0, 1.0)
    return ranges


def union(a: Ranges, b: Ranges) -> Ranges:
    return {k: (min(a[k][0], b[k][0]), max(a[k][1], b[k][1])) for k in a}


def outgrown(seen: Ranges, made: Ranges) -> bool:
    """True when ``seen`` goes past what a network made for ``made`` covers (``made`` widened by
    ``INT8_MARGIN``): its inputs now clip."""
    return any(seen[k][0] < made[k][0] * INT8_MARGIN or seen[k][1] > made[k][1] * INT8_MARGIN for k in made)


def quantized(net: nn.Module, ranges: Ranges, bits: int = 8) -> nn.Module:
    """A copy of ``net`` whose convolutions in ``ranges`` (``activation_ranges``) see fake-quantized inputs
    (their range widened by ``INT8_MARGIN``, the first one's not) and weights in ``bits`` bits
    (``_FakeQuantConv``)."""
    q = copy.deepcopy(net).float().eval()
    first = next(iter(ranges))
    for name, (lo, hi) in ranges.items():
        if name != first:
            lo, hi = lo * INT8_MARGIN, hi * INT8_MARGIN
        parent, _, leaf = name.rpartition(".")
        conv = q.get_submodule(name)
        assert isinstance(conv, nn.Conv2d)
        setattr(q.get_submodule(parent), leaf, _FakeQuantConv(conv, lo, hi, 2 ** (bits - 1) - 1))
    return q


class Int8Net(OpenVinoNet):
    """``net`` quantized to int8 (see the module doc) and compiled by OpenVINO, its weights baked in: made
    for weights that no longer change (new weights need a new one). ``sample``: a real network input
    ``(1, C, H, W)`` float32 in [-1, 1], the calibration frame; ``ranges``: activation ranges to cover as well
    (those of the network it replaces: ``Stylizer`` makes a new one when frames outgrow them). ``run`` answers
    None until the export, the self-check and this shape's compilation are done, and for good when the
    self-check failed (``reason``)."""

    def __init__(self, net: nn.Module, channels: int, stride: int, sample: torch.Tensor,
                 float_precision: str = "fp32", ranges: Ranges | None = None, max_shapes: int = MAX_SHAPES):
        self.bits = 8 if cpu_has_vnni() else 7
        self.ranges: Ranges = ranges or {}  # what it was made for: ``sample``'s, with these (set by the export)
        self.float_precision = float_precision  # of what stays in floating point (``INT8_KEEP``)
        self.psnr = float("nan")  # the self-check's dB against PyTorch fp32
        self._sample = sample.detach().float().contiguous()
        super().__init__(net, channels, stride, "int8", max_shapes)

    def load(self, net: nn.Module) -> None:
        self._weights = {}  # constants of the graph

    def submit(self, fn: Any, *args: Any) -> None:
        """Run ``fn(*args)`` on this network's own background thread (after its export), errors logged."""
        def run() -> None:
            try:
                fn(*args)
            except Exception as e:  # noqa: BLE001  (a background check: never the live output's problem)
                log.warning("int8 range check failed: %s: %s", type(e).__name__, e)
        try:
            self._pool.submit(run)
        except RuntimeError:  # closed (replaced meanwhile): nothing to check
            pass

    def _export(self, net: nn.Module, weights: dict[str, np.ndarray]) -> Any:  # weights: baked in from ``net``
        import openvino as ov

        seen = activation_ranges(net, self._sample)
        self.ranges = union(self.ranges, seen) if self.ranges else seen
        onnx = export_onnx(quantized(net, self.ranges, self.bits), self._channels, self._stride,
                           weights_as_inputs=False)
        model = ov.Core().read_model(onnx, b"")
        x = self._sample.clone()  # a plain tensor (the frame's may be an inference-mode one)
        req, _ = self._compile_model(model, tuple(x.shape), 1)
        got = torch.from_numpy(np.asarray(req.infer({"x": x.numpy()})[0])).clamp(-1, 1)
        with torch.inference_mode():
            ref = net(x).float().clamp(-1, 1)
        self.check_error = float((got - ref).abs().max())
        mse = float(((got - ref) * 127.5).square().mean())
        self.psnr = 10 * float(np.log10(255.0 ** 2 / max(mse, 1e-10)))
        if not self.psnr >= INT8_MIN_PSNR:
            raise RuntimeError(f"int8 self-check: {self.psnr:.1f} dB against PyTorch fp32 (< {INT8_MIN_PSNR:g})")
        return model
