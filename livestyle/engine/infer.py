"""Inference: one object that owns the network, its device and precision.

Frames in: ``(H, W, 3) uint8 BGR`` plus one ``(H, W, 3) uint8`` image per guide.
Frames out: ``(H, W, 3) uint8 BGR``. Sizes that are not multiples of the
network's stride are padded, never a crash. New weights are swapped in
between frames (``swap``), so a live pipeline never sees half-loaded weights.

``phases``: the network's output is the mean over copies of the input shifted by
half its stem's cell (``phase_offsets``). A preset with a space-to-depth stem
paints each r x r cell from one feature vector, so its output depends on where
content falls within the cell grid; as a camera pans, that phase changes every
frame and the texture the network invents (content no keyframe showed) shimmers.
Averaging 4 phases removes most of it (calibration/quality.py, README) and costs
4x the network's time: ``livestyle render`` does it, live runs 1 by default.

``backend``: on CPUs where it was measured faster, the network runs in OpenVINO
(``runtime.OpenVinoNet``; installed with livestyle on x86-64 Linux and Windows) with PyTorch as the fallback: while
OpenVINO exports or compiles a new input shape in the background, when it is not
installed, or when anything in it fails. ``backend="torch"`` (or the environment variable
``LIVESTYLE_BACKEND=torch``) forces PyTorch.

``int8`` (live sets it on CPUs, ``LiveConfig.int8``): once the weights have not changed for
``INT8_AFTER_S`` (training has stopped, or a saved style runs), the network is quantized to int8 on the
frame at hand and runs in OpenVINO (``int8.Int8Net``); new weights go back to the float network until
they settle again. Offline (``block``) it is quantized on the first frame and waited for.
"""

from __future__ import annotations

import copy
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from livestyle.engine import checkpoint
from livestyle.engine import int8 as _int8mod
from livestyle.engine import runtime as _runtime
from livestyle.engine.device import Compute, pick
from livestyle.engine.model import Generator, pad_to_stride


def trailing_pad(h: int, w: int, stride: int, lead: int = 0) -> tuple[int, int]:
    """Bottom and right padding of an ``(h, w)`` image that gets ``lead`` px on the top and left: enough
    that ``h + lead`` and ``w + lead`` are multiples of ``stride``, plus ``lead`` (see ``Stylizer._average``)."""
    return (-(h + lead)) % stride + lead, (-(w + lead)) % stride + lead


def frames_to_batch(frames: list[np.ndarray], guides: list[list[np.ndarray]] | None, stride: int = 1,
                    lead: int = 0) -> torch.Tensor:
    """``frames[i]``: (H, W, 3) uint8 BGR; ``guides[i]``: list of (H, W, 3) uint8 images.

    Returns ``(B, 3 + 3*G, H', W')`` float32 in [-1, 1], RGB then guides (each guide's colour
    order flipped like the frame's, matching ``train.key_input``), reflect-padded on the
    bottom/right to multiples of ``stride``, already in channels_last memory (no copy later).
    ``lead`` > 0: ``lead`` px more on the top and left, and on the bottom and right as much as
    makes ``(H + lead)`` and ``(W + lead)`` multiples of ``stride``, plus ``lead`` (what
    ``Stylizer._average`` takes its shifted windows from).
    One OpenCV pass interleaves and reorders the channels (``mixChannels``), one more scales
    to float (``addWeighted``): 2.3 ms at 720p with a guide, against 5.8 for cvtColor + merge +
    torch arithmetic.
    """
    g = len(guides[0]) if guides else 0
    c = 3 * (1 + g)
    order = [i for k in range(1 + g) for i in (3 * k + 2, 3 * k + 1, 3 * k)]  # BGR -> RGB per image
    pairs = [v for dst, src in enumerate(order) for v in (src, dst)]
    h, w = frames[0].shape[:2]
    ph, pw = trailing_pad(h, w, stride, lead)
    out = np.empty((len(frames), h + ph + lead, w + pw + lead, c), np.float32)  # (B, H', W', C)
    for i, f in enumerate(frames):
        srcs = [f, *(guides[i] if guides else [])]
        if any(s.shape[:2] != (h, w) for s in srcs):
            raise ValueError(f"frame {i}: frames and guides must all be {w}x{h}")
        mixed = np.empty((h, w, c), np.uint8)
        cv2.mixChannels(srcs, [mixed], pairs)
        a = mixed
        if ph or pw:
            border = cv2.BORDER_REFLECT_101 if ph < h and pw < w else cv2.BORDER_REPLICATE
            a = np.asarray(cv2.copyMakeBorder(mixed, lead, ph, lead, pw, border))
        flat = a.reshape(a.shape[0], -1)  # (H', W' * C): one 2-D image for OpenCV
        cv2.addWeighted(flat, 1 / 127.5, flat, 0.0, -1.0, dst=out[i].reshape(flat.shape), dtype=cv2.CV_32F)
    return torch.from_numpy(out).permute(0, 3, 1, 2)  # NCHW view of NHWC memory = channels_last


