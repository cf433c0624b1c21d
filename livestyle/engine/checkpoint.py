"""Model files: a safetensors state dict plus the config that built it, written atomically.

safetensors holds only tensors and string metadata, so loading a model
shared by someone else can never execute code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from livestyle.engine.model import Generator, GeneratorConfig
from livestyle.errors import ModelError
from livestyle.files.imageio import write_atomic

FORMAT = "livestyle-model/1"


@dataclass
class ModelInfo:
    """What a model file says about itself."""

    preset: str
    config: GeneratorConfig
    guides: list[dict] = field(default_factory=list)  # e.g. [{"name": "blobs", "spacing": 10, ...}]
    denoise: bool = False
    train: dict = field(default_factory=dict)  # iterations, seconds, loss, ...

    def to_metadata(self) -> dict[str, str]:
        return {
            "format": FORMAT,
            "preset": self.preset,
            "config": json.dumps(self.config.to_dict()),
            "guides": json.dumps(self.guides),
            "denoise": json.dumps(self.denoise),
            "train": json.dumps(self.train),
        }

    @classmethod
    def from_metadata(cls, meta: dict[str, str]) -> ModelInfo:
        """``ValueError`` naming the field when one has the wrong shape (a model from another program or
        version): callers then say the file is not a usable model, instead of failing later."""
        config, guides = json.loads(meta["config"]), json.loads(meta.get("guides", "[]"))
        denoise, train = json.loads(meta.get("denoise", "false")), json.loads(meta.get("train", "{}"))
        if not isinstance(config, dict):
            raise ValueError("its config is not a table")
        if not (isinstance(guides, list) and all(isinstance(g, dict) and isinstance(g.get("name"), str)
                                                 for g in guides)):
            raise ValueError("its guides are not a list of named guides")
        if not isinstance(denoise, bool) or not isinstance(train, dict):
            raise ValueError("its denoise or train field has the wrong type")
        return cls(preset=str(meta["preset"]), config=GeneratorConfig.from_dict(config), guides=guides,
                   denoise=denoise, train=train)


def save(path: str | Path, model: Generator, info: ModelInfo) -> None:
    """Write ``model``'s weights and ``info`` to ``path`` atomically."""
    state = {k: v.detach().to("cpu", torch.float32 if v.is_floating_point() else v.dtype).contiguous()
             for k, v in model.state_dict().items()}
    write_atomic(path, st_save(state, metadata=info.to_metadata()))


def load(path: str | Path, expect_preset: str | None = None) -> tuple[Generator, ModelInfo]:
    """Rebuild the generator stored at ``path`` (on CPU, eval mode)."""
    path = Path(path)
    if path.is_dir():
        raise ModelError(f"{path}: a folder, not a model file; move it away, then run `livestyle train {path.parent}`")
    if not path.is_file():
        raise ModelError(f"{path}: no trained model; run `livestyle train {path.parent}` first")
    try:
        raw = path.read_bytes()
        state = st_load(raw)
        n = int.from_bytes(raw[:8], "little")  # safetensors header: u64 length + JSON
        meta = json.loads(raw[8:8 + n]).get("__metadata__", {})
        if meta.get("format") != FORMAT:
            raise ValueError("not a livestyle model")
        info = ModelInfo.from_metadata(meta)
    except (SafetensorError, ValueError, KeyError, json.JSONDecodeError, OSError) as e:
        raise ModelError(f"{path}: corrupt or not a livestyle model ({e}); delete it and retrain") from None
    if expect_preset is not None and info.preset != expect_preset:
        raise ModelError(f"{path}: trained with preset {info.preset!r}, not {expect_preset!r}; "
                         f"use --preset {info.preset} or retrain")
    try:
        model = Generator(info.config)
    except (TypeError, ValueError, RuntimeError) as e:  # a config with values of the wrong type or range
        raise ModelError(f"{path}: its network config cannot be built ({e}); delete it and retrain") from None
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        first = str(e).splitlines()[0]
        raise ModelError(f"{path}: weights do not fit its config ({first}); delete it and retrain") from None
    return model.eval(), info
