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
