"""The source picker (o): synthetic, the cameras Linux reports, NDI sources on the network (found in the
background when ndi-python is installed), video files here, or a typed path / ndi:NAME / ndi:HOST:PORT."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from livestyle.capture import list_linux_cameras
from livestyle.capture.files import VIDEO_EXTS
from livestyle.capture.ndi import find_ndi_sources

NDI_FIND_SECONDS = 1.5


def source_choices(folder: Path | None = None, max_files: int = 12) -> list[tuple[str, str]]:
    """``[(spec, label), ...]``: synthetic, detected cameras, then video files in ``folder`` (default: cwd)."""
    out = [("synthetic", "synthetic (moving test scene, no camera needed)")]
    try:
        cams = list_linux_cameras()
    except OSError:
        cams = []
    out += [(dev, f"{dev}  {name}") for dev, name in cams]
    folder = folder or Path.cwd()
    try:
        videos = sorted(p for p in folder.iterdir() if p.suffix.lower() in VIDEO_EXTS and p.is_file())
    except OSError:
        videos = []
    out += [(str(p), f"{p.name}  (video file)") for p in videos[:max_files]]
    return out


class SourcePicker(ModalScreen[str | None]):
    """Returns the chosen source spec, or None on escape."""

    BINDINGS = [Binding("escape", "dismiss", "cancel")]

    def __init__(self, current: str = "") -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        choices = source_choices()
        with Vertical(id="picker", classes="modal-box") as box:
            box.border_title = "pick the source"
            yield OptionList(*[Option(label, id=spec) for spec, label in choices], id="sources")
            yield Label("or type a camera index, /dev/videoN, ndi:NAME, ndi:HOST:PORT, video file or image folder:")
            yield Input(value=self.current, placeholder="path or device", id="source-path")

    def on_mount(self) -> None:
        options = self.query_one("#sources", OptionList)
        options.highlighted = 0
        options.focus()
        if find_spec("NDIlib") is not None:  # discovery takes a second or two: never in the way of the list
            self.run_worker(self._find_ndi, thread=True, exclusive=True)

    def _find_ndi(self) -> None:
        names = find_ndi_sources(NDI_FIND_SECONDS)
        if names:
            self.app.call_from_thread(self.add_ndi_sources, names)

    def add_ndi_sources(self, names: list[str]) -> None:
        """List the NDI sources ``names`` found on the network (as ``ndi:NAME``)."""
        try:
            options = self.query_one("#sources", OptionList)
        except NoMatches:  # the picker was closed meanwhile
            return
        options.add_options([Option(f"{name}  (NDI)", id=f"ndi:{name}") for name in names])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        if value:
            self.dismiss(value)
