"""TUI settings: a frozen dataclass stored as TOML in the user's config folder.

The file is ``platformdirs.user_config_dir("livestyle")/settings.toml``
(``$LIVESTYLE_CONFIG_DIR/settings.toml`` when that variable is set, as tests
do). It holds preferences and the last session (source, style, outputs),
which the TUI restores on start; command-line flags override it. Unknown
keys and wrong types are ``LivestyleError`` with one line naming the key.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import MISSING, asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import platformdirs

from livestyle import paths
from livestyle.errors import LivestyleError
from livestyle.files.imageio import write_atomic

FILE_NAME = "settings.toml"
PREVIEW_MODES = ("auto", "kitty", "sixel", "blocks")
"""``preview`` values: ask the terminal, force an image protocol, or half blocks only."""
ENV_DIR = "LIVESTYLE_CONFIG_DIR"


def _default_styles_dir() -> str:
    return str(Path(platformdirs.user_data_dir("livestyle")) / "styles")


@dataclass(frozen=True)
class Settings:
    """What the TUI starts from. Every field is a TOML key of the same name."""

    source: str = "synthetic"
    """Capture source: synthetic, a camera index, /dev/videoN, name:CAMERA, a video file or image folder."""
    style: str = ""
    """Style folder of the last session ("" = none yet: pass-through until one is chosen)."""
    outputs: str = "null"
    """Comma-separated sinks kept across sessions: vcam[:DEVICE], preview, null (recordings are per take)."""
    masked: bool = False
    """Stylize only the person (mediapipe segmentation)."""
    background: str = "keep"
    """Background in masked mode: keep | blur | solid | stylized."""
    preview: str = "auto"
    """How the TUI draws the preview and keyframe thumbnails: auto (images where the terminal shows them
    via the Kitty graphics protocol or Sixel, else half blocks) | kitty | sixel | blocks."""
    painter: str = ""
    """Command that opens a keyframe for painting; "" = the system's opener (xdg-open / open / startfile).
    "{path}" in the command is replaced by the file; otherwise the file is appended."""
    styles_dir: str = ""
    """Folder whose sub-folders are the styles on keys 1-9 ("" = the user data dir's styles/)."""
    record_dir: str = "."
    """Where recordings (key c) are written, as livestyle-YYYYmmdd-HHMMSS.mp4."""
    width: int = 640
    """Requested capture width in pixels."""
    height: int = 360
    """Requested capture height in pixels."""
    fps: float = 30.0
    """Requested capture and output frame rate."""

    @property
    def styles_path(self) -> Path:
        return Path(self.styles_dir).expanduser() if self.styles_dir else Path(_default_styles_dir())

    @property
    def record_path(self) -> Path:
        """Where recordings go: the ``c`` key's, and the record control's (OSC, MIDI) in the TUI."""
        return Path(self.record_dir).expanduser()


def config_dir() -> Path:
    """The folder that holds ``settings.toml`` (``$LIVESTYLE_CONFIG_DIR`` wins)."""
    return paths.config_dir()


def default_path() -> Path:
    return config_dir() / FILE_NAME


def _check_type(path: Path, key: str, value: object, default: object) -> object:
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value  # type: ignore[arg-type]
    else:
        ok = isinstance(value, str)
    if not ok:
        raise LivestyleError(f"{path}: key {key!r} must be {'an' if type(default) is int else 'a'} {type(default).__name__}, got {value!r}; "
                             "fix or delete that line")
    return value


def load(path: Path | None = None) -> Settings:
    """Read settings from ``path`` (default: ``default_path()``); a missing file gives the defaults."""
    path = path or default_path()
    if not path.exists():
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise LivestyleError(f"{path}: cannot read settings ({e}); fix its permissions or delete it") from e
    except tomllib.TOMLDecodeError as e:
        raise LivestyleError(f"{path}: not valid TOML ({e}); fix it or delete it to start from defaults") from e
    known = {f.name: f for f in fields(Settings)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise LivestyleError(f"{path}: unknown key {key!r}; valid keys: {', '.join(known)}")
        default = known[key].default
        assert default is not MISSING
        values[key] = _check_type(path, key, value, default)
    out = replace(Settings(), **values)
    check(out, f"{path}: key ")
    return out


def check(s: Settings, prefix: str = "settings: key ") -> None:
    """``LivestyleError`` (one line: ``prefix`` + the key, the allowed values, the value) for a value out of range."""
    from livestyle.live.build import check_live_options
    from livestyle.live.composite import BACKGROUNDS

    fix = "; fix or delete that line"
    try:
        check_live_options(width=s.width, height=s.height, fps=s.fps, prefix=prefix)
    except LivestyleError as e:
        raise LivestyleError(f"{e}{fix}") from None
    for key, value, allowed in (("background", s.background, BACKGROUNDS), ("preview", s.preview, PREVIEW_MODES)):
        if value not in allowed:
            raise LivestyleError(f"{prefix}{key} must be one of {', '.join(allowed)}, got {value!r}{fix}")


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    escaped = "".join(c if c.isprintable() and c not in '"\\' else
                      {'"': '\\"', "\\": "\\\\"}.get(c, f"\\u{ord(c):04x}") for c in text)
    return f'"{escaped}"'


def dumps(settings: Settings) -> str:
    """TOML text for ``settings``: one ``key = value`` line per field (stdlib has no TOML writer)."""
    lines = ["# livestyle TUI settings; every key is optional (see livestyle/tui/settings.py)"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in asdict(settings).items()]
    return "\n".join(lines) + "\n"


PATH_KEYS = ("style", "styles_dir", "record_dir")
"""Keys holding a folder: stored absolute, so the file means the same from any working directory."""


def absolute(settings: Settings) -> Settings:
    """``settings`` with relative paths made absolute against the working directory (``~`` expanded):
    the folder keys, and ``source`` when it names an existing file or folder. "" stays "" and the
    default ``record_dir`` "." (record where livestyle runs) stays "."."""
    changes: dict[str, Any] = {}
    for key in PATH_KEYS:
        value = getattr(settings, key)
        if value and value != ".":
            changes[key] = os.path.abspath(os.path.expanduser(value))
    src = settings.source
    if src and not src.isdigit() and ":" not in src and os.path.exists(os.path.expanduser(src)):
        changes["source"] = os.path.abspath(os.path.expanduser(src))
    return replace(settings, **changes)


def valid_or_previous(settings: Settings, previous: Settings) -> Settings:
    """``settings`` where each value that fails ``check`` is replaced by ``previous``'s (what the file held)."""
    try:
        check(settings)
        return settings
    except LivestyleError:
        pass
    out = previous
    for f in fields(Settings):
        trial = replace(out, **{f.name: getattr(settings, f.name)})
        try:
            check(trial)
        except LivestyleError:
            continue
        out = trial
    return out


def save(settings: Settings, path: Path | None = None) -> Path:
    """Write ``settings`` atomically to ``path`` (default: ``default_path()``), creating its folder;
    ``WriteError`` (one line: the path and the cause, the old file kept) when it cannot. Paths are
    written absolute (``absolute``); a value that fails ``check`` is never written: the file keeps the
    value it held (or the default, when it held none or an invalid one)."""
    path = path or default_path()
    try:
        previous = load(path)
    except LivestyleError:  # an unreadable or invalid old file: fall back on the defaults
        previous = Settings()
    write_atomic(path, dumps(absolute(valid_or_previous(settings, previous))).encode("utf-8"))
    return path
