"""The shipped starting weights (``livestyle.engine.prior``): loading, fitting to the guides, and that they help."""

from __future__ import annotations

import cv2
import pytest
import torch

from livestyle.engine import checkpoint, prior
from livestyle.engine.checkpoint import ModelInfo
from livestyle.engine.model import DEFAULT_PRESET, PRESETS, Generator
from livestyle.engine.train import TrainConfig, Trainer
from livestyle.errors import LivestyleError, ModelError
from livestyle.paths import MissingAssetError
from livestyle.style import Keyframe

from .conftest import astronaut


def test_the_default_preset_ships_a_prior_that_fits_any_number_of_guides():
    assert prior.prior_path(DEFAULT_PRESET).is_file()
    _, info = checkpoint.load(prior.prior_path(DEFAULT_PRESET), expect_preset=DEFAULT_PRESET)
    assert info.train["method"] == "reptile" and info.train["tasks"] > 0
    for channels in (3, 6, 9):  # no guide, the blob guide, a guide the prior never saw
        cfg = PRESETS[DEFAULT_PRESET].with_inputs(channels)
        state = prior.prior_state(DEFAULT_PRESET, cfg)
        assert state is not None
        Generator(cfg).load_state_dict(state, strict=True)
        stem = state["stem.0.weight"]
        assert stem.shape[1] == channels
        if channels == 9:
            assert torch.count_nonzero(stem[:, 6:]) == 0 and torch.count_nonzero(stem[:, :6]) > 0


def test_presets_without_a_prior_and_scratch_start_from_random_weights():
    key = astronaut((64, 64))
    kf = [Keyframe("0", key, key, None)]
    assert Trainer(kf, TrainConfig(preset="paper", guides=())).init == "scratch"
    made = Trainer(kf, TrainConfig(iterations=1))
    scratch = Trainer(kf, TrainConfig(iterations=1, init="scratch"))
    assert made.init == "prior" and scratch.init == "scratch"
    shipped = prior.prior_state(DEFAULT_PRESET, made.gen_cfg)
    assert shipped is not None
    for k, v in made.model.state_dict().items():
        assert torch.equal(v, shipped[k]), k
    assert not torch.equal(scratch.model.state_dict()["stem.0.weight"], shipped["stem.0.weight"])
    given = Trainer(kf, TrainConfig(iterations=1), init_state=scratch.model.state_dict())
    assert given.init == "given"
    assert torch.equal(given.model.state_dict()["stem.0.weight"], scratch.model.state_dict()["stem.0.weight"])
    with pytest.raises(LivestyleError, match="--init"):
        TrainConfig(init="imagenet")


def test_a_damaged_prior_is_a_one_line_error_and_a_prior_of_another_design_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setattr(prior, "PRIORS", tmp_path)
    cfg = PRESETS[DEFAULT_PRESET].with_inputs(6)
    with pytest.raises(MissingAssetError, match="missing from this livestyle install.*--init scratch"):
        prior.prior_state(DEFAULT_PRESET, cfg)  # the shipped prior gone: a broken install, said at once
    assert prior.prior_state("paper", PRESETS["paper"].with_inputs(6)) is None  # none ships: random weights
    prior.prior_path(DEFAULT_PRESET).write_bytes(b"not a model")
    with pytest.raises(ModelError, match="reinstall livestyle, or train with --init scratch"):
        prior.prior_state(DEFAULT_PRESET, cfg)
    other = PRESETS["quality"].with_inputs(6)  # a different design saved under the default preset's name
    checkpoint.save(prior.prior_path(DEFAULT_PRESET), Generator(other), ModelInfo(DEFAULT_PRESET, other))
    assert prior.prior_state(DEFAULT_PRESET, cfg) is None


def test_training_from_the_prior_learns_an_unseen_style_faster_than_from_scratch():
    # astronaut and OpenCV's stylization are held out of calibration/pretrain.py's tasks
    key = astronaut((192, 128))
    kf = [Keyframe("0", key, cv2.stylization(key, sigma_s=60, sigma_r=0.45), None)]
    losses = {}
    for init in ("prior", "scratch"):
        tr = Trainer(kf, TrainConfig(iterations=60, init=init, seed=3))
        for _ in range(60):
            tr.step()
        losses[init] = tr.evaluate()
    assert losses["prior"] < 0.85 * losses["scratch"], losses


def test_doctor_reports_the_prior_and_says_what_a_missing_one_costs(tmp_path, monkeypatch, capsys):
    from livestyle.cli import main

    main(["doctor"])
    assert "[ok] prior" in capsys.readouterr().out
    monkeypatch.setattr(prior, "PRIORS", tmp_path)
    main(["doctor"])
    line = next(ln for ln in capsys.readouterr().out.splitlines() if ln.split("]", 1)[-1].strip().startswith("prior"))
    assert line.strip().startswith("[!!]") and "random weights" in line and "reinstall" in line
