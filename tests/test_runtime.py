"""The OpenVINO runtime of the Stylizer against PyTorch: same output, swapped weights, fallback."""

from __future__ import annotations

import pytest
import torch

from livestyle.engine import runtime
from livestyle.engine.device import pick
from livestyle.engine.infer import Stylizer
from livestyle.engine.model import build

needs_openvino = pytest.mark.skipif(not runtime.openvino_available(),
                                    reason="openvino not installed (pip install 'livestyle[fast-cpu]')")
BF16_TOL = 0.05  # bf16 keeps 8 bits of mantissa; measured 0.012 on the shipped prior at 640x360


def _net(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    net = build("fast", 6)
    with torch.no_grad():  # the refinement MLP starts at zero: give it weights so that it counts
        for p in net.refine.parameters():  # type: ignore[union-attr]
            p.normal_(0, 0.3)
    return net.eval()


def _input(h: int, w: int, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return (torch.rand(1, 6, h, w, generator=gen) * 2 - 1).contiguous(memory_format=torch.channels_last)


def _ready(sty: Stylizer, x: torch.Tensor) -> None:
    """Wait for the runtime's export and for its compile of ``x``'s padded shape."""
    assert sty.runtime is not None and sty.runtime.wait(), sty.runtime and sty.runtime.reason
    sty.warmup(x.shape[-1], x.shape[-2], iterations=1)


def _torch(net: torch.nn.Module, x: torch.Tensor, precision: str = "fp32") -> torch.Tensor:
    return Stylizer(net, pick("cpu", precision), backend="torch").run(x).float()


@needs_openvino
@pytest.mark.parametrize("precision,tol", [("fp32", 1e-4), ("bf16", BF16_TOL)])
@pytest.mark.parametrize("size", [(64, 96), (37, 50)])  # (37, 50) is padded to (48, 64) and cropped back
def test_openvino_matches_pytorch(precision, tol, size):
    net, x = _net(0), _input(*size)
    sty = Stylizer(net, pick("cpu", precision), backend="openvino")
    _ready(sty, x)
    got = sty.run(x)
    assert sty.backend == "openvino"
    ref = _torch(net, x)
    assert got.shape == ref.shape == (1, 3, *size)
    assert (got - ref).abs().max() <= tol
    assert (got - ref).abs().max() < 0.1 * ref.std()  # and the output is not trivially small


@needs_openvino
def test_openvino_runs_the_shifted_windows_of_phase_averaging():
    net, x = _net(1), _input(48, 64)
    sty = Stylizer(net, pick("cpu", "fp32"), phases=4, backend="openvino")
    assert sty.runtime is not None and sty.runtime.wait()
    sty.runtime.run(_input(48 + 16, 64 + 16), block=True)  # the windows' shape: +lead and the stride's pad
    calls = []
    run = sty.runtime.run
    sty.runtime.run = lambda t, block=False: calls.append(t.shape) or run(t, block)  # type: ignore[method-assign]
    got = sty.run(x)
    ref = Stylizer(net, pick("cpu", "fp32"), phases=4, backend="torch").run(x)
    assert len(calls) == 4
    assert (got - ref).abs().max() <= 1e-4


@needs_openvino
def test_openvino_picks_up_swapped_weights():
    old, new, x = _net(2), _net(3), _input(32, 48)
    sty = Stylizer(old, pick("cpu", "fp32"), backend="openvino")
    _ready(sty, x)
    before = sty.run(x)
    sty.swap(new.state_dict())
    after = sty.run(x)
    assert sty.version == 1 and sty.backend == "openvino"
    assert (after - _torch(new, x)).abs().max() <= 1e-4
    assert (after - before).abs().max() > 0.1


@needs_openvino
def test_a_runtime_failure_falls_back_to_pytorch():
    net, x = _net(4), _input(32, 48)
    sty = Stylizer(net, pick("cpu", "fp32"), backend="openvino")
    _ready(sty, x)
    assert sty.runtime is not None
    sty.runtime._weights["stem.0.weight"] = torch.zeros(3).numpy()  # a wrong shape: the next call into OpenVINO fails
    got = sty.run(x)
    assert sty.backend == "torch" and "[32,6,4,4]" in sty.runtime.reason
    assert torch.equal(got, _torch(net, x))


def test_backend_torch_and_the_environment_force_pytorch(monkeypatch):
    bf16 = pick("cpu", "bf16")
    assert Stylizer(_net(5), bf16, backend="torch").runtime is None
    monkeypatch.setenv(runtime.ENV_VAR, "torch")
    assert runtime.choose("auto", bf16) == "torch"
    assert Stylizer(_net(5), bf16).runtime is None
    monkeypatch.setenv(runtime.ENV_VAR, "nonsense")
    with pytest.raises(ValueError, match=runtime.ENV_VAR):
        runtime.choose("auto", bf16)
    with pytest.raises(ValueError, match="backend must be one of"):
        runtime.choose("tensorrt", bf16)


def test_auto_picks_openvino_only_where_it_was_measured_to_win(monkeypatch):
    monkeypatch.delenv(runtime.ENV_VAR, raising=False)
    monkeypatch.setattr(runtime, "openvino_available", lambda: True)
    assert runtime.choose("auto", pick("cpu", "bf16")) == "openvino"
    assert runtime.choose("auto", pick("cpu", "fp32")) == ("openvino" if "fp32" in runtime.AUTO_PRECISIONS else "torch")
    monkeypatch.setattr(runtime, "openvino_available", lambda: False)
    assert runtime.choose("auto", pick("cpu", "bf16")) == "torch"


def test_without_openvino_the_stylizer_runs_pytorch(monkeypatch):
    """openvino missing (its import fails): forcing the backend still gives PyTorch's output."""
    import builtins

    real = builtins.__import__

    def no_openvino(name, *args, **kwargs):
        if name == "openvino" or name.startswith("openvino."):
            raise ImportError("No module named 'openvino'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_openvino)
    net, x = _net(6), _input(37, 50)
    sty = Stylizer(net, pick("cpu", "fp32"), backend="openvino")
    assert sty.runtime is not None and not sty.runtime.wait()
    assert "openvino" in sty.runtime.reason.lower()
    assert sty.backend == "torch"
    assert torch.equal(sty.run(x), _torch(net, x))


@needs_openvino
def test_offline_frames_wait_for_the_runtime():
    """``Stylizer(frames)`` (render's path) waits for OpenVINO: its output does not depend on timing."""
    import numpy as np

    net = _net(7)
    rng = np.random.default_rng(0)
    frame, guide = (rng.integers(0, 256, (37, 50, 3), dtype=np.uint8) for _ in range(2))
    sty = Stylizer(net, pick("cpu", "fp32"), backend="openvino")
    sty([frame], [[guide]])
    assert sty.runtime is not None and sty.runtime.run(_input(48, 64)) is not None  # compiled before it returned


@needs_openvino
def test_weights_swapped_before_the_self_check_do_not_fail_it():
    # Live, the trainer's next weights (1.5 s later) may be loaded while the export and self-check still run on a
    # busy CPU; checked against the first network they failed it ("differs from PyTorch's by 0.439") and
    # PyTorch ran for the rest of the show. The export lock held here makes the swap come first, every time.
    first, second, x = _net(5), _net(6), _input(32, 48)
    with runtime._EXPORT_LOCK:
        sty = Stylizer(first, pick("cpu", "bf16"), backend="openvino")
        sty.swap(second.state_dict())
        sty.run(x)  # PyTorch, the runtime is not ready: the swap is applied
    _ready(sty, x)
    assert sty.runtime is not None and sty.runtime.check_error <= BF16_TOL
    got = sty.run(x)
    assert sty.backend == "openvino"
    assert (got - _torch(second, x)).abs().max() <= BF16_TOL


def _loud(seed: int) -> torch.nn.Module:
    """A right network whose bf16 error is past the self-check's tolerance (0.39 on its input: a large refinement
    MLP at full resolution)."""
    net = _net(seed)
    with torch.no_grad():
        for p in net.refine.parameters():  # type: ignore[union-attr]
            p.mul_(8)
    return net


@needs_openvino
def test_a_failed_self_check_is_made_again_with_the_next_weights(caplog):
    loud, calm, x = _loud(7), _net(7), _input(32, 48)
    sty = Stylizer(loud, pick("cpu", "bf16"), backend="openvino")
    rt = sty.runtime
    assert rt is not None and not rt.wait() and "checked again with the next weights" in rt.reason
    assert torch.equal(sty.run(x), _torch(loud, x, "bf16")) and sty.backend == "torch"
    sty.swap(calm.state_dict())  # live training's next weights
    sty.run(x)
    _ready(sty, x)
    assert rt.checks == 2 and rt.reason == "" and sty.backend == "openvino"
    assert (sty.run(x) - _torch(calm, x)).abs().max() <= BF16_TOL
    assert "OpenVINO runtime on again" in caplog.text


@needs_openvino
def test_weights_that_keep_failing_the_self_check_turn_it_off_for_good(caplog):
    x = _input(32, 48)
    sty = Stylizer(_loud(8), pick("cpu", "bf16"), backend="openvino")
    rt = sty.runtime
    assert rt is not None
    for seed in range(9, 9 + runtime.MAX_CHECKS):
        assert not rt.wait()
        sty.swap(_loud(seed).state_dict())
        sty.run(x)
    assert not rt.wait() and rt.checks == runtime.MAX_CHECKS and sty.backend == "torch"
    assert f"{runtime.MAX_CHECKS} weight sets in a row" in rt.reason
    assert [r.getMessage().count("OpenVINO runtime off") for r in caplog.records] == [1, 1]  # off, then for good
