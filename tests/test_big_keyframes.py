"""Big keyframes (a 4K snapshot, a 4000x3000 phone photo) train at their size from 8-bit copies, with
evaluations the size of a 640x360 keyframe's, and one note; small ones train as before."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import torch

from livestyle.cli import main
from livestyle.engine.sampler import EVAL_PIXELS, PatchSampler, eval_tiles, unit, valid_centres
from livestyle.engine.train import TrainConfig, Trainer, key_bytes, key_input, make_guides
from livestyle.style import Keyframe, StyleFolder

from .conftest import astronaut, paint


def photo_pair(w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """A real photo at ``w x h`` and a painting of it (painted small, then resized: the filter is slow)."""
    key = astronaut((w, h))
    return key, cv2.resize(paint(astronaut((w // 4, h // 4))), (w, h), interpolation=cv2.INTER_CUBIC)


def big_style(style: Path, w: int, h: int, name: str) -> tuple[Path, np.ndarray, np.ndarray]:
    """A style folder with one ``w x h`` keyframe ``name`` and its painting."""
    (style / "keys").mkdir(parents=True)
    (style / "styled").mkdir()
    key, styled = photo_pair(w, h)
    cv2.imwrite(str(style / "keys" / f"{name}.png"), key)
    cv2.imwrite(str(style / "styled" / f"{name}.png"), styled)
    return style, key, styled


def test_a_phone_photo_keyframe_is_kept_8_bit_and_evaluated_on_tiles(tmp_path, caplog):
    style, key, styled = big_style(tmp_path / "phone", 4000, 3000, "IMG_0042")
    with caplog.at_level(logging.WARNING):
        trainer = Trainer(StyleFolder(style).load(), TrainConfig(iterations=2, guides=("blobs",)))
    s = trainer.sampler
    assert s.inputs[0].dtype == torch.uint8 and tuple(s.inputs[0].shape) == (6, 3000, 4000)
    assert s.targets[0].dtype == torch.uint8 and tuple(s.targets[0].shape) == (3, 3000, 4000)
    assert s.places == [None]  # no list of every place a patch may start (it was 12 M x 2 int64: 192 MB)
    x, m = trainer._eval[0][0], trainer._eval[0][2]
    assert m is None and x.shape[0] * x.shape[2] * x.shape[3] <= EVAL_PIXELS  # tiles, not 12 MP
    notes = [r.getMessage() for r in caplog.records if "IMG_0042 is 4000x3000" in r.getMessage()]
    assert len(notes) == 1 and "trained at that size" in notes[0], [r.getMessage() for r in caplog.records]
    xb, yb = s.sample(8)
    assert xb.dtype == torch.float32 and xb.shape == (8, 6, s.patch, s.patch) and float(xb.min()) >= -1 and float(xb.max()) <= 1
    assert np.isfinite(trainer.step()) and np.isfinite(trainer.evaluate())


def test_patches_from_8_bit_keyframes_equal_those_from_float_ones():
    key, styled = photo_pair(320, 192)
    mask = np.zeros((192, 320), np.uint8)
    mask[30:170, 60:260] = 255
    guides = make_guides(("blobs",))
    u8_in, u8_out = key_bytes(key, mask, guides), torch.from_numpy(styled[:, :, ::-1].copy()).permute(2, 0, 1)
    assert torch.equal(unit(u8_in).unsqueeze(0), key_input(key, mask, guides))
    for masks in ([mask], [None]):
        a = PatchSampler([u8_in], [u8_out], masks, 32, seed=3, guide_dropout=0.25)
        b = PatchSampler([unit(u8_in)], [unit(u8_out)], masks, 32, seed=3, guide_dropout=0.25)
        for _ in range(3):
            (xa, ya), (xb, yb) = a.sample(16), b.sample(16)
            assert torch.equal(xa, xb) and torch.equal(ya, yb)
        assert torch.equal(a.sample_real(8), b.sample_real(8))
    places = PatchSampler([u8_in], [u8_out], [mask], 32).places[0]
    assert places is not None and places.dtype == np.int32
    corners = np.stack(np.divmod(places.astype(np.int64), 320), axis=1)
    assert np.array_equal(corners, valid_centres(mask, (192, 320), 32))


def test_eval_tiles_cover_a_masked_subject_and_a_small_keyframe_whole():
    assert eval_tiles((360, 640), None) == [(0, 0, 360, 640)]
    mask = np.zeros((2160, 3840), np.uint8)
    mask[600:2000, 1500:2300] = 255  # a person in the middle of a 4K frame
    tiles = eval_tiles((2160, 3840), mask)
    assert len(tiles) == 6 and sum(h * w for _, _, h, w in tiles) <= EVAL_PIXELS
    for y, x, h, w in tiles:
        assert mask[y:y + h, x:x + w].mean() > 0.5 * 255  # inside the subject, not the empty room


def test_a_small_keyframe_is_evaluated_whole_as_before(tiny_style):
    keys = StyleFolder(tiny_style).load()
    trainer = Trainer(keys, TrainConfig(iterations=1, guides=()))
    x, y, _ = trainer._eval[0]
    assert x.shape == (1, 3, 64, 96) and torch.equal(x, key_input(keys[0].key, None, []))


def test_train_on_a_4k_snapshot_says_so_in_one_note(tmp_path, capsys):
    style, key, styled = big_style(tmp_path / "uhd", 3840, 2160, "000")
    assert main(["train", str(style), "--iterations", "2"]) == 0
    err = capsys.readouterr().err
    assert err.count("livestyle: note: keyframe 000 is 3840x2160: trained at that size") == 1, err
    assert (style / "model.safetensors").is_file()
    small = Keyframe("k", *photo_pair(1280, 720), None)
    assert Trainer([small], TrainConfig(iterations=1, guides=())).sampler.inputs[0].dtype == torch.uint8
