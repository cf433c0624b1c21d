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
runs PyTorch. A failed export, compile or call disables the runtime and says why (``reason``); a
failed self-check does until new weights pass it. The live output never depends on it.

Tensors: input ``(B, C, H, W)`` float32 in [-1, 1], H and W multiples of the network's
stride, any memory format; output
``(B, 3, H, W)`` float32, planar, on the [-1, 1] scale (not clamped, like the network's).

The int8 network (``engine.int8``) builds on :class:`OpenVinoNet`.

Selection (:func:`choose`): ``backend`` ``"auto"`` (default), ``"openvino"`` or ``"torch"``;
the environment variable ``LIVESTYLE_BACKEND`` overrides ``"auto"``. Auto picks OpenVINO on
CPU where it was measured to win (see :data:`AUTO_PRECISIONS`) and the package is installed
(a dependency on x86-64 Linux and Windows; elsewhere ``pip install 'livestyle[fast-cpu]'``).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import torch
from torch import nn

from livestyle.engine import model as model_mod
from livestyle.engine.device import Compute
from livestyle.errors import one_line

log = logging.getLogger(__name__)

BACKENDS = ("auto", "torch", "openvino")
ENV_VAR = "LIVESTYLE_BACKEND"
# Precisions for which "auto" picks OpenVINO over PyTorch (the measured wins; see module docstring).
AUTO_PRECISIONS: tuple[str, ...] = ("bf16",)
MAX_SHAPES = 6  # compiled models kept (the live person box changes size now and then)
CHECK_TOL = {"fp32": 1e-3, "bf16": 0.1}  # self-check: max |openvino - torch fp32| on clamped outputs
# Right networks in bf16 on the AMD EPYC dev CPU: 0.018-0.035 (live training's first snapshots at 160x96), 0.04-0.07
# (styles trained 12 s to minutes). A failed check is made again on the next weights loaded (live training: every
# 1.5 s), this many checks in all, before the runtime is off for good.
MAX_CHECKS = 4

# Where in OpenVINO's sources an error was raised: the first lines of its messages, which say nothing to a user.
_OV_WHERE = re.compile(r"(Exception from|Check '.*' failed at) src/\S*:\d+:")


def ov_line(text: str) -> str:
    """One line of an error's text that says what went wrong: OpenVINO's messages open with where it was raised
    ("Exception from src/inference/src/cpp/infer_request.cpp:224:", "Check '...' failed at src/...:669:") and
    say what happened on a later line; the first line's own prefix ("RuntimeError: ") is kept."""
    lines = [ln for ln in (_OV_WHERE.sub("", ln).strip() for ln in str(text).splitlines()) if ln]
    if len(lines) > 1 and lines[0].endswith(":") and _OV_WHERE.search(str(text)):
        return f"{lines[0]} {lines[1]}".strip()
    return one_line("\n".join(lines))


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

    ``precision``: ``"bf16"`` or ``"fp32"`` (OpenVINO's ``INFERENCE_PRECISION_HINT``). A failed self-check
    turns it off until new weights (:meth:`load`) pass one (``MAX_CHECKS`` checks in all).
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
        self.check_error = float("nan")  # max |OpenVINO - PyTorch fp32| of the last self-check
        self.checks = 0  # self-checks made (the first weights', then new weights' after a failed one)
        self._check_next = False  # the last self-check failed: check the next weights loaded
        self._off_by_check = False  # ``reason`` is a failed self-check (another failure is for good)
        self._check_req: tuple[Any, set[str]] | None = None  # the compiled check shape (export thread only)
        self._lock = threading.Lock()
        self.load(net)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="openvino-compile")
        self._model: Future[Any] = self._pool.submit(self._export, net, self._weights)
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
            self.reason = reason = ov_line(reason)  # OpenVINO's errors run to many lines
            what = "int8 network off, the float one runs" if self.precision == "int8" else \
                "OpenVINO runtime off, PyTorch runs the network"
            log.warning("%s: %s", what, reason)

    def load(self, net: nn.Module) -> None:
        """Take ``net``'s current weights (same architecture); the next :meth:`run` uses them.

        Holds views of ``net``'s tensors, not copies: pass a network that is not changed in
        place afterwards (the ``Stylizer`` builds a new folded copy per swap).
        """
        state = dict(net.named_parameters()) | dict(net.named_buffers())
        self._weights = weights = {k: v.detach().float().cpu().numpy() for k, v in state.items()}
        with self._lock:
            again, self._check_next = self._check_next, False
        if again:  # the last weights failed the self-check: these may pass it (after the export, one thread)
            with contextlib.suppress(RuntimeError):  # closed meanwhile
                self._pool.submit(self._recheck, net, weights)

    def _export(self, net: nn.Module, weights: dict[str, np.ndarray]) -> Any:
        """Export and read the model, then check it on a small input against ``net``, fed ``weights`` (``net``'s,
        taken with it: the live trainer's next weights may be loaded before the check runs, and checked against
        ``net`` they failed it by 0.4-1.0) (worker thread)."""
        import openvino as ov

        model = ov.Core().read_model(export_onnx(net, self._channels, self._stride), b"")
        names = [p.get_friendly_name() for p in model.get_parameters()]
        missing = [n for n in names[1:] if n not in weights]
        if names[:1] != ["x"] or missing:
            raise RuntimeError(f"exported graph inputs do not match the network's weights: {missing or names[:1]}")
        self._self_check(model, net, weights)
        return model

    def _recheck(self, net: nn.Module, weights: dict[str, np.ndarray]) -> None:
        try:
            self._self_check(None, net, weights)
        except Exception as e:  # noqa: BLE001  (a check that cannot run: off for good, the reason said)
            self._off_by_check, self.reason = False, ""
            self.disable(f"self-check failed: {type(e).__name__}: {e}")

    def _self_check(self, model: Any, net: nn.Module, weights: dict[str, np.ndarray]) -> None:
        """Run the exported ``model`` (None: the one checked before) fed ``weights``, and ``net``, on a small input:
        on when they agree, else off until new weights pass (``MAX_CHECKS`` checks in all) (worker thread)."""
        x = torch.rand(1, self._channels, 4 * self._stride, 6 * self._stride, generator=torch.Generator().manual_seed(0))
        x = x * 2 - 1
        if self._check_req is None:
            self._check_req = self._compile_model(model, tuple(x.shape), 1)
        req, inputs = self._check_req
        feeds = {"x": x.numpy(), **weights}
        got = torch.from_numpy(np.asarray(req.infer({k: v for k, v in feeds.items() if k in inputs})[0]))
        with torch.inference_mode():
            ref = net(x).float()
        self.check_error = err = float((got.clamp(-1, 1) - ref.clamp(-1, 1)).abs().max())
        self.checks += 1
        tol = CHECK_TOL[self.precision]
        if err <= tol:
            if self._off_by_check:
                self._off_by_check, self.reason = False, ""
                log.warning("livestyle: note: OpenVINO runtime on again: new weights passed its self-check (%.3g <= %g)",
                            err, tol)
            return
        if self.reason and not self._off_by_check:
            return  # off for good for another reason
        why, last = f"self-check: output differs from PyTorch's by {err:.3g} (> {tol})", self.checks >= MAX_CHECKS
        if not last:
            with self._lock:
                self._check_next = True
            if self._off_by_check:
                return  # said when it went off
            why += "; checked again with the next weights"
        elif self._off_by_check:  # off for good now: say so
            self.reason, why = "", f"{why}, {self.checks} weight sets in a row"
        self.disable(why)
        self._off_by_check = not last

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
        """Block until the export and self-checks queued so far are done; True when the runtime is on."""
        if self._model.exception() is not None and not self.reason:
            self.disable(f"export failed: {self._model.exception()}")
        with contextlib.suppress(RuntimeError):  # closed: nothing more to wait for
            self._pool.submit(int).result()  # one worker thread: runs after the checks before it
        return self.enabled

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
