"""A small modal that asks for a name (``n``: the new style's folder), with a default and a check."""

from __future__ import annotations

import re

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}")
"""A folder name that is safe everywhere: letters, digits, '_', '.' and '-', not starting with '.' or '-'."""


def name_problem(name: str, taken: set[str] | frozenset[str] = frozenset()) -> str | None:
    """Why ``name`` cannot be used (one line), or None when it can."""
    if not NAME.fullmatch(name):
        return (f"{name!r} is not a usable name: use letters, digits, '_', '.' and '-' (64 at most), "
                "not starting with '.' or '-'")
    if name in taken:
        return f"{name!r} exists already: pick another name, or load it with l"
    return None


class AskName(ModalScreen[str | None]):
    """Returns the typed name, ``default`` for an empty entry, or None on escape. A name that
    ``name_problem`` refuses is said under the input, and the screen stays."""

    BINDINGS = [Binding("escape", "dismiss", "cancel")]

    def __init__(self, title: str, default: str, taken: set[str] | None = None) -> None:
        super().__init__()
        self.title_text, self.default, self.taken = title, default, set(taken or ())

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box") as box:
            box.border_title = self.title_text
            yield Input(placeholder=f"{self.default} (enter keeps it)", id="name")
            yield Label("", id="name-problem")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        name = event.value.strip() or self.default
        problem = name_problem(name, self.taken)
        if problem:
            self.query_one("#name-problem", Label).update(problem)
            return
        self.dismiss(name)
