"""Open a keyframe in the user's painter, detached, so the TUI never waits for it."""

from __future__ import annotations

import os
import platform
import shlex
import subprocess
from pathlib import Path

from livestyle.errors import LivestyleError


def painter_argv(command: str, path: Path, system: str | None = None) -> list[str] | None:
    """The argv that opens ``path``; None means ``os.startfile`` (Windows default).

    ``command`` "" picks the system's opener (``xdg-open`` on Linux, ``open``
    on macOS); "{path}" in it is replaced by the file, else the file is appended.
    """
    system = system or platform.system()
    if not command.strip():
        if system == "Windows":
            return None
        return ["open" if system == "Darwin" else "xdg-open", str(path)]
    try:
        parts = shlex.split(command)
    except ValueError as e:
        raise LivestyleError(f"painter command {command!r} cannot be parsed ({e}); fix 'painter' in settings.toml") from e
    if any("{path}" in p for p in parts):
        return [p.replace("{path}", str(path)) for p in parts]
    return [*parts, str(path)]


def open_in_painter(command: str, path: Path) -> None:
    """Start the painter on ``path`` and return at once; ``LivestyleError`` (one line) when it cannot start."""
    argv = painter_argv(command, path)
    try:
        if argv is None:
            os.startfile(str(path))  # type: ignore[attr-defined]  # Windows only
            return
        subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    except FileNotFoundError as e:
        raise LivestyleError(f"painter {argv[0] if argv else 'startfile'!r} not found; set painter = \"krita\" "
                             "(or gimp, mypaint...) in settings.toml") from e
    except OSError as e:
        raise LivestyleError(f"cannot start the painter on {path} ({e.strerror or e}); "
                             "check 'painter' in settings.toml") from e
