"""User-facing errors: one line that says what is wrong and how to fix it."""

from __future__ import annotations


class LivestyleError(Exception):
    """A mistake the user can fix. The CLI prints ``str(err)`` and exits 2, no traceback."""


class StyleError(LivestyleError):
    """A style folder is missing, incomplete or inconsistent."""


class ImageError(LivestyleError):
    """An image cannot be read or has the wrong size/format."""


class ModelError(LivestyleError):
    """A model file is missing, corrupt, or from a different preset."""


class SourceError(LivestyleError):
    """A capture source cannot be opened or has died."""


class SinkError(LivestyleError):
    """An output (virtual camera, recording, preview) cannot be opened."""


class WriteError(LivestyleError):
    """A file could not be written (disk full, no permission, a folder that is a file...). The
    message names the path and the cause; whatever was at the path before is left as it was."""


def check_range(name: str, value: float | None, lo: float | None = None, hi: float | None = None,
                integer: bool = False) -> None:
    """``LivestyleError`` (one line: the name, the allowed range, the value given) unless ``lo <= value <= hi``
    (a bound of None is open) and, with ``integer``, ``value`` is a whole number; None (not given) passes.
    NaN and infinities fail."""
    if value is None:
        return

    def num(x: float) -> str:
        return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else f"{x:g}"

    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value == value  # NaN != NaN
    ok = ok and value not in (float("inf"), float("-inf")) and (not integer or float(value).is_integer())
    ok = ok and (lo is None or value >= lo) and (hi is None or value <= hi)
    if not ok:
        whole = "a whole number " if integer else ""
        if lo is not None and hi is not None:
            allowed = f"{whole}between {num(lo)} and {num(hi)}"
        elif lo is not None:
            allowed = f"{whole or 'a number '}of at least {num(lo)}"
        elif hi is not None:
            allowed = f"{whole or 'a number '}of at most {num(hi)}"
        else:
            allowed = f"a finite {'whole ' if integer else ''}number"
        shown = f"{value:g}" if isinstance(value, (int, float)) and not isinstance(value, bool) else repr(value)
        raise LivestyleError(f"{name} must be {allowed}, got {shown}")


def check_positive(name: str, value: float | None) -> None:
    """``LivestyleError`` unless ``value`` (seconds, a rate) is a finite number above 0; None (not given) passes."""
    if value is not None and not (isinstance(value, (int, float)) and not isinstance(value, bool)
                                  and 0 < value < float("inf")):
        shown = f"{value:g}" if isinstance(value, (int, float)) and not isinstance(value, bool) else repr(value)
        raise LivestyleError(f"{name} must be a number above 0, got {shown}")


def one_line(text: str) -> str:
    """``text``'s first line that is not blank, stripped (what a message shows of a multi-line exception text)."""
    return next((ln.strip() for ln in str(text).splitlines() if ln.strip()), "")


def undecodable_video(path: object) -> str:
    """The one line for a video file that cannot be decoded: ``render`` and ``live`` say the same."""
    return (f"{path}: cannot decode this video (corrupt, empty or an unsupported codec); convert it to H.264 .mp4 "
            "or extract its frames to a folder of PNGs")
