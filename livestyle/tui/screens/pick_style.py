"""Small modals: choose a classical auto-style (a), or type a style folder path (l)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from livestyle.autostyle import STYLES


class AutoStylePicker(ModalScreen[str | None]):
    """Returns one of ``livestyle.autostyle.STYLES`` for keyframe ``name``, or None on escape."""

    BINDINGS = [Binding("escape", "dismiss", "cancel")]

    def __init__(self, name: str) -> None:
        super().__init__()
        self.keyframe = name

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box") as box:
            box.border_title = f"auto-style {self.keyframe}"
            yield OptionList(*[Option(kind, id=kind) for kind in STYLES], id="styles")

    def on_mount(self) -> None:
        options = self.query_one("#styles", OptionList)
        options.highlighted = 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class AskPath(ModalScreen[str | None]):
    """One Input; returns the typed text (stripped), or None on escape or empty input."""

    BINDINGS = [Binding("escape", "dismiss", "cancel")]

    def __init__(self, title: str, value: str = "", placeholder: str = "") -> None:
        super().__init__()
        self.title_text, self.value, self.placeholder = title, value, placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box") as box:
            box.border_title = self.title_text
            yield Input(value=self.value, placeholder=self.placeholder, id="path")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)