def batch_to_frames(out: torch.Tensor) -> list[np.ndarray]:
    """``(B, 3, H, W)`` float RGB in [-1, 1] -> list of (H, W, 3) uint8 BGR (rounded, saturated).

    OpenCV does the scaling, rounding and saturation per plane and the BGR interleave in one
    merge: 0.8 ms at 720p against 6.9 for the same in torch ops.
    """
    x = out.detach().float().cpu()
    frames = []
    if x.permute(0, 2, 3, 1).is_contiguous() and not x.is_contiguous():  # channels_last: (B, H, W, 3) RGB
        for a in x.permute(0, 2, 3, 1).numpy():
            u8 = cv2.addWeighted(a, 127.5, a, 0.0, 127.5, dtype=cv2.CV_8U)
            frames.append(cv2.cvtColor(u8, cv2.COLOR_RGB2BGR))
        return frames
    for a in x.numpy():  # planar (3, H, W), maybe a crop of a larger buffer
        planes = [cv2.addWeighted(a[ch], 127.5, a[ch], 0.0, 127.5, dtype=cv2.CV_8U) for ch in (2, 1, 0)]
        frames.append(cv2.merge(planes))
    return frames


# Int8 once the weights have not changed for this long (training publishes new ones every 1.5 s).
INT8_AFTER_S = 5.0
# Live, every this many seconds the frame at hand is checked against the ranges the int8 network was made
# for (one PyTorch pass on a background thread); where its inputs would clip (the light changed, someone in
# a saturated colour came in), a new one is made for both and takes over once ready.
INT8_RECHECK_S = 10.0

PHASES = 4  # livestyle render's default (offline: the time is worth it); live: 1 (LiveConfig.phases)
PHASE_CHOICES = (1, 2, 4)
CYCLE_ORDER = (0, 3, 1, 2)  # ``Stylizer.cycle``: (0, 0), (h, h), (0, h), (h, 0): opposite shifts follow each other


