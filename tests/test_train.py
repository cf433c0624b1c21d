from __future__ import annotations

import numpy as np
import pytest
import torch

from livestyle.engine import checkpoint
from livestyle.engine.checkpoint import ModelInfo
from livestyle.engine.sampler import PatchSampler, valid_centres
from livestyle.engine.train import TrainConfig, Trainer
from livestyle.errors import ImageError, LivestyleError, ModelError
from livestyle.style import Keyframe, StyleFolder

from .conftest import astronaut, paint


def test_sampler_patch_centres_stay_inside_the_eroded_mask():
    mask = np.zeros((80, 120), np.uint8)
    mask[20:60, 30:100] = 255
    corners = valid_centres(mask, mask.shape, 32)
    centres = corners + 16
    assert mask[centres[:, 0], centres[:, 1]].all()
    # 7x7 erosion: no centre within 3 px of the mask border
    assert centres[:, 0].min() >= 23 and centres[:, 0].max() <= 56
    assert centres[:, 1].min() >= 33 and centres[:, 1].max() <= 96


def test_sampler_mixes_all_keyframes_in_every_batch():
    a = torch.full((3, 40, 40), -1.0)
    b = torch.full((3, 40, 40), 1.0)
    s = PatchSampler([a, b], [a, b], [None, None], patch=32)
    x, y = s.sample(40)
    assert x.shape == (40, 3, 32, 32)
    firsts = x[:, 0, 0, 0]
    assert (firsts == -1).sum() == 20 and (firsts == 1).sum() == 20
    assert torch.equal(x, y)


def test_sampler_guide_dropout_blanks_strips_of_the_guide_only():
    rgb, guide = torch.rand(3, 64, 64) * 2 - 1, torch.rand(3, 64, 64) * 0.5 + 0.25  # guide never -1
    inp = torch.cat([rgb, guide])
    s = PatchSampler([inp], [rgb], [None], patch=32, seed=1, guide_dropout=0.5)
    x, _ = s.sample(200)
    blank = (x[:, 3:] == -1.0).all(dim=1)  # (B, p, p): guide pixels set to "no guide"
    hit = blank.flatten(1).any(dim=1)
    assert 0.35 < hit.float().mean() < 0.65  # about half of the patches
    for b in blank[hit]:  # each blank region is one strip from a side, at least a quarter of the patch
        cols, rows = b.all(dim=0), b.all(dim=1)
        assert b.float().mean() >= 0.25
        assert cols[0] or cols[-1] or rows[0] or rows[-1]
    assert torch.all(x[:, :3] > -1.0001) and not (x[:, :3] == -1.0).all(dim=1).any()  # RGB untouched
    assert torch.equal(inp[3:], guide)  # the keyframe itself is not modified
    plain = PatchSampler([inp], [rgb], [None], patch=32, seed=1)
    assert not (plain.sample(50)[0][:, 3:] == -1.0).any()


def test_sampler_rejects_tiny_images_and_empty_masks():
    with pytest.raises(ImageError, match="smaller"):
        valid_centres(None, (20, 40), 32)
    with pytest.raises(ImageError, match="no room"):
        valid_centres(np.zeros((64, 64), np.uint8), (64, 64), 32)


def _kf() -> Keyframe:
    key = astronaut()
    return Keyframe("000", key, paint(key), None)


def test_short_training_lowers_the_loss():
    t = Trainer([_kf()], TrainConfig(iterations=40, guides=(), batch=16, device="cpu"))
    before = t.evaluate()
    st = t.run()
    assert st.iteration == 40 and st.state == "done"
    assert t.evaluate() < 0.8 * before


def test_trainer_stops_on_request_and_reports_progress():
    seen = []
    t = Trainer([_kf()], TrainConfig(iterations=1000, guides=(), batch=8, device="cpu"),
                on_progress=lambda s: (seen.append(s.iteration), t.stop() if s.iteration >= 5 else None))
    st = t.run()
    assert st.state == "stopped" and st.iteration == 5 and seen[:5] == [1, 2, 3, 4, 5]


