"""The TUI's command-line flags and how they override the settings file (no Textual import here)."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any

from livestyle.errors import LivestyleError
from livestyle.tui import settings as settings_mod
from livestyle.tui.settings import PREVIEW_MODES, Settings


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Add ``--style``, ``--source``, ``--output``, ``--masked/--no-masked``, ``--preview`` and ``--config FILE``.

    Every default is ``None`` so that an absent flag keeps the settings file's
    (or last session's) value.
    """
    p.add_argument("--style", default=None, action="append", metavar="FOLDER",
                   help="style folder (created if missing); default: the last one. Repeat it (or give a folder of "
                        "style folders) for a style set kept warm: keys 1-9 switch with a crossfade")
    p.add_argument("--source", default=None,
                   help="synthetic | camera index | /dev/videoN | name:CAMERA | video file | image folder")
    p.add_argument("--output", default=None,
                   help="comma-separated: vcam[:DEVICE], preview, record:FILE, window[:DISPLAY], ndi[:NAME], "
                        "spout[:NAME], syphon[:NAME], null (docs/outputs.md)")
    p.add_argument("--masked", action=argparse.BooleanOptionalAction, default=None,
                   help="stylize only the person (mediapipe segmentation)")
    p.add_argument("--preview", default=None, choices=PREVIEW_MODES,
                   help="TUI preview and keyframe thumbnails: auto = real images where the terminal supports "
                        "the Kitty graphics protocol or Sixel, else half blocks; kitty | sixel force one; "
                        "blocks = half blocks only (default: the settings file's, else auto)")
    from livestyle.control.flags import add_control_arguments

    add_control_arguments(p)  # --strength, --transition, --osc, --midi, --midi-map, --record-dir
    p.add_argument("--config", default=None, metavar="FILE",
                   help=f"settings file (default: {settings_mod.default_path()})")


def settings_path(args: argparse.Namespace | None) -> Path:
    """The settings file ``args`` asks for; ``--config`` must name an existing file."""
    config = getattr(args, "config", None) if args is not None else None
    if config is None:
        return settings_mod.default_path()
    path = Path(config).expanduser()
    if not path.is_file():
        raise LivestyleError(f"--config {config}: no such settings file; create it or drop the flag")
    return path


def apply(s: Settings, args: argparse.Namespace | None) -> Settings:
    """``s`` with every flag given in ``args`` applied (flags win over the file)."""
    if args is None:
        return s
    changes: dict[str, Any] = {}
    for flag, key in (("style", "style"), ("source", "source"), ("output", "outputs"), ("masked", "masked"),
                      ("preview", "preview"), ("record_dir", "record_dir")):
        value = getattr(args, flag, None)
        if flag == "style" and isinstance(value, list):
            value = value[0] if value else None  # the first of a style set; the rest: control_overrides
        if value is not None:
            changes[key] = value
    if getattr(args, "style", None):
        from livestyle.style import StyleFolder

        for style in args.style if isinstance(args.style, list) else [args.style]:
            StyleFolder(style).check_usable()  # a --style under a regular file: one line before the TUI opens
    return replace(s, **changes)


def control_overrides(args: argparse.Namespace | None) -> dict[str, Any]:
    """The ``LiveConfig`` fields of the style-set and control flags (checked: one line each when bad)."""
    if args is None:
        return {}
    from livestyle.control.flags import check_control_options, control_config

    check_control_options(args)
    out = control_config(args)
    styles = getattr(args, "style", None)
    if isinstance(styles, list) and len(styles) > 1:
        out["styles"] = tuple(styles[1:])
    return out
