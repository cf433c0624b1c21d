"""An accelerated CPU runtime for the generator (OpenVINO), with PyTorch as the fallback.

What it runs: the same function as the ``Stylizer``'s PyTorch network, exported once to ONNX
with every weight as a graph *input* (named like the network's state dict) and compiled by
OpenVINO's CPU plugin, one compiled model per input shape. Because the weights are inputs,
new weights from training (every 1.5 s) cost nothing: :meth:`OpenVinoNet.load` swaps the
arrays fed with the next frame; nothing is re-exported or recompiled. On an AMD EPYC (Zen 4,
AVX-512 BF16, no AMX), 1 thread, the ``fast`` preset at 640x360 ran in bf16 about 25% faster
than PyTorch eager with bf16 autocast, and as fast with weights as inputs as with them baked
in as constants (calibration/bench_backends.py, calibration/results/backends-2026-12-04.md).

Never on the hot path: the export (~0.6 s) and each shape's compilation (~50-100 ms) run on a
background thread; until they are done :meth:`OpenVinoNet.run` answers None and the caller
runs PyTorch. A failed export, compile, self-check or call disables the runtime and says why
(``reason``); the live output never depends on it.

Tensors: input ``(B, C, H, W)`` float32 in [-1, 1], H and W multiples of the network's
stride, any memory format; output
``(B, 3, H, W)`` float32, planar, on the [-1, 1] scale (not clamped, like the network's).

Int8 (:class:`Int8Net`): once the weights stop changing (live, after training, or a saved style), the
``Stylizer`` can run the network quantized to int8: every convolution's input and weights (but the
per-pixel refinement MLP's, ``INT8_KEEP``) pass through fake quantization (ranges from one real frame),
exported with the weights baked in, and OpenVINO runs those convolutions as int8 (AVX-512 VNNI,
AVX-VNNI, AMX; on plain AVX2 with 7-bit weights, which its int8 dot product cannot saturate). A
self-check against PyTorch fp32 on that frame keeps it off where it is not close (``INT8_MIN_PSNR``).

Selection (:func:`choose`): ``backend`` ``"auto"`` (default), ``"openvino"`` or ``"torch"``;
the environment variable ``LIVESTYLE_BACKEND`` overrides ``"auto"``. Auto picks OpenVINO on
CPU where it was measured to win (see :data:`AUTO_PRECISIONS`) and the package is installed
(a dependency on x86-64; elsewhere ``pip install 'livestyle[fast-cpu]'``).
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from livestyle.engine import model as model_mod
from livestyle.engine.device import Compute

log = logging.getLogger(__name__)

BACKENDS = ("auto", "torch", "openvino")
ENV_VAR = "LIVESTYLE_BACKEND"
# Precisions for which "auto" picks OpenVINO over PyTorch (the measured wins; see module docstring).
AUTO_PRECISIONS: tuple[str, ...] = ("bf16",)
MAX_SHAPES = 6  # compiled models kept (the live person box changes size now and then)
CHECK_TOL = {"fp32": 1e-3, "bf16": 0.1}  # self-check: max |openvino - torch fp32| on clamped outputs
# Int8: the self-check's floor (PSNR in dB of the int8 output against PyTorch fp32 on the calibration frame,
# both on 0..255). The shipped demo style's network scored 41-44 dB at 640x368 and 1280x720 on the AMD EPYC
# dev CPU (7-bit weights on its AVX2 stand-in: 40-41); 8-bit weights on AVX2 without VNNI, whose dot
# product saturates, scored 25-32.
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


def openvino_available() -> bool:
    """True when the ``openvino`` package can be imported."""
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


def choose(backend: str, compute: Compute) -> str:
    """Resolve ``backend`` (``auto | torch | openvino``; ``LIVESTYLE_BACKEND`` overrides ``auto``)
    to ``"torch"`` or ``"openvino"`` for ``compute``. Raises ValueError for an unknown name."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if backend == "auto":
        env = os.environ.get(ENV_VAR, "auto").strip().lower() or "auto"
        if env not in BACKENDS:
            raise ValueError(f"{ENV_VAR} must be one of {', '.join(BACKENDS)}, got {env!r}")
        backend = env
    if backend == "auto":
        ok = compute.device.type == "cpu" and compute.precision in AUTO_PRECISIONS and openvino_available()
        return "openvino" if ok else "torch"
    if backend == "openvino" and compute.device.type != "cpu":
        return "torch"  # the runtime is for CPUs; a GPU runs PyTorch
    return backend


