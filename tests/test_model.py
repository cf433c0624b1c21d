from __future__ import annotations

import pytest
import torch

from livestyle.engine.model import PRESETS, GeneratorConfig, build, count_parameters, pad_to_stride


def test_paper_preset_reproduces_reference_generator_parameter_count():
    # GeneratorJ(filters=(32,64,128,128,128,64), resnet_blocks=7, batch norm, bias, tanh,
    # append_smoothers) has 3,267,523 parameters with 3 input channels (computed from its layers).
    assert count_parameters(build("paper", 3)) == 3_267_523


def test_paper_preset_layer_shapes_match_reference():
    m = build("paper", 3)
    shapes = {k: tuple(v.shape) for k, v in m.state_dict().items() if k.endswith("weight")}
    assert shapes["stem.0.weight"] == (32, 3, 7, 7)  # conv0
    assert shapes["downs.0.0.weight"] == (64, 32, 3, 3)  # conv1, stride 2
    assert shapes["downs.1.0.weight"] == (128, 64, 3, 3)  # conv2, stride 2
    assert len(m.blocks) == 7
    assert shapes["blocks.0.body.1.weight"] == (128, 128, 3, 3)
    assert shapes["ups.0.1.weight"] == (128, 256, 3, 3)  # upconv2 sees resnet out + conv2 skip
    assert shapes["ups.1.1.weight"] == (128, 192, 3, 3)  # upconv1 sees + conv1 skip
    assert shapes["head.0.weight"] == (64, 32 + 128 + 3, 7, 7)  # conv_11 sees conv0 skip + raw input
    assert shapes["head.2.weight"] == (64, 64, 3, 3) and shapes["head.5.weight"] == (64, 64, 3, 3)
    assert shapes["to_rgb.weight"] == (3, 64, 1, 1)
    assert m.stride == 4


def test_paper_preset_with_guide_channels_grows_only_input_layers():
    assert count_parameters(build("paper", 6)) - count_parameters(build("paper", 3)) == 3 * 32 * 49 + 3 * 64 * 49


@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("cin", [3, 6])
def test_every_preset_maps_input_to_rgb_in_range(preset, cin):
    m = build(preset, cin).eval()
    x = torch.rand(2, cin, 2 * m.stride, 3 * m.stride) * 2 - 1
    with torch.no_grad():
        y = m(x)
    assert y.shape == (2, 3, 2 * m.stride, 3 * m.stride)
    if m.cfg.out_act == "tanh":
        assert y.abs().max() <= 1


def test_pad_to_stride_handles_the_reference_crash_size():
    x = torch.zeros(1, 3, 401, 402)  # the reference's issue #14 size
    xp, (h, w) = pad_to_stride(x, 16)
    assert xp.shape[-2:] == (416, 416) and (h, w) == (401, 402)
    m = build("fast", 3).eval()
    with torch.no_grad():
        assert m(pad_to_stride(x, m.stride)[0])[..., :h, :w].shape == (1, 3, 401, 402)


def test_config_round_trip_and_unknown_keys():
    cfg = PRESETS["fast"].with_inputs(6)
    assert GeneratorConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="unknown"):
        GeneratorConfig.from_dict({**cfg.to_dict(), "bogus": 1})


@pytest.mark.parametrize("preset", ["quality", "paper"])  # the presets with batch norm
def test_batch_norm_folding_is_exact_and_removes_the_norms_after_convs(preset):
    from livestyle.engine.infer import fold_batch_norm

    torch.manual_seed(0)
    m = build(preset, 6).eval()
    for mod in m.modules():  # trained-looking statistics, not the identity defaults
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.normal_()
            mod.running_var.uniform_(0.5, 2.0)
            mod.weight.data.normal_()
            mod.bias.data.normal_()
    folded = fold_batch_norm(m)
    x = torch.randn(1, 6, 64, 64)
    with torch.no_grad():
        assert torch.allclose(folded(x), m(x), atol=1e-4, rtol=1e-4)
    left = sum(isinstance(z, torch.nn.BatchNorm2d) for z in folded.modules())
    assert left == (1 if preset == "paper" else 0)  # the paper's head norm follows a ReLU: not foldable
    assert any(isinstance(z, torch.nn.BatchNorm2d) for z in m.modules())  # the original is untouched


def _refined(cin: int = 6) -> torch.nn.Module:
    torch.manual_seed(1)
    m = build("fast", cin)
    assert m.refine is not None
    torch.nn.init.normal_(m.refine[2].weight, std=0.3)  # trained-looking, not the zero start
    torch.nn.init.normal_(m.refine[2].bias, std=0.1)
    return m


def test_refine_starts_as_no_correction():
    m = build("fast", 6)
    x = torch.rand(1, 6, 32, 48) * 2 - 1
    with torch.no_grad():
        out = m(x)
        m.refine = None  # the same network without the per-pixel MLP
        assert torch.allclose(m(x), out, atol=1e-6)


def test_refine_inference_path_equals_the_training_path(monkeypatch):
    import livestyle.engine.model as model_mod

    m = _refined()
    x = torch.rand(2, 6, 48, 64) * 2 - 1
    train_out = m(x)  # autograd on: the path training uses
    assert train_out.requires_grad
    monkeypatch.setattr(model_mod, "REFINE_CHUNK", 1000)  # chunks that do not divide the frame
    with torch.no_grad():
        assert torch.allclose(m(x), train_out, atol=1e-5)
        cl = x.contiguous(memory_format=torch.channels_last)  # how the Stylizer feeds it
        assert torch.allclose(m(cl), train_out, atol=1e-5)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            low = m(cl)
    assert low.dtype == torch.float32 and (low - train_out).abs().mean() < 0.02


def test_refine_needs_a_residual_space_to_depth_network():
    with pytest.raises(ValueError, match="refine"):
        build(GeneratorConfig(refine=8), 3)  # the paper's layout: unshuffle 1, tanh
