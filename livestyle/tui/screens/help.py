"""The help screen (? or F1): every key, generated from the app's bindings, and where files go."""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

ACTION_HELP = {
    "snapshot": "snapshot the current frame as a keyframe (`STYLE/keys/NAME.png`, named by time so they sort)",
    "paint": "open the highlighted keyframe in your painter; save as `STYLE/styled/NAME.png`",
    "auto_style": "auto-style the highlighted keyframe (watercolor, oil, pencil, cartoon, ink)",
    "train": "start / pause training",
    "masked": "masked mode: stylize only the person",
    "background": "cycle the background (keep, blur, solid, stylized)",
    "carry": "keyframe carry on / off: the painting itself, moved by optical flow, where the frame shows "
             "what a keyframe showed",
    "render_scale": "stylize at half size (render scale 0.5: faster, softer strokes) / at full size again; the "
                    "session restarts with it, for this run (`livestyle calibrate` makes a lasting choice)",
    "mirror": "mirror the preview (never the camera)",
    "side_by_side": "preview original \\| stylized side by side",
    "vcam": "virtual camera on / off",
    "record": "record start / stop (`livestyle-DATE.mp4` in the recordings folder)",
    "style": "switch style: in a style set, crossfade to its style 1-9; else the styles directory's folder 1-9",
    "strength": "less / more style: the stylized frame's share of the output, in steps of 0.1",
    "new_style": "new style folder in the styles directory (asks for its name; empty keeps the suggested one)",
    "load_style": "load a style folder by path (created if missing)",
    "pick_source": "pick the source (synthetic, cameras, NDI sources, a video file, or a typed path)",
    "help": "this help (escape, q or ? closes it)",
    "quit": "quit (closes the camera, outputs and trainer)",
}
"""What each action does, by action name (its arguments dropped: ``style(3)`` is ``style``)."""

INTRO = """\
# livestyle — the control room

Paint one frame, and a small network learns your painting in seconds;
every live frame is then stylized and sent to the virtual camera.
The footer shows the keys that fit the terminal's width; all of them are
here and in the command palette (**ctrl+p**).

"""

MORE = """
Live numbers: per-stage milliseconds are dn (causal denoise), fl (the
frame-to-frame optical flow, when the denoiser is off), seg (person
segmentation), gd (blob guide), prep (the network's input made
ready), kf (keyframe carry's flow to the key), ky (its checks), net
(the U-Net), mv (its last output moved, with --net-every), kb
(keyframe carry's blend), st (output stabiliser), up (back to full
size, with --render-scale), comp (composite).

The preview and the highlighted keyframe's thumbnails (key and painting)
are real images in terminals with the Kitty graphics protocol or Sixel,
else half-block characters: `--preview auto|kitty|sixel|blocks`. At
start-up the sources panel says whether a virtual camera can open here,
and if not, why and how to install one.

Settings live in `settings.toml` in your config folder (painter command,
styles and recording folders, preview, size and frame rate); the last source, style
and outputs are restored on start.
"""


def action_name(action: str) -> str:
    return action.split("(", 1)[0]


def describe(binding: Binding) -> str:
    """What a binding does, for the help screen and the command palette."""
    return ACTION_HELP.get(action_name(binding.action), binding.description)


def key_rows(bindings: Iterable[Binding | tuple]) -> list[tuple[str, str]]:
    """``(keys, what they do)`` per action of ``bindings``, in their order; keys of one action (``style``'s
    1-9, ``strength``'s [ and ]) share a row."""
    rows: dict[str, tuple[list[str], str]] = {}
    for b in bindings:
        if not isinstance(b, Binding):
            continue
        keys, _ = rows.setdefault(action_name(b.action), ([], describe(b)))
        shown = b.key_display or ("?" if b.key == "question_mark" else b.key)
        for k in shown.split(","):
            if k not in keys:
                keys.append(k)
    return [(" ".join(keys), text) for keys, text in rows.values()]


def help_markdown(bindings: Iterable[Binding | tuple]) -> str:
    """The help screen's text: the key table generated from ``bindings``, then the notes."""
    table = ["| key | action |", "|-----|--------|"]
    bar = "\\|"  # a literal | inside a Markdown table cell
    table += [f"| **{k.replace('|', bar)}** | {text} |" for k, text in key_rows(bindings)]
    table.append("| **ctrl+p** | command palette: every action by name |")
    return INTRO + "\n".join(table) + "\n" + MORE


class HelpScreen(ModalScreen[None]):
    """Key reference generated from the app's bindings; escape, q, ? or F1 closes it."""

    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Markdown(help_markdown(self.app.BINDINGS))
