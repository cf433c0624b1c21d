"""Where livestyle's shipped files live: the single place that knows the package layout.

The shipped files (segmentation models, the ``fast`` prior, the demo style and
photo) are package data in ``livestyle/assets/``, found through
``importlib.resources`` so that an editable install, a wheel, ``pipx`` and a
plain source checkout all see the same files.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from livestyle.errors import LivestyleError

ASSETS = Path(str(files("livestyle") / "assets"))
"""Folder holding ``demo/`` (the demo photo), ``models/`` (segmentation models), ``priors/``
(starting weights) and ``styles/demo/`` (the demo style). A real folder: livestyle is never
imported from a zip (mediapipe and OpenCV need file paths)."""


class MissingAssetError(LivestyleError):
    """A file that ships with livestyle is not where the package keeps it: a broken install."""


def asset(relative: str) -> Path:
    """The shipped file or folder ``relative`` (e.g. ``"models/selfie_segmentation.tflite"``);
    ``MissingAssetError`` naming the path when this install lacks it."""
    path = ASSETS / relative
    if not path.exists():
        raise MissingAssetError(f"{path}: missing from this livestyle install (its shipped files are "
                                "package data); reinstall it: pip install --force-reinstall livestyle, or "
                                "pip install . from the repository")
    return path


def config_dir() -> Path:
    """The user's livestyle config folder (settings, calibration); ``$LIVESTYLE_CONFIG_DIR`` wins."""
    import os

    env = os.environ.get("LIVESTYLE_CONFIG_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir("livestyle"))
