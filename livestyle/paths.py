"""Where livestyle's shipped files live: the single place that knows the repo layout."""

from __future__ import annotations

from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent / "assets"
"""Folder holding ``demo/`` (test photos) and ``models/`` (segmentation models)."""