def test_trainer_recovers_last_good_weights_when_loss_turns_nan():
    t = Trainer([_kf()], TrainConfig(iterations=50, guides=(), batch=8, device="cpu"))
    good = t.state_dict()
    real_step = t.step
    calls = {"n": 0}

    def bad_step():
        calls["n"] += 1
        return float("nan") if calls["n"] == 3 else real_step()

    t.step = bad_step
    st = t.run()
    assert st.state == "failed" and "nan" in st.error
    assert all(torch.isfinite(v).all() for v in t.model.state_dict().values() if v.is_floating_point())
    assert set(good) == set(t.model.state_dict())


def test_trainer_goes_back_to_its_best_weights_when_the_eval_loss_blows_up():
    t = Trainer([_kf()], TrainConfig(iterations=6, guides=(), batch=4, device="cpu", eval_every=0.0))
    evals = iter([1.0, 0.8, 5.0, 0.8, 0.79, 0.78, 0.77, 0.76])
    snapshots = []
    real_eval = t.evaluate

    def fake_eval():
        snapshots.append({k: v.clone() for k, v in t.result.state_dict().items()})
        real_eval()
        return next(evals)

    t.evaluate = fake_eval
    first_opt = t.opt
    st = t.run()
    assert st.recoveries == 1 and st.state == "done" and t.opt is not first_opt
    # the eval after the blow-up (index 3) saw the weights of the best eval (index 1), not the blown-up ones
    assert all(torch.equal(snapshots[3][k], snapshots[1][k]) for k in snapshots[1])
    assert 5.0 not in st.history


def test_published_weights_are_a_running_average_of_the_optimised_ones():
    t = Trainer([_kf()], TrainConfig(guides=(), batch=4, device="cpu", ema=0.99))
    start = {k: v.clone() for k, v in t.model.state_dict().items()}
    t.step()  # first step: the average keeps 2/11 of the old weights (the decay ramps up from there)
    live, pub = t.model.state_dict(), t.state_dict()
    for k, v in pub.items():
        assert torch.allclose(v, (2 / 11) * start[k] + (9 / 11) * live[k], atol=1e-6)
    assert not torch.equal(pub["to_rgb.weight"], live["to_rgb.weight"])
    for _ in range(5):
        t.step()
    out = t.result(torch.zeros(1, 3, 64, 64))  # what gets saved and evaluated is the average
    assert torch.isfinite(out).all()
    plain = Trainer([_kf()], TrainConfig(guides=(), batch=4, device="cpu", ema=0.0))
    plain.step()
    assert plain.result is plain.model


def test_a_gradient_spike_is_clipped_to_a_multiple_of_the_running_norm():
    t = Trainer([_kf()], TrainConfig(guides=(), batch=4, device="cpu", clip=4.0))
    for _ in range(10):
        t.step()
    assert t.clipped <= 2 and t._gnorm > 0
    mean = t._gnorm
    for p in t.model.parameters():  # a batch whose gradient is 1000x the usual
        p.grad = torch.full_like(p, 1000.0)
    t._clip_gradient()
    norm = float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p.grad) for p in t.model.parameters()])))
    assert norm == pytest.approx(4.0 * mean, rel=1e-4)
    assert t.clipped >= 1
    off = Trainer([_kf()], TrainConfig(guides=(), batch=4, device="cpu", clip=0.0))
    off.step()
    for p in off.model.parameters():
        p.grad = torch.full_like(p, 1000.0)
    off._clip_gradient()
    assert all(torch.all(p.grad == 1000.0) for p in off.model.parameters())


