"""Shipped starting weights ("priors") for presets, made by ``calibration/pretrain.py``.

Training from random weights spends its first few hundred steps learning what
every style shares (keep the layout, follow the edges, map colours through a
smooth curve). A prior, meta-learned with Reptile across many small style
tasks that ``calibration/quality.py`` never uses, starts there instead: the
same style is learned in fewer steps (docs/how-it-works.md, "Starting weights"). A prior is a normal
livestyle model file, ``livestyle/assets/priors/<preset>.safetensors``; a preset without
one (``paper``, as the reference) starts from random weights.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch

from livestyle.engine.model import GeneratorConfig
from livestyle.errors import ModelError
from livestyle.paths import ASSETS, MissingAssetError

PRIORS = ASSETS / "priors"
SHIPPED = ("fast",)
"""Presets whose prior ships with livestyle: its absence is a broken install, not a choice."""


def prior_path(preset: str) -> Path:
    return PRIORS / f"{preset}.safetensors"


def prior_state(preset: str, cfg: GeneratorConfig) -> dict[str, torch.Tensor] | None:
    """The prior's weights for a generator built from ``cfg`` (``preset``'s config with any number of
    input channels), or None when ``preset`` has no prior or the prior was made for another design of it.

    Input channels the prior lacks (more guides than it saw) start at zero weight; channels it has
    and ``cfg`` lacks (training without the guide) are dropped.
    """
    from livestyle.engine import checkpoint

    path = prior_path(preset)
    if not path.is_file():
        if preset in SHIPPED:  # never train from random weights without a word
            raise MissingAssetError(f"{path}: the {preset!r} preset's starting weights are missing from this "
                                    "livestyle install; reinstall it (pip install --force-reinstall livestyle), or "
                                    "train with --init scratch")
        return None
    try:
        model, info = checkpoint.load(path, expect_preset=preset)
    except ModelError:
        raise ModelError(f"{path}: the shipped starting weights are damaged; reinstall livestyle, or "
                         "train with --init scratch") from None
    if replace(info.config, in_channels=cfg.in_channels) != cfg:
        return None  # made for an older version of the preset
    state = model.state_dict()
    return {k: _fit_inputs(v, cfg.in_channels) if k == "stem.0.weight" else v for k, v in state.items()}


def _fit_inputs(w: torch.Tensor, channels: int) -> torch.Tensor:
    """A conv weight ``(out, in, kh, kw)`` cut or zero-padded to ``channels`` inputs."""
    have = w.shape[1]
    if have >= channels:
        return w[:, :channels].contiguous()
    pad = torch.zeros(w.shape[0], channels - have, *w.shape[2:], dtype=w.dtype)
    return torch.cat((w, pad), dim=1)
