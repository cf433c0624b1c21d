"""Choosing the device and numeric precision for training and inference.

CPU: bf16 autocast + channels_last where the CPU has native bf16 (AMX or
AVX-512 BF16: ~5x faster than fp32 there), fp32 + channels_last elsewhere
(AVX2 laptops, where emulated bf16 is slower than fp32).
CUDA: fp16 autocast (bf16 where the GPU supports it), channels_last.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from livestyle.errors import LivestyleError

PRECISIONS = ("auto", "fp32", "bf16", "fp16")


def cpu_has_fast_bf16() -> bool:
    """True when oneDNN runs bf16 natively on this CPU (AMX or AVX-512 BF16)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


@dataclass(frozen=True)
class Compute:
    """A device plus the autocast dtype to run the network in (None = fp32)."""

    device: torch.device
    dtype: torch.dtype | None

    @property
    def precision(self) -> str:
        return {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[self.dtype]

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def describe(self) -> str:
        name = torch.cuda.get_device_name(self.device) if self.device.type == "cuda" else "CPU"
        return f"{self.device.type} ({name}), {self.precision}"


def pick(device: str = "auto", precision: str = "auto") -> Compute:
    """Resolve ``--device auto|cpu|cuda[:N]`` and ``--precision auto|fp32|bf16|fp16``."""
    if precision not in PRECISIONS:
        raise LivestyleError(f"unknown precision {precision!r}; use one of {', '.join(PRECISIONS)}")
    if device == "auto":
        dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        try:
            dev = torch.device(device)
        except RuntimeError:
            raise LivestyleError(f"unknown device {device!r}; use auto, cpu or cuda") from None
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise LivestyleError("--device cuda: no CUDA GPU is visible to PyTorch; use --device cpu "
                                 "or install a CUDA build of torch (see README)")
        if dev.type not in ("cpu", "cuda"):
            raise LivestyleError(f"unsupported device {device!r}; use auto, cpu or cuda")
    dtype: torch.dtype | None
    if precision == "auto":
        if dev.type == "cuda":
            dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        else:
            dtype = torch.bfloat16 if cpu_has_fast_bf16() else None
    else:
        dtype = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
        if dev.type == "cpu" and dtype is torch.float16:
            raise LivestyleError("fp16 is for CUDA only; on CPU use --precision bf16 or fp32")
    return Compute(dev, dtype)


@contextlib.contextmanager
def threads(n: int | None) -> Iterator[None]:
    """Temporarily set torch's intra-op thread count (None = leave as is)."""
    if n is None:
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(max(1, n))
    try:
        yield
    finally:
        torch.set_num_threads(old)
