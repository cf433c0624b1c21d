"""The int8 network (``int8.Int8Net``, ``Stylizer(int8=True)``): close to PyTorch fp32, really int8,
made only for settled weights, dropped when new ones come, and off (the float network runs) when its
self-check fails."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest
import torch

from livestyle.cli import main
from livestyle.cli.live import DEMO_STYLE
from livestyle.engine import checkpoint, infer, int8, prior, runtime
from livestyle.engine.device import pick
from livestyle.engine.infer import Stylizer, frames_to_batch

from .test_cli import assert_one_line_error
from .test_render_live import read_all, trained  # noqa: F401  (a fixture)

needs_openvino = pytest.mark.skipif(not runtime.openvino_available(),
                                    reason="openvino not installed (pip install 'livestyle[fast-cpu]')")


@pytest.fixture(autouse=True)
def _auto_backend(monkeypatch):
    """These tests are about OpenVINO: undo conftest's PyTorch-only default."""
    monkeypatch.setenv(runtime.ENV_VAR, "auto")


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = float(((a.clamp(-1, 1) - b.clamp(-1, 1)) * 127.5).square().mean())
    return 10 * float(np.log10(255.0 ** 2 / max(mse, 1e-10)))


def _frame(shift: int = 0, size: tuple[int, int] = (128, 96), light: float = 1.0) -> torch.Tensor:
    """The demo keyframe (a real photo) at ``size``, moved by ``shift`` px, its light scaled by ``light``,
    with a blurred copy as its guide."""
    photo = cv2.imread(str(DEMO_STYLE / "keys" / "000.png"))
    photo = cv2.resize(np.roll(photo, shift, axis=1), size, interpolation=cv2.INTER_AREA)
    photo = cv2.convertScaleAbs(photo, alpha=light)
    return frames_to_batch([photo], [[cv2.GaussianBlur(photo, (0, 0), 6)]], 16)


def _demo_net() -> torch.nn.Module:
    return checkpoint.load(DEMO_STYLE / "model.safetensors")[0].eval()