@contextlib.contextmanager
def _conv_refine() -> Iterator[None]:
    """While exporting: the refinement MLP of ``model.Generator`` as two 1x1 convolutions on
    ``cat(d, x)`` (the same function as its batched matrix products; OpenVINO and ONNX Runtime
    run 1x1 convs 2x faster than those products, measured at 640x360)."""
    saved = model_mod._pixel_mlp

    def conv_mlp(seq: nn.Sequential, d: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return seq(torch.cat((d, x), dim=1))

    model_mod._pixel_mlp = conv_mlp  # type: ignore[assignment]
    try:
        yield
    finally:
        model_mod._pixel_mlp = saved  # type: ignore[assignment]


# One export at a time: the exporter keeps global state ("GLOBALS.in_onnx_export"), and two styles, or a float
# and an int8 network, may be exported on their own threads at once.
_EXPORT_LOCK = threading.Lock()


def export_onnx(net: nn.Module, channels: int, stride: int, weights_as_inputs: bool = True) -> bytes:
    """ONNX (opset 17) of ``net``'s forward, input ``x`` ``(B, channels, H, W)`` with dynamic
    batch, H and W, output ``y``; with ``weights_as_inputs`` every weight is a graph input
    named as in ``net.state_dict()``, else baked in as initializers of the same names.

    Traces the network's own training-mode forward (``model.Generator.forward`` with grad on,
    refinement MLP as 1x1 convs): the exported graph follows ``model.py`` as it changes.
    """
    x = torch.zeros(1, channels, 2 * stride, 2 * stride)
    buf: Any = io.BytesIO()  # the legacy exporter writes to a file object too (its stubs say a path)
    with _EXPORT_LOCK, _conv_refine(), torch.enable_grad():
        torch.onnx.export(
            net, (x,), buf, input_names=["x"], output_names=["y"], dynamo=False, opset_version=17,
            export_params=not weights_as_inputs, do_constant_folding=False,
            dynamic_axes={"x": {0: "b", 2: "h", 3: "w"}, "y": {0: "b", 2: "h", 3: "w"}})
    return buf.getvalue()


class OpenVinoNet:
    """``net`` compiled by OpenVINO's CPU plugin, weights fed as inputs (hot-swappable).

    ``precision``: ``"bf16"`` or ``"fp32"`` (OpenVINO's ``INFERENCE_PRECISION_HINT``).
    Thread-safe for one caller of :meth:`run` plus any caller of :meth:`load`.
    """

    def __init__(self, net: nn.Module, channels: int, stride: int, precision: str = "bf16",
                 max_shapes: int = MAX_SHAPES):
        if precision not in (*CHECK_TOL, "int8"):
            raise ValueError(f"precision must be fp32, bf16 or int8, got {precision!r}")
        self.precision = precision
        self.reason = ""  # why the runtime is off ("" while it is on)
        self._channels, self._stride, self._max = channels, stride, max_shapes
        self._weights: dict[str, np.ndarray] = {}
        self.check_error = float("nan")  # max |OpenVINO - PyTorch fp32| of the self-check
        self.load(net)
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="openvino-compile")
        self._model: Future[Any] = self._pool.submit(self._export, net)
        self._compiled: OrderedDict[tuple[int, ...], Future[tuple[Any, set[str]]]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return not self.reason

    @property
    def ready(self) -> bool:
        """The export and self-check are done (and passed, while ``enabled``)."""
        return self._model.done() and self._model.exception() is None

    def disable(self, reason: str) -> None:
        """Turn the runtime off for good (``run`` answers None); ``reason`` is logged once."""
        if not self.reason:
            self.reason = reason
            what = "int8 network off, the float one runs" if self.precision == "int8" else \
                "OpenVINO runtime off, PyTorch runs the network"
            log.warning("%s: %s", what, reason)

    def load(self, net: nn.Module) -> None:
        """Take ``net``'s current weights (same architecture); the next :meth:`run` uses them.

        Holds views of ``net``'s tensors, not copies: pass a network that is not changed in
        place afterwards (the ``Stylizer`` builds a new folded copy per swap).
        """
        state = dict(net.named_parameters()) | dict(net.named_buffers())
        self._weights = {k: v.detach().float().cpu().numpy() for k, v in state.items()}

    def _export(self, net: nn.Module) -> Any:
        """Export and read the model, then check it on a small input against ``net`` (worker thread)."""
        import openvino as ov

        model = ov.Core().read_model(export_onnx(net, self._channels, self._stride), b"")
        names = [p.get_friendly_name() for p in model.get_parameters()]
        missing = [n for n in names[1:] if n not in self._weights]
        if names[:1] != ["x"] or missing:
            raise RuntimeError(f"exported graph inputs do not match the network's weights: {missing or names[:1]}")
        x = torch.rand(1, self._channels, 4 * self._stride, 6 * self._stride, generator=torch.Generator().manual_seed(0))
        x = x * 2 - 1
        req, inputs = self._compile_model(model, tuple(x.shape), 1)
        got = torch.from_numpy(np.asarray(req.infer({k: v for k, v in self._feeds(x.numpy()).items() if k in inputs})[0]))
        with torch.inference_mode():
            ref = net(x).float()
        err = float((got.clamp(-1, 1) - ref.clamp(-1, 1)).abs().max())
        self.check_error = err
        if not err <= CHECK_TOL[self.precision]:
            raise RuntimeError(f"self-check: output differs from PyTorch's by {err:.3g} (> {CHECK_TOL[self.precision]})")
        return model

    def _feeds(self, x: np.ndarray) -> dict[str, np.ndarray]:
        return {"x": x, **self._weights}

    def _compile(self, shape: tuple[int, ...], threads: int) -> tuple[Any, set[str]]:
        return self._compile_model(self._model.result(), shape, threads)

    def _compile_model(self, model: Any, shape: tuple[int, ...], threads: int) -> tuple[Any, set[str]]:
        """An infer request for ``model`` at the static input ``shape`` ``(B, C, H, W)`` (static shapes ran
        ~15% faster than one dynamic-shape model), and the names of its inputs."""
        import openvino as ov

        model = model.clone()
        model.reshape({"x": list(shape)})
        fp = getattr(self, "float_precision", self.precision)  # int8: what is left in floating point
        config = {"INFERENCE_PRECISION_HINT": "bf16" if fp == "bf16" else "f32",
                  "INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": 1,
                  "ENABLE_CPU_PINNING": False}  # the prep thread shares the cores: no pinning
        req = ov.Core().compile_model(model, "CPU", config).create_infer_request()
        return req, {n for i in req.model_inputs for n in i.get_names()}

    def _request(self, x: torch.Tensor, threads: int) -> Future[tuple[Any, set[str]]]:
        b, c, h, w = x.shape
        key = (b, c, h, w, threads)
        with self._lock:
            fut = self._compiled.get(key)
            if fut is None:
                fut = self._pool.submit(self._compile, (b, c, h, w), threads)
                self._compiled[key] = fut
                while len(self._compiled) > self._max:
                    self._compiled.popitem(last=False)
            else:
                self._compiled.move_to_end(key)
        return fut

    def run(self, x: torch.Tensor, block: bool = False) -> torch.Tensor | None:
        """``(B, C, H, W)`` float32 in [-1, 1] -> ``(B, 3, H, W)`` float32, or None while this shape
        is still compiling (``block``: wait for it) or when the runtime is off (see ``reason``)."""
        if self.reason:
            return None
        fut = self._request(x, torch.get_num_threads())
        if block:
            fut.exception()
        if not fut.done():
            return None
        try:
            req, inputs = fut.result()
            feeds = self._feeds(x.detach().float().cpu().contiguous().numpy())  # NCHW: fed as NHWC it was slower
            out = req.infer({k: v for k, v in feeds.items() if k in inputs})
            return torch.from_numpy(np.asarray(out[0]))
        except Exception as e:  # noqa: BLE001  (any failure: PyTorch takes over, the reason is kept)
            self.disable(f"{type(e).__name__}: {e}")
            return None

    def wait(self) -> bool:
        """Block until the export and self-check are done; True when the runtime is on."""
        if self._model.exception() is not None and not self.reason:
            self.disable(f"export failed: {self._model.exception()}")
        return self.enabled

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


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
        self._pool.submit(run)

    def _export(self, net: nn.Module) -> Any:
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
