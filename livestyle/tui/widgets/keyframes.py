"""The keyframe list: painted, waiting for paint, auto-styled (this session), orphan paintings."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

LABELS = {"painted": ("●", "green", "painted"), "waiting": ("○", "yellow", "waiting for paint"),
          "orphan": ("!", "red", "painting without keyframe")}


def keyframe_label(name: str, status: str, auto: str | None) -> Text:
    mark, colour, text = LABELS.get(status, ("?", "red", status))
    if status == "painted" and auto:
        mark, colour, text = "◆", "cyan", f"auto-styled ({auto})"
    return Text.assemble((f"{mark} ", colour), (f"{name}  ", "bold"), (text, colour),
                         no_wrap=True, overflow="ellipsis")


class KeyframeList(OptionList):
    """One option per keyframe (id = name); the highlighted one is what s/p/a act on."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple = ()

    @property
    def current(self) -> str | None:
        """The highlighted keyframe's name, or None when the list is empty."""
        if self.highlighted is None or self.option_count == 0:
            return None
        return self.get_option_at_index(self.highlighted).id

    def show(self, keyframes: dict[str, str], auto: dict[str, str], select: str | None = None) -> None:
        """Rebuild only when something changed; keep (or move to ``select``) the highlight."""
        shown = (tuple(keyframes.items()), tuple(sorted(auto.items())))
        if shown == self._shown and select is None:
            return
        keep = select or self.current
        self._shown = shown
        self.clear_options()
        names = [n for n in keyframes if keyframes[n] != "orphan"] + [n for n in keyframes if keyframes[n] == "orphan"]
        self.add_options([Option(keyframe_label(n, keyframes[n], auto.get(n)), id=n) for n in names])
        if not names:
            self.add_option(Option(Text("no keyframes yet: press s to snapshot", "dim"), disabled=True))
        else:
            self.highlighted = names.index(keep) if keep in names else len(names) - 1
