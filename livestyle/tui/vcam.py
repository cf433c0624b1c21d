"""The start-up check of the virtual camera, for the sources panel (no Textual import here)."""

from __future__ import annotations

from livestyle.outputs import driver_fix
from livestyle.outputs.vcam import vcam_available


def short_reason(why: str) -> str:
    """pyvirtualcam's first sentence without its ``'NAME' backend:`` prefix."""
    return why.split("backend: ", 1)[-1].split(". ", 1)[0].rstrip(".")


def probe_vcam(backend: str | None = None) -> tuple[str, str] | None:
    """Open and close a 64x64 virtual camera; None when it works.

    Else ``(panel, message)``: ``"REASON; fix: COMMAND"`` for the sources
    panel, and one line with pyvirtualcam's whole reason and the fix for the
    messages panel. Blocks up to a second with some drivers: call it from a
    thread. ``backend``: a pyvirtualcam backend name, None = try all.
    """
    why = vcam_available(backend)
    if why is None:
        return None
    fix = driver_fix()
    return f"{short_reason(why)}; fix: {fix}", f"virtual camera unavailable ({why}); fix: {fix}"