def _torch(net: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    return Stylizer(net, pick("cpu", "fp32"), backend="torch").run(x).float()


def _int8_convs(q: int8.Int8Net, x: torch.Tensor) -> dict[str, int]:
    """Runtime precisions of the convolutions OpenVINO compiled for ``x``'s shape."""
    req, _ = q._request(x, torch.get_num_threads()).result()
    counts: dict[str, int] = {}
    for op in req.get_compiled_model().get_runtime_model().get_ordered_ops():
        info = op.get_rt_info()
        if info["layerType"].astype(str) == "Convolution":
            p = info["runtimePrecision"].astype(str)
            counts[p] = counts.get(p, 0) + 1
    return counts


@needs_openvino
@pytest.mark.parametrize("vnni", [True, False])  # False: 7-bit weights, for AVX2 CPUs without VNNI
def test_int8_is_close_to_pytorch_and_really_int8(monkeypatch, vnni):
    monkeypatch.setattr(int8, "cpu_has_vnni", lambda: vnni)
    net = _demo_net()
    sty = Stylizer(net, pick("cpu", "fp32"), int8=True)
    assert sty.int8 and sty.quantized is None
    sty.settle()
    x = _frame()
    got = sty.run(x, block=True)  # offline: made on this frame and waited for
    q = sty.quantized
    assert q is not None and q.enabled, q and q.reason
    assert q.bits == (8 if vnni else 7)
    assert sty.backend == "openvino int8"
    assert q.psnr >= int8.INT8_MIN_PSNR
    other = _frame(shift=9)  # another frame than the one it was calibrated on
    assert _psnr(got, _torch(net, x)) >= int8.INT8_MIN_PSNR
    assert _psnr(sty.run(other, block=True), _torch(net, other)) >= int8.INT8_MIN_PSNR
    counts = _int8_convs(q, x)
    convs = [n for n, m in net.named_modules() if isinstance(m, torch.nn.Conv2d)]
    kept = [n for n in convs if n.startswith(int8.INT8_KEEP)]  # the refinement MLP's
    assert len(kept) == 2
    assert counts.get("u8", 0) + counts.get("i8", 0) == len(convs) - len(kept) > 0, counts
    assert sum(counts.values()) == len(convs), counts


@needs_openvino
def test_int8_waits_for_the_weights_to_settle_and_drops_them_when_new_ones_come():
    net = _demo_net()
    sty = Stylizer(net, pick("cpu", "fp32"), int8=True)
    x = _frame()
    old = _torch(_demo_net(), x)
    sty.run(x)  # live: the weights only just came
    assert sty.quantized is None and sty.backend != "openvino int8"
    sty.settle()
    sty.run(x, block=True)
    assert sty.backend == "openvino int8"
    new = {k: v * 1.05 if k.startswith("to_rgb") else v for k, v in net.state_dict().items()}
    sty.swap(new)
    got = sty.run(x)  # the float network with the new weights, at once
    assert sty.quantized is None and sty.backend != "openvino int8"
    net2 = _demo_net()
    net2.load_state_dict(new)
    ref = _torch(net2, x)
    assert (got - ref).abs().max() <= 1e-3  # fp32: the same function
    assert (ref - old).abs().max() > 0.01  # and the new weights do change it
    sty.settle()
    again = sty.run(x, block=True)
    assert sty.backend == "openvino int8" and _psnr(again, ref) >= int8.INT8_MIN_PSNR


@needs_openvino
def test_frames_that_outgrow_the_int8_ranges_get_a_new_int8_network(monkeypatch):
    """Made on a dark frame (the light was off), then the light comes on: the live check finds the inputs
    clipping and a new int8 network, made for both, takes over; a frame inside the ranges changes nothing."""
    monkeypatch.setattr(infer, "INT8_RECHECK_S", 0.0)
    net = _demo_net()
    sty = Stylizer(net, pick("cpu", "fp32"), int8=True)
    sty.settle()
    dark, lit = _frame(light=0.2), _frame(shift=5)
    sty.run(dark, block=True)  # made for the dark frame (offline: no checks)
    first = sty.quantized
    assert first is not None and first.enabled and first.ready
    before = _psnr(sty.run(lit, block=True), _torch(net, lit))
    for _ in range(3):  # a frame it was made for: checked, nothing new
        sty.run(dark)
        first._pool.submit(lambda: None).result()  # the check ran
    assert sty._q_next is None and sty.quantized is first
    deadline = time.monotonic() + 120
    while sty.quantized is first and time.monotonic() < deadline:
        sty.run(lit)  # live: the check runs on its thread, the successor is made, then takes over
        time.sleep(0.05)
    second = sty.quantized
    assert second is not None and second is not first and second.enabled
    assert all(second.ranges[k][0] <= first.ranges[k][0] and second.ranges[k][1] >= first.ranges[k][1]
               for k in first.ranges)
    assert any(second.ranges[k] != first.ranges[k] for k in first.ranges)
    after = _psnr(sty.run(lit), _torch(net, lit))
    assert sty.backend == "openvino int8" and after > before, (before, after)


@needs_openvino
def test_a_failed_int8_self_check_leaves_the_float_network(monkeypatch, caplog):
    monkeypatch.setattr(int8, "INT8_MIN_PSNR", 200.0)  # no int8 network is that close
    net = _demo_net()
    sty = Stylizer(net, pick("cpu", "fp32"), int8=True)
    sty.settle()
    x = _frame()
    got = sty.run(x, block=True)
    q = sty.quantized
    assert q is not None and not q.enabled and "self-check" in q.reason
    assert sty.backend != "openvino int8"
    assert (got - _torch(net, x)).abs().max() <= 1e-3
    assert any("int8 network off" in r.getMessage() for r in caplog.records)
    sty.run(x, block=True)  # and it is not made again for every frame
    assert sty.quantized is q


def test_int8_is_off_where_pytorch_is_forced_or_off_asked(monkeypatch):
    net = prior_net = checkpoint.load(prior.prior_path("fast"))[0].eval()
    assert not Stylizer(net, pick("cpu", "fp32"), backend="torch", int8=True).int8
    assert not Stylizer(prior_net, pick("cpu", "fp32")).int8  # off unless asked (offline render)
    monkeypatch.setenv(runtime.ENV_VAR, "torch")
    assert not Stylizer(net, pick("cpu", "fp32"), int8=True).int8


@needs_openvino
def test_render_live_runs_the_int8_network_unless_told_not_to(trained, tiny_clip, tmp_path, monkeypatch,  # noqa: F811
                                                             capsys):
    """``render --live`` (offline: made on the first frame and waited for) runs the network as live does
    once its weights settle: in int8; ``--no-int8`` keeps the float one; ``--int8`` needs ``--live``."""
    seen: list[Stylizer] = []
    real = Stylizer.run

    def spy(self, batch, block=False):
        seen.append(self)
        return real(self, batch, block)

    monkeypatch.setattr(Stylizer, "run", spy)
    names = sorted(p.name for p in tiny_clip.iterdir())
    got = {}
    for label, flags in {"int8": [], "float": ["--no-int8"]}.items():
        seen.clear()
        assert main(["render", str(trained), str(tiny_clip), str(tmp_path / label), "--live", *flags]) == 0
        assert len({id(s) for s in seen}) == 1
        assert seen[0].backend == ("openvino int8" if label == "int8" else "openvino")
        got[label] = read_all(tmp_path / label, names)
    diffs = [np.abs(a.astype(int) - b).max() for a, b in zip(got["int8"], got["float"], strict=True)]
    assert 0 < max(diffs) and all(d <= 64 for d in diffs)  # int8 changes the frames, by a little
    assert "int8 off" in capsys.readouterr().err  # the summary line says which (the last run: --no-int8)
    assert_one_line_error(capsys, ["render", str(trained), str(tiny_clip), str(tmp_path / "o"), "--int8"],
                          "only applies with --live")


@needs_openvino
def test_live_with_a_saved_style_switches_to_int8_and_says_so(trained):  # noqa: F811
    """A saved style with training off: its weights are final, so live makes the int8 network at once,
    runs it, and tells the user once; with ``int8`` off it keeps the float network."""
    from livestyle.live.session import LiveConfig, LiveSession

    from .control_helpers import wait_until

    small = dict(width=160, height=96, fps=20.0, outputs="null", train=False)
    with LiveSession(LiveConfig(style=str(trained), **small)) as s:
        assert wait_until(lambda: "openvino int8" in s.stats().device, timeout=60)
        assert wait_until(lambda: s.stats().stylized >= 3)
        notes = [e.message for e in s.drain_events()]
        assert wait_until(lambda: notes.extend(e.message for e in s.drain_events()) or
                          any(n.startswith("network: int8 in OpenVINO") for n in notes), timeout=10)
        assert sum(n.startswith("network: int8") for n in notes) == 1
    with LiveSession(LiveConfig(style=str(trained), int8=False, **small)) as s:
        assert wait_until(lambda: s.stats().stylized >= 10)
        assert "int8" not in s.stats().device
