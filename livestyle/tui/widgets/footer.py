"""A footer that shows the keys that fit, most useful first, and never cuts one off.

Textual's ``Footer`` lays every shown binding out in one row and lets the ones past the edge fall
off (at 120 columns that dropped n, l and 1-9). ``FitFooter`` picks, in the order of ``PRIORITY``,
the bindings whose short label fits the width (recomputed on resize), so ``? help`` and the keys of
the snapshot-paint-train loop are always there; every other key is in the help screen (``?``) and the
command palette (ctrl+p), which list them all.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import Resize
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

PRIORITY: list[tuple[str, str]] = [
    ("help", "help"), ("snapshot", "snap"), ("paint", "paint"), ("auto_style", "auto"), ("train", "train"),
    ("pick_source", "source"), ("vcam", "vcam"), ("record", "rec"), ("new_style", "new"),
    ("load_style", "load"), ("style(1)", "style"), ("masked", "mask"), ("background", "bg"), ("quit", "quit"),
    ("side_by_side", "split"), ("mirror", "mirror"), ("carry", "carry"),
]
"""(action, footer label): what the footer shows first. Other shown bindings follow, by their description."""

PALETTE_WIDTH = 12  # "▏^p palette" at the right end, and a column before it


def item_width(binding: Binding, label: str, key_display: str) -> int:
    """Columns one compact footer key takes: the key, a space, the label, a space."""
    return len(key_display) + 1 + len(label) + 1


class FitFooter(Footer):
    """``Footer(compact=True)`` showing only what fits its width (see the module doc)."""

    def __init__(self) -> None:
        super().__init__(compact=True)
        self._fitted: tuple[str, ...] = ()

    def fitted(self, width: int) -> list[tuple[Binding, bool, str, str]]:
        """``(binding, enabled, tooltip, label)`` of the bindings shown at ``width`` columns, in order."""
        first: dict[str, tuple[Binding, bool, str]] = {}
        for _node, binding, enabled, tooltip in self.screen.active_bindings.values():
            if binding.action not in first or (binding.show and not first[binding.action][0].show):
                first[binding.action] = (binding, enabled, tooltip)  # q before the app's hidden ctrl+q
        labels = dict(PRIORITY)
        order = [a for a, _ in PRIORITY if a in first]
        order += [a for a, (b, _, _) in first.items() if a not in labels and b.show]
        room = width - (PALETTE_WIDTH if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE else 0)
        out = []
        for action in order:
            binding, enabled, tooltip = first[action]
            label = labels.get(action, binding.description)
            need = item_width(binding, label, self.app.get_key_display(binding))
            if need <= room:
                room -= need
                out.append((binding, enabled, tooltip, label))
        return out

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        shown = self.fitted(self.size.width or self.app.size.width)
        self._fitted = tuple(b.action for b, *_ in shown)
        self.styles.grid_size_columns = len(shown)
        for binding, enabled, tooltip, label in shown:
            yield FooterKey(binding.key, self.app.get_key_display(binding), label, binding.action,
                            disabled=not enabled, tooltip=tooltip or binding.description,
                            ).data_bind(compact=Footer.compact)
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
            active = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
            if active is not None:
                _node, binding, enabled, tooltip = active
                yield FooterKey(binding.key, self.app.get_key_display(binding), binding.description,
                                binding.action, classes="-command-palette", disabled=not enabled,
                                tooltip=binding.tooltip or binding.description)

    def on_resize(self, event: Resize) -> None:
        if self._bindings_ready and tuple(b.action for b, *_ in self.fitted(event.size.width)) != self._fitted:
            self.call_after_refresh(self.recompose)