def phase_offsets(phases: int, cell: int) -> list[tuple[int, int]]:
    """The (dy, dx) input shifts averaged for ``phases`` (1, 2 or 4) with a stem cell of ``cell`` px:
    0 and half a cell, the diagonal for 2, both axes for 4."""
    if phases not in PHASE_CHOICES:
        raise ValueError(f"phases must be one of {', '.join(map(str, PHASE_CHOICES))}, got {phases}")
    h = max(1, cell // 2)
    return {1: [(0, 0)], 2: [(0, 0), (h, h)], 4: [(0, 0), (0, h), (h, 0), (h, h)]}[phases]


def fold_batch_norm(model: nn.Module) -> nn.Module:
    """An inference copy of ``model`` (in eval mode) with every conv -> batch norm pair merged into one conv.

    In eval mode batch norm is a per-channel affine map, so it folds exactly into the
    preceding convolution's weights and bias: one pass over the activations fewer per
    layer (~10% of the fast preset's CPU time at 640x360).
    """
    net = copy.deepcopy(model).eval()
    for seq in net.modules():
        if not isinstance(seq, nn.Sequential):
            continue
        names = list(seq._modules)
        for a, b in zip(names, names[1:], strict=False):
            conv, bn = seq._modules[a], seq._modules[b]
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                seq._modules[a] = fuse_conv_bn_eval(conv, bn)
                seq._modules[b] = nn.Identity()
    return net


class Stylizer:
    """Runs a generator on frames. Thread-safe: ``swap`` may come from any thread.

    ``backend``: ``"auto"`` (OpenVINO where it wins, see ``runtime.choose``), ``"openvino"`` or
    ``"torch"``; PyTorch runs whenever the other is not ready or failed.
    """

    def __init__(self, model: Generator, compute: Compute, phases: int = 1, backend: str = "auto",
                 int8: bool = False):
        torch.set_flush_denormal(True)  # trained weights drift towards denormals, which are ~10x slower on CPU
        self.compute = compute
        self.model = model.to(compute.device, memory_format=torch.channels_last).eval()  # type: ignore[call-overload]  # stubs lack memory_format
        self._net = fold_batch_norm(self.model)  # what runs: same function, fewer passes over memory
        self._rt: _runtime.OpenVinoNet | None = None
        if _runtime.choose(backend, compute) == "openvino":
            try:
                self._rt = _runtime.OpenVinoNet(self._net, self.model.cfg.in_channels, self.model.stride,
                                               compute.precision)
            except Exception as e:  # noqa: BLE001  (not installed, or anything else: PyTorch runs)
                _runtime.log.warning("OpenVINO runtime unavailable, PyTorch runs the network: %s: %s",
                                    type(e).__name__, e)
        self._lock = threading.Lock()
        self._pending: dict[str, torch.Tensor] | None = None
        self.version = 0  # bumped on every swap
        self.phases = phases
        self.cycle = False  # one pass per call, each call at the next of 4 phases (see ``run``)
        self._tick = 0
        # int8 once the weights settle (module doc): on CPU with OpenVINO and the runtime not forced to torch
        self.int8 = int8 and compute.device.type == "cpu" and _runtime.openvino_available() and \
            _runtime.choose(backend, Compute(compute.device, torch.bfloat16)) == "openvino"
        self._q: _int8mod.Int8Net | None = None
        self._q_next: _int8mod.Int8Net | None = None  # its successor for frames that outgrew it (being made)
        self._q_checked = 0.0  # when the frame at hand was last checked against its ranges
        self._settled = time.monotonic()  # when the weights last changed

    @property
    def phases(self) -> int:
        """How many shifted copies of each input the output averages (``phase_offsets``)."""
        return len(self._offsets)

    @phases.setter
    def phases(self, n: int) -> None:
        self._offsets = phase_offsets(n, max(2, self.model.cfg.unshuffle))

    @classmethod
    def from_file(cls, path: str | Path, device: str = "auto", precision: str = "auto",
                  phases: int = 1) -> tuple[Stylizer, checkpoint.ModelInfo]:
        model, info = checkpoint.load(path)
        return cls(model, pick(device, precision), phases), info

    @property
    def in_channels(self) -> int:
        return self.model.cfg.in_channels

    @property
    def backend(self) -> str:
        """What runs the network now: ``"openvino int8"`` (``int8``, once made), ``"openvino"`` or ``"torch"``
        (also while OpenVINO is getting ready)."""
        q = self._q
        if q is not None and q.enabled and q.ready:
            return "openvino int8"
        return "openvino" if self._rt is not None and self._rt.enabled else "torch"

    @property
    def runtime(self) -> _runtime.OpenVinoNet | None:
        """The accelerated runtime, if one was chosen (its ``reason`` says why it went off)."""
        return self._rt

    @property
    def quantized(self) -> _int8mod.Int8Net | None:
        """The int8 network for the current weights once one was started (``enabled``: it runs), else None."""
        return self._q

    def settle(self) -> None:
        """Take the current weights as final: with ``int8``, the int8 network is made from the next frame on."""
        self._settled = time.monotonic() - INT8_AFTER_S

    def _int8(self, x: torch.Tensor, block: bool) -> torch.Tensor | None:
        """The int8 network's output, or None (not settled, still being made, or off)."""
        now = time.monotonic()
        if self._q is None:
            if not block and now - self._settled < INT8_AFTER_S:
                return None
            try:
                self._q = self._make_int8(x[:1])
            except Exception as e:  # noqa: BLE001  (anything: the float network runs)
                self.int8 = False
                _runtime.log.warning("int8 network unavailable: %s: %s", type(e).__name__, e)
                return None
            self._q_checked = now
        nxt = self._q_next
        if nxt is not None:  # a successor for outgrown ranges: it takes over once ready for this shape
            out = nxt.run(x) if nxt.enabled else None
            if out is not None or not nxt.enabled:
                with self._lock:
                    self._q_next = None
                    if out is not None:
                        self._q.close()
                        self._q = nxt
                    else:  # its self-check failed: keep the one that runs, and stop remaking it every check
                        nxt.close()
                        self._q_checked = float("inf")
                if out is not None:
                    return out
        q = self._q
        if not block and nxt is None and q.enabled and q.ready and now - self._q_checked >= INT8_RECHECK_S:
            self._q_checked = now
            q.submit(self._recheck, q, x[:1].detach().clone(), self.version)
        return q.run(x, block)

    def _make_int8(self, x: torch.Tensor, ranges: _int8mod.Ranges | None = None) -> _int8mod.Int8Net:
        return _int8mod.Int8Net(self._net, self.model.cfg.in_channels, self.model.stride, x,
                                "bf16" if self.compute.precision == "bf16" else "fp32", ranges)

    def _recheck(self, q: _int8mod.Int8Net, x: torch.Tensor, version: int) -> None:
        """(On ``q``'s thread.) When ``x`` outgrows ``q``'s ranges, start its successor, made for both."""
        seen = _int8mod.activation_ranges(self._net, x)
        if not _int8mod.outgrown(seen, q.ranges):
            return
        nxt = self._make_int8(x, _int8mod.union(q.ranges, seen))
        with self._lock:
            if self._q is q and self.version == version and self._q_next is None:
                self._q_next = nxt
                return
        nxt.close()  # new weights came meanwhile

    def _forward(self, x: torch.Tensor, block: bool = False) -> torch.Tensor:
        """The network on ``(B, C, H, W)`` float in [-1, 1] (H, W multiples of the stride) ->
        ``(B, 3, H, W)`` float in [-1, 1]: the int8 network when the weights have settled and it is ready,
        else OpenVINO when it is ready for this shape (``block``: wait until they are), else PyTorch."""
        if self.int8 and x.device.type == "cpu":
            out = self._int8(x, block)
            if out is not None:
                return out
        if self._rt is not None:
            out = self._rt.run(x, block)
            if out is not None:
                return out
        return self._net(x)

    def swap(self, state: dict[str, torch.Tensor]) -> None:
        """Queue new weights; they take effect before the next frame."""
        with self._lock:
            self._pending = state

    def _apply_pending(self) -> None:
        with self._lock:
            state, self._pending = self._pending, None
        if state is not None:
            self.model.load_state_dict(state)
            self._net = fold_batch_norm(self.model)
            if self._rt is not None:
                self._rt.load(self._net)  # weights are inputs of its graph: no re-export, no recompile
            with self._lock:  # baked-in weights: a new int8 network once these settle
                for q in (self._q, self._q_next):
                    if q is not None:
                        q.close()
                self._q = self._q_next = None
                self.version += 1
            self._settled = time.monotonic()

    def run(self, batch: torch.Tensor, block: bool = False) -> torch.Tensor:
        """``(B, C, H, W)`` float in [-1, 1] -> ``(B, 3, H, W)`` float in [-1, 1] (any H, W).

        The live path: it never waits for the runtime (PyTorch runs until it is ready) unless
        ``block``, as offline use does (``__call__``) so that its output does not depend on timing.
        """
        self._apply_pending()
        with torch.inference_mode(), self.compute.autocast():
            h, w = batch.shape[-2:]
            x = batch.to(self.compute.device, non_blocking=True)
            offsets = self._offsets
            if self.cycle and len(offsets) == 1:  # live: the output stabiliser averages the phases over time
                cycle = phase_offsets(4, max(2, self.model.cfg.unshuffle))
                offsets, self._tick = [cycle[CYCLE_ORDER[self._tick % 4]]], self._tick + 1
            if len(offsets) > 1 or self.cycle:
                m = max(2, self.model.cfg.unshuffle) // 2  # the largest shift: every window has one shape
                ph, pw = trailing_pad(h, w, self.model.stride, m)
                mode = "reflect" if max(ph, m) < h and max(pw, m) < w else "replicate"
                return self._average(F.pad(x, (m, pw, m, ph), mode=mode), h, w, block, offsets, m)
            x, _ = pad_to_stride(x, self.model.stride)
            return self._forward(x.contiguous(memory_format=torch.channels_last), block)[..., :h, :w]

    @property
    def _lead(self) -> int:
        return max(max(o) for o in self._offsets)

    def _average(self, x: torch.Tensor, h: int, w: int, block: bool = False,
                 offsets: list[tuple[int, int]] | None = None, lead: int | None = None) -> torch.Tensor:
        """The mean over ``self._offsets`` of the network's output for ``x`` shifted by each, shifted back.

        ``x``: the ``(h, w)`` input with ``_lead`` px more on the top and left, and as much on the
        bottom and right as makes every shifted window a multiple of the stride. One network call
        per shift: at 640x360 a batch of 4 frames x 4 shifts took 1.6x as long as four calls.
        """
        offsets = self._offsets if offsets is None else offsets
        m = self._lead if lead is None else lead
        hs, ws = x.shape[-2] - m, x.shape[-1] - m
        acc: torch.Tensor | None = None
        for dy, dx in offsets:
            window = x[..., m - dy:m - dy + hs, m - dx:m - dx + ws].contiguous(memory_format=torch.channels_last)
            out = self._forward(window, block)[..., dy:dy + h, dx:dx + w].float()
            acc = out if acc is None else acc.add_(out)
        assert acc is not None
        return acc / len(offsets)

    def __call__(self, frames: list[np.ndarray], guides: list[list[np.ndarray]] | None = None) -> list[np.ndarray]:
        h, w = frames[0].shape[:2]
        if len(self._offsets) == 1:
            out = self.run(frames_to_batch(frames, guides, self.model.stride), block=True)
            return batch_to_frames(out[..., :h, :w])
        x = frames_to_batch(frames, guides, self.model.stride, self._lead)  # OpenCV pads all four sides
        self._apply_pending()
        with torch.inference_mode(), self.compute.autocast():
            return batch_to_frames(self._average(x.to(self.compute.device, non_blocking=True), h, w, block=True))

    def warmup(self, width: int, height: int, iterations: int = 2) -> None:
        """Run ``iterations`` frames of ``width`` x ``height``; with a runtime, wait until it is ready for that size."""
        x = torch.zeros(1, self.in_channels, height, width)
        if self._rt is not None:
            self._rt.run(pad_to_stride(x, self.model.stride)[0].contiguous(memory_format=torch.channels_last), block=True)
        for _ in range(iterations):
            self.run(x)
        if self.compute.device.type == "cuda":
            torch.cuda.synchronize()