def test_learning_rate_holds_then_decays_as_inverse_square_root():
    t = Trainer([_kf()], TrainConfig(guides=(), batch=2, patch=32, device="cpu", lr=1e-3, lr_hold=4))
    lrs = []
    for _ in range(16):
        t.step()
        lrs.append(t.opt.param_groups[0]["lr"])
    assert lrs[:4] == [1e-3] * 4
    assert lrs[15] == pytest.approx(1e-3 * (4 / 16) ** 0.5)
    assert all(a >= b for a, b in zip(lrs, lrs[1:], strict=False))
    const = Trainer([_kf()], TrainConfig(preset="paper", guides=(), batch=2, device="cpu"))
    assert const.cfg.lr_hold == 0  # the paper's constant rate


def test_bad_budgets_are_rejected():
    for kw in ({"seconds": 0}, {"seconds": -3}, {"iterations": 0}, {"preset": "nope"}, {"ema": 1.0}, {"ema": -0.1},
               {"clip": -1.0}, {"clip": float("nan")}, {"lr_hold": -1}):
        with pytest.raises(LivestyleError):
            TrainConfig(**kw)


def test_save_load_round_trip_gives_identical_output(tmp_path):
    t = Trainer([_kf()], TrainConfig(iterations=3, guides=(), batch=8, device="cpu"))
    t.run()
    path = tmp_path / "model.safetensors"
    checkpoint.save(path, t.model, ModelInfo("fast", t.gen_cfg, train={"iterations": 3}))
    model, info = checkpoint.load(path)
    assert info.preset == "fast" and info.config == t.gen_cfg and info.train["iterations"] == 3
    x = torch.rand(1, 3, 32, 48) * 2 - 1
    t.model.eval()
    with torch.no_grad():
        assert torch.allclose(model(x), t.model(x), atol=1e-6)
    with pytest.raises(ModelError, match="preset 'fast'"):
        checkpoint.load(path, expect_preset="paper")


def test_corrupt_model_file_is_a_clear_error(tmp_path):
    p = tmp_path / "model.safetensors"
    p.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}")
    with pytest.raises(ModelError, match="corrupt"):
        checkpoint.load(p)
    p.write_bytes(b"")
    with pytest.raises(ModelError, match="corrupt"):
        checkpoint.load(p)


@pytest.mark.parametrize("cached", ["truncated", "another file"])
def test_a_broken_vgg19_file_in_the_torch_cache_is_one_line_and_no_model_is_written(tiny_style, tmp_path,
                                                                                     monkeypatch, capsys, cached):
    """The perceptual loss (`--loss 4,6,0.5`, the paper's mix) reads VGG19 from torch's cache when it is there:
    a truncated download or another file under its name ended `livestyle train` in an UnpicklingError or
    KeyError traceback."""
    from livestyle.cli import main
    from livestyle.engine.losses import VGG19_FILE

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    vgg = tmp_path / "torch" / "hub" / "checkpoints" / VGG19_FILE
    vgg.parent.mkdir(parents=True)
    if cached == "truncated":
        torch.save({"features.0.weight": torch.zeros(64, 3, 3, 3)}, vgg)
        vgg.write_bytes(vgg.read_bytes()[:200])
    else:
        torch.save({"classifier.0.weight": torch.zeros(4, 4)}, vgg)
    capsys.readouterr()
    rc = main(["train", str(tiny_style), "--iterations", "1", "--loss", "4,6,0.5"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and err[0].startswith(f"livestyle: error: {vgg}: "), err
    assert "delete it" in err[0]
    assert not (tiny_style / "model.safetensors").exists()


def test_style_folder_status_and_snapshot(tmp_path):
    s = StyleFolder(tmp_path / "s").create()
    name = s.snapshot(astronaut(), np.full((64, 96), 255, np.uint8), name="a")
    assert s.status() == {"a": "waiting"}
    s.write_painting("a", paint(astronaut()))
    assert s.status() == {"a": "painted"}
    assert [k.name for k in s.load()] == [name]
    assert s.load()[0].mask is not None
