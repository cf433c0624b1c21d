"""The help screen (?): every key, what it does, and where files go."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# livestyle — the control room

Paint one frame, and a small network learns your painting in seconds;
every live frame is then stylized and sent to the virtual camera.

| key | action |
|-----|--------|
| **s** | snapshot the current frame as a keyframe (`STYLE/keys/NAME.png`) |
| **p** | open the highlighted keyframe in your painter; save as `STYLE/styled/NAME.png` |
| **a** | auto-style the highlighted keyframe (watercolor, oil, pencil, cartoon, ink) |
| **t** | start / pause training |
| **m** | masked mode: stylize only the person |
| **b** | cycle the background (keep, blur, solid, stylized) |
| **k** | keyframe carry on / off: the painting itself, moved by optical flow, where the frame shows what a keyframe showed |
| **r** | mirror the preview (never the camera) |
| **x** | preview original \\| stylized side by side |
| **v** | virtual camera on / off |
| **c** | record start / stop (`livestyle-DATE.mp4`) |
| **1–9** | switch to a style folder of the styles directory |
| **n** / **l** | new style folder / load a style folder by path |
| **o** | pick the source (synthetic, cameras, a video file) |
| **ctrl+p** | command palette: every action by name |
| **q** | quit (closes the camera, outputs and trainer) |

Live numbers: per-stage milliseconds are dn (causal denoise), seg
(person segmentation), gd (blob guide), ky (keyframe carry's flow), net
(the U-Net), kb (keyframe carry's blend), st (output stabiliser), comp
(composite).

The preview and the highlighted keyframe's thumbnails (key and painting)
are real images in terminals with the Kitty graphics protocol or Sixel,
else half-block characters: `--preview auto|kitty|sixel|blocks`. At
start-up the sources panel says whether a virtual camera can open here,
and if not, why and how to install one.

Settings live in `settings.toml` in your config folder (painter command,
styles and recording folders, preview, size and frame rate); the last source, style
and outputs are restored on start.
"""


class HelpScreen(ModalScreen[None]):
    """Key reference; escape, q or ? closes it."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Markdown(HELP)
