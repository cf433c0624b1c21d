"""The live network on CPU runtimes: PyTorch eager, torch.compile, TorchScript freeze, ONNX Runtime, OpenVINO.

For the ``fast`` preset with 6 input channels (weights: the shipped prior), batch 1, at each
size and torch/runtime thread count, every backend is timed round-robin (A, B, C, A, B, C, ...)
after a warm-up, so a noisy shared host slows all of them alike; printed as median and p90 ms
per frame, with the max |output - PyTorch fp32| (outputs clamped to [-1, 1]), the one-off
setup cost (export, compile) and the cost of taking new weights (``swap``), which training
publishes every 1.5 s. Inputs are the size padded to the stride as ``Stylizer.run`` does, and
each call includes the backend's own copies in and out.

Backends: ``torch-fp32``/``torch-bf16``: ``Stylizer.run`` (channels_last, batch norm folded,
bf16 autocast); ``compile-*``: ``torch.compile`` (inductor) of the same network (weights
stay parameters: a swap is an in-place copy, no recompile); ``jit-freeze-fp32``:
``torch.jit.freeze`` + ``optimize_for_inference`` of a trace (weights baked in: a swap
re-traces); ``ort-*``: ONNX Runtime CPUExecutionProvider on ``runtime.export_onnx``'s graph
(``const``: weights as initializers, a swap makes a new session from the same bytes with
``add_initializer``; ``inputs``: weights fed as inputs; ``basic``: ORT_ENABLE_BASIC instead
of ORT_ENABLE_ALL); ``ov-*``: ``runtime.OpenVinoNet`` (weights as inputs: a swap is free); ``ov-int8+*``:
``int8.Int8Net`` (int8 but for the refinement MLP, which runs in the named precision; weights baked
in: new weights need a new one, which live makes once they settle).

``--avx2`` re-executes itself with ``ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2
OV_CPU_MAX_ISA=AVX2`` (PyTorch and OpenVINO then dispatch AVX2 kernels only: an AVX2 laptop's
stand-in). ONNX Runtime's MLAS has no such switch: its figures under ``--avx2`` still use
AVX-512 and are labelled so.

Usage: ``python calibration/bench_backends.py [--avx2] [--sizes 640x360,1280x720] [--threads 1,2]``
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine_line, markdown_table, median, parse_size, percentile, setup_torch  # noqa: E402, I001

import numpy as np  # noqa: E402
import torch  # noqa: E402

from livestyle.engine import checkpoint, int8, prior, runtime  # noqa: E402
from livestyle.engine.device import pick  # noqa: E402
from livestyle.engine.infer import Stylizer, fold_batch_norm  # noqa: E402
from livestyle.engine.model import pad_to_stride  # noqa: E402

AVX2_ENV = {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2", "OV_CPU_MAX_ISA": "AVX2"}
Fn = Callable[[], torch.Tensor]


class Case:
    """One backend at one size and thread count: ``fn`` runs a frame, ``swap`` takes new weights."""

    def __init__(self, name: str, fn: Fn, setup_s: float, swap: Callable[[], None] | None, swap_note: str):
        self.name, self.fn, self.setup_s, self.swap, self.swap_note = name, fn, setup_s, swap, swap_note
        self.ms: list[float] = []
        self.diff = float("nan")
        self.swap_ms = float("nan")


def _clock(f: Callable[[], object]) -> tuple[object, float]:
    t0 = time.perf_counter()
    out = f()
    return out, time.perf_counter() - t0


def torch_cases(net: torch.nn.Module, x: torch.Tensor, new: dict, compile_: bool) -> list[Case]:
    cases = []
    for prec in ("fp32", "bf16"):
        sty, s = _clock(lambda prec=prec: Stylizer(copy.deepcopy(net), pick("cpu", prec), backend="torch"))
        assert isinstance(sty, Stylizer)

        def swap(sty: Stylizer = sty) -> None:
            sty.swap(new)
            sty._apply_pending()

        cases.append(Case(f"torch-{prec}", lambda sty=sty: sty.run(x), s, swap, "load_state_dict + fold"))
    if compile_:
        for prec in ("fp32", "bf16"):
            folded = fold_batch_norm(net).to(memory_format=torch.channels_last)  # type: ignore[call-overload]
            comp = torch.compile(folded, dynamic=False)  # one graph per size (a second size made
            # torch 2.13 recompile with dynamic shapes, which failed in inductor: "Invalid ranges [0:-1]")
            ac = pick("cpu", prec)

            def call(comp: Callable = comp, ac=ac) -> torch.Tensor:
                with torch.inference_mode(), ac.autocast():
                    return comp(x)

            try:
                _, s = _clock(call)
            except Exception as e:  # noqa: BLE001
                print(f"  compile-{prec}: failed ({type(e).__name__}: {str(e)[:160]})", file=sys.stderr)
                continue

            def swap(folded: torch.nn.Module = folded) -> None:
                with torch.no_grad():
                    for k, p in folded.state_dict().items():
                        p.copy_(new[k])

            cases.append(Case(f"compile-{prec}", call, s, swap, "in-place copy_ (no recompile)"))
    try:
        folded = fold_batch_norm(net).to(memory_format=torch.channels_last)  # type: ignore[call-overload]

        def freeze() -> torch.jit.ScriptModule:
            with torch.no_grad():
                return torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(folded, x).eval()))

        frozen, s = _clock(freeze)

        def call_frozen(frozen=frozen) -> torch.Tensor:
            with torch.inference_mode():
                return frozen(x)

        cases.append(Case("jit-freeze-fp32", call_frozen, s, lambda: None, "re-trace + freeze (setup column)"))
    except Exception as e:  # noqa: BLE001
        print(f"  jit-freeze: failed ({type(e).__name__}: {str(e)[:120]})", file=sys.stderr)
    return cases


def ort_cases(folded: torch.nn.Module, x: torch.Tensor, threads: int, new: dict, label: str) -> list[Case]:
    try:
        import onnxruntime as ort
    except ImportError:
        print("  onnxruntime not installed: skipped", file=sys.stderr)
        return []
    ch, stride = x.shape[1], 16
    const, t_const = _clock(lambda: runtime.export_onnx(folded, ch, stride, weights_as_inputs=False))
    winp, t_winp = _clock(lambda: runtime.export_onnx(folded, ch, stride, weights_as_inputs=True))
    xn = x.contiguous().numpy()
    weights = {k: v.detach().numpy() for k, v in folded.state_dict().items()}
    cases = []

    def options(level) -> ort.SessionOptions:
        so = ort.SessionOptions()
        so.intra_op_num_threads, so.inter_op_num_threads = threads, 1
        so.graph_optimization_level = level
        return so

    for tag, level in (("const", ort.GraphOptimizationLevel.ORT_ENABLE_ALL),
                       ("basic", ort.GraphOptimizationLevel.ORT_ENABLE_BASIC)):
        holder: dict = {}

        def make(level=level, state: dict | None = None, holder=holder) -> None:
            so = options(level)
            keep = []
            for k, v in (state or {}).items():
                val = ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(v.numpy()))
                keep.append(val)
                so.add_initializer(k, val)
            holder["s"] = ort.InferenceSession(const, so, providers=["CPUExecutionProvider"])
            holder["keep"] = keep

        _, s = _clock(make)
        cases.append(Case(f"ort-fp32-{tag}{label}",
                          lambda h=holder: torch.from_numpy(h["s"].run(None, {"x": xn})[0]), t_const + s,
                          lambda make=make: make(state=new), "new session, add_initializer (no re-export)"))
    sess, s = _clock(lambda: ort.InferenceSession(winp, options(ort.GraphOptimizationLevel.ORT_ENABLE_ALL),
                                                   providers=["CPUExecutionProvider"]))
    cases.append(Case(f"ort-fp32-inputs{label}", lambda: torch.from_numpy(sess.run(None, {"x": xn, **weights})[0]),
                      t_winp + s, lambda: weights.update({k: v.numpy() for k, v in new.items()}),
                      "weights are inputs: new arrays"))
    return cases


def ov_cases(folded: torch.nn.Module, x: torch.Tensor, new_net: torch.nn.Module, avx2: bool) -> list[Case]:
    if not runtime.openvino_available():
        print("  openvino not installed: skipped", file=sys.stderr)
        return []
    cases = []
    for prec in ("fp32", "bf16"):
        if avx2 and prec == "bf16":
            continue  # with its ISA capped at AVX2, OpenVINO refuses a bf16 hint ("object is not initialized")
        t0 = time.perf_counter()
        rt = runtime.OpenVinoNet(folded, x.shape[1], 16, prec)
        ok = rt.wait()
        t_export = time.perf_counter() - t0
        _, t_compile = _clock(lambda rt=rt: rt.run(x, block=True))
        if not ok or rt.run(x) is None:
            print(f"  ov-{prec}: off ({rt.reason})", file=sys.stderr)
            continue
        cases.append(Case(f"ov-{prec}", lambda rt=rt: rt.run(x), t_export + t_compile,
                          lambda rt=rt: rt.load(new_net), "weights are inputs: new arrays"))
        print(f"  ov-{prec}: export+check {t_export:.2f} s, compile at this size {t_compile:.3f} s", file=sys.stderr)
    for fp in ("fp32", "bf16"):  # int8 (int8.Int8Net), the refinement MLP left in fp
        if avx2 and fp == "bf16":
            continue
        t0 = time.perf_counter()
        q = int8.Int8Net(folded, x.shape[1], 16, x, fp)
        ok = q.wait()
        out = q.run(x, block=True)
        setup = time.perf_counter() - t0
        if not ok or out is None:
            print(f"  ov-int8+{fp}: off ({q.reason})", file=sys.stderr)
            continue
        cases.append(Case(f"ov-int8+{fp} ({q.bits}-bit weights)", lambda q=q: q.run(x), setup, None,
                          "baked in: a new int8 network (setup column)"))
        print(f"  ov-int8+{fp}: quantize+export+check+compile {setup:.2f} s, {q.psnr:.1f} dB against torch fp32",
              file=sys.stderr)
    return cases


def run_group(net: torch.nn.Module, size: tuple[int, int], threads: int, args: argparse.Namespace) -> list[Case]:
    torch.set_num_threads(threads)
    w, h = size
    gen = torch.Generator().manual_seed(0)
    x = (torch.rand(1, 6, h, w, generator=gen) * 2 - 1)
    x = pad_to_stride(x, 16)[0].contiguous(memory_format=torch.channels_last)  # what Stylizer.run feeds the net
    folded = fold_batch_norm(net)
    new_net = copy.deepcopy(folded)
    with torch.no_grad():
        for p in new_net.parameters():
            p.mul_(1.01)
    new = {k: v.detach().clone() for k, v in new_net.state_dict().items()}
    with torch.inference_mode():
        ref = folded(x).float().clamp(-1, 1)
    cases = torch_cases(net, x, new, args.compile and threads == args.threads[0])
    label = " (AVX-512: no ISA cap)" if args.avx2 else ""
    cases += ort_cases(folded, x, threads, new, label)
    cases += ov_cases(folded, x, new_net, args.avx2)
    for c in cases:
        with torch.inference_mode():
            c.diff = float((c.fn().float().clamp(-1, 1) - ref).abs().max())
            for _ in range(args.warmup):
                c.fn()
    for _ in range(args.runs):  # round-robin
        for c in cases:
            t0 = time.perf_counter()
            with torch.inference_mode():
                c.fn()
            c.ms.append(1000 * (time.perf_counter() - t0))
    for c in cases:
        if c.swap is not None:
            _, s = _clock(c.swap)
            c.swap_ms = 1000 * s
    return cases


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=lambda s: [parse_size(v) for v in s.split(",")],
                    default=[(640, 360), (1280, 720)])
    ap.add_argument("--threads", type=lambda s: [int(v) for v in s.split(",")], default=[1, 2])
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--no-compile", dest="compile", action="store_false",
                    help="skip torch.compile (~10-40 s per case to compile on 2 cores)")
    ap.add_argument("--avx2", action="store_true", help="re-run with PyTorch and OpenVINO capped at AVX2")
    args = ap.parse_args(argv)
    if args.avx2 and os.environ.get("ONEDNN_MAX_CPU_ISA") != "AVX2":
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **AVX2_ENV})
    setup_torch(None)
    versions = []
    for mod in ("onnxruntime", "openvino"):
        try:
            versions.append(f"{mod} {__import__(mod).__version__}")
        except ImportError:
            versions.append(f"{mod} not installed")
    net, _ = checkpoint.load(prior.prior_path("fast"))
    cap = " ".join(f"{k}={v}" for k, v in AVX2_ENV.items()) if args.avx2 else "none"
    print(f"# livestyle network on CPU runtimes\n\n{machine_line()}\n\nISA cap: {cap}; "
          f"torch ATen capability {torch.backends.cpu.get_cpu_capability()}; {'; '.join(versions)}\n")
    print(f"`fast` preset, 6 input channels, shipped prior weights, batch 1; warm-up {args.warmup}, then "
          f"{args.runs} calls per backend round-robin; diff = max |out - torch fp32| on [-1, 1]\n", flush=True)
    header = ["size", "threads", "backend", "median ms", "p90 ms", "vs torch same precision", "max diff", "setup s",
              "swap ms", "swap is", "load 1-min before/after"]
    rows = []
    for size in args.sizes:
        for threads in args.threads:
            load0 = os.getloadavg()[0]
            cases = run_group(net, size, threads, args)
            load1 = os.getloadavg()[0]
            base = {c.name: median(c.ms) for c in cases}
            for c in cases:
                ref = base["torch-bf16" if "bf16" in c.name else "torch-fp32"]
                med = median(c.ms)
                rows.append([f"{size[0]}x{size[1]}", threads, c.name, f"{med:.1f}", f"{percentile(c.ms, 90):.1f}",
                             f"{med / ref:.2f}", f"{c.diff:.4f}", f"{c.setup_s:.2f}",
                             f"{c.swap_ms:.1f}", c.swap_note, f"{load0:.2f}/{load1:.2f}"])
                print("  | " + " | ".join(map(str, rows[-1])) + " |", file=sys.stderr, flush=True)  # survives a crash
    print(markdown_table(header, rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
