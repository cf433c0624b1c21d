"""Where livestyle's shipped files live: the single place that knows the repo layout."""

from __future__ import annotations

from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent / "assets"
"""Folder holding ``demo/`` (test photos) and ``models/`` (segmentation models)."""


def config_dir() -> Path:
    """The user's livestyle config folder (settings, calibration); ``$LIVESTYLE_CONFIG_DIR`` wins."""
    import os

    env = os.environ.get("LIVESTYLE_CONFIG_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir("livestyle"))
