"""What each key does. A mixin of ``LivestyleApp``: every action is one short method.

Actions never block the UI: engine calls go through ``self.command`` (a
thread worker); their visible effect appears on the next ``poll()``, which
``command`` triggers as soon as the call returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from livestyle.files.safepaths import make_folder
from livestyle.live.session import LiveConfig
from livestyle.temporal.carry import CARRY
from livestyle.tui.painter import open_in_painter
from livestyle.tui.screens.ask_name import AskName
from livestyle.tui.screens.help import HelpScreen
from livestyle.tui.screens.main import MainScreen
from livestyle.tui.screens.pick_source import SourcePicker
from livestyle.tui.screens.pick_style import AskPath, AutoStylePicker
from livestyle.tui.settings import Settings
from livestyle.tui.widgets.sinks import VCAM_HINT
from livestyle.tui.widgets.thumbs import keyframe_files

TRAINING_STATES = ("starting", "preparing", "training")
HALF_SIZE = 0.5  # the render scale of the f key (the smaller of livestyle calibrate's two)


def _sink_states(st: Any) -> list[tuple[str, str]]:
    return [(str(n), str(s)) for n, s in (getattr(st, "sinks", None) or [])]


class Actions:
    """Key handlers; relies on ``LivestyleApp``'s ``session``, ``command``, ``tell``, ``main`` and friends."""

    session: Any
    settings: Settings
    cfg: LiveConfig
    main: MainScreen
    last_stats: Any
    auto_styled: dict[str, str]
    vcam_why: str
    sub_title: str
    _select: str | None

    if TYPE_CHECKING:  # provided by LivestyleApp / textual.App
        def command(self, label: str, fn: Callable[..., Any], *args: Any,
                    done: Callable[[Any], None] | None = None) -> None: ...
        def tell(self, message: str, severity: str = "information") -> None: ...
        def need_session(self) -> Any: ...
        def save_settings(self, quiet: bool = False) -> None: ...
        def start_session(self, cfg: LiveConfig) -> None: ...
        def _subtitle(self) -> str: ...
        push_screen: Any  # App.push_screen's overloads; a stub here would clash with them

    # -- keyframes -------------------------------------------------------------------
    def current_keyframe(self) -> str | None:
        name = self.main.keyframes.current
        if name is None:
            self.tell("no keyframe yet: press s to snapshot one", "warning")
        return name

    def action_snapshot(self) -> None:
        if (s := self.need_session()) is not None:
            self.command("snapshot", s.snapshot, done=self._select_keyframe)

    def _select_keyframe(self, name: str) -> None:
        self._select = name

    def action_paint(self) -> None:
        if self.need_session() is None or (name := self.current_keyframe()) is None:
            return
        style = self.session.style
        key, painting = keyframe_files(style.path, name)  # a painting saved as .jpg opens too, not the key again
        target = painting if painting.exists() else key or style.keys_dir / f"{name}.png"
        self.command("paint", open_in_painter, self.settings.painter, target,
                     done=lambda _: self.tell(f"opened {target.name}: paint it and save as "
                                              f"{painting}; training starts when it appears"))

    def action_auto_style(self) -> None:
        if self.need_session() is None or (name := self.current_keyframe()) is None:
            return

        def chosen(kind: str | None) -> None:
            if kind and self.session is not None:
                self.command("auto-style", self.session.auto_style, name, kind,
                             done=lambda _: self.auto_styled.__setitem__(name, kind))

        self.push_screen(AutoStylePicker(name), chosen)

    # -- live settings ------------------------------------------------------------------
    def action_train(self) -> None:
        if (s := self.need_session()) is None:
            return
        state = (getattr(self.last_stats, "training", None) or {}).get("state", "idle")
        if state in TRAINING_STATES:
            self.command("pause training", s.pause_training,
                         done=lambda _: self.tell("training paused (t resumes)"))
        else:
            self.command("start training", s.resume_training,
                         done=lambda _: self.tell("training resumed (t pauses)"))

    def action_masked(self) -> None:
        if (s := self.need_session()) is None:
            return
        on = not bool(getattr(self.last_stats, "masked", self.cfg.masked))
        self.command("masked mode", s.set_masked, on,
                     done=lambda _: self.tell(f"masked mode {'on' if on else 'off'}"))

    def action_carry(self) -> None:
        if (s := self.need_session()) is None:
            return
        on = not float(getattr(self.last_stats, "carry", self.cfg.carry) or 0.0)
        said = ("keyframe carry on: the painting itself, moved by optical flow, where the frame shows what a "
                "keyframe showed") if on else "keyframe carry off"
        self.command("keyframe carry", s.set_carry, (self.cfg.carry or CARRY) if on else 0.0,
                     done=lambda _: self.tell(said))

    def action_render_scale(self) -> None:
        """Full size <-> half size (render scale 0.5): the session restarts with the other scale, for this run
        (``livestyle calibrate`` makes a lasting choice, or ``--render-scale``)."""
        if self.need_session() is None:
            return
        if any(n.startswith("record") and st == "on" for n, st in _sink_states(self.last_stats)):
            self.tell("recording: stop it first (c), then f (the session restarts at the other size)", "warning")
            return
        scale = 1.0 if self.cfg.render_scale < 1.0 else HALF_SIZE
        self.start_session(replace(self.running_cfg(), render_scale=scale, render_scale_size=None))
        self.tell("stylizing at full size (f: half size)" if scale == 1.0 else
                  f"stylizing at half size (render scale {scale:g}: faster, softer strokes; f: full size again)")

    def action_background(self) -> None:
        if (s := self.need_session()) is not None:
            self.command("background", s.cycle_background,
                         done=lambda bg: self.tell(f"background: {bg}"))

    def action_mirror(self) -> None:
        on = self.main.preview.toggle_mirror()
        self.tell(f"preview mirror {'on' if on else 'off'} (the camera output is never mirrored)")

    def action_side_by_side(self) -> None:
        on = self.main.preview.toggle_side_by_side()
        self.tell("preview: original | stylized (x: stylized only)" if on else "preview: stylized only")

    # -- outputs ---------------------------------------------------------------------------
    def _outputs_without(self, kind: str) -> str:
        kept = [o for o in self.cfg.outputs.split(",") if o.strip() and not o.strip().startswith(kind)]
        return ",".join(kept) or "null"

    def running_cfg(self) -> LiveConfig:
        """``cfg`` with what was changed while the session ran (masked mode, background, carry, strength): what
        a restarted session (another source, another size) starts from."""
        st, c = self.last_stats, self.cfg
        return replace(c, masked=bool(getattr(st, "masked", c.masked)),
                       background=str(getattr(st, "background", c.background)),
                       carry=float(getattr(st, "carry", c.carry)),
                       strength=float(getattr(st, "strength", c.strength)))

    def _set_outputs(self, outputs: str) -> None:
        self.cfg = replace(self.cfg, outputs=outputs)
        self.settings = replace(self.settings, outputs=outputs)
        self.save_settings(quiet=True)

    def action_vcam(self) -> None:
        if (s := self.need_session()) is None:
            return
        sinks = _sink_states(self.last_stats)
        if any(n.startswith("vcam") and st == "on" for n, st in sinks):
            self.command("virtual camera off", s.remove_sink, "vcam", done=self._vcam_off)
            return

        def turn_on() -> Any:
            s.remove_sink("vcam")  # a failed one stays listed in error state; replace it
            try:
                return s.add_sink("vcam")
            except Exception as e:
                self.vcam_why = str(e).split("; fix:")[0]
                raise

        self.command("virtual camera on", turn_on, done=self._vcam_on)

    def _vcam_on(self, sink: Any) -> None:
        self.vcam_why = ""
        self._set_outputs(",".join(o for o in [*self._outputs_without("vcam").split(","), "vcam"] if o != "null"))
        self.tell(f"virtual camera on: {getattr(sink, 'name', 'vcam')}")

    def _vcam_off(self, _: Any) -> None:
        self.vcam_why = VCAM_HINT
        self._set_outputs(self._outputs_without("vcam"))
        self.tell("virtual camera off")

    def action_record(self) -> None:
        if (s := self.need_session()) is None:
            return
        sinks = _sink_states(self.last_stats)
        recording = [n for n, st in sinks if n.startswith("record") and st == "on"]
        if recording:
            self.command("stop recording", s.remove_sink, "record",
                         done=lambda _: self.tell(f"recording saved: {recording[0].removeprefix('record ')}"))
            return
        folder = self.settings.record_path
        path = folder / f"livestyle-{time.strftime('%Y%m%d-%H%M%S')}.mp4"

        def start() -> Any:
            make_folder(folder)  # one line naming it where it cannot be made (a file there, read-only)
            s.remove_sink("record")  # drop a finished or failed one
            return s.add_sink(f"record:{path}")

        self.command("record", start, done=lambda _: self.tell(f"recording to {path} (c stops)"))

    # -- styles and source ----------------------------------------------------------------
    def style_folders(self) -> list[Path]:
        """The sub-folders of the styles directory, sorted: what keys 1-9 pick."""
        root = self.settings.styles_path
        try:
            return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        except OSError:
            return []

    def switch_style(self, path: Path) -> None:
        if (s := self.need_session()) is None:
            return

        def done(_: Any) -> None:
            self.cfg = replace(self.cfg, style=str(path))
            self.settings = replace(self.settings, style=str(path))
            self.auto_styled.clear()
            self.sub_title = self._subtitle()
            self.save_settings(quiet=True)
            self.tell(f"style: {path}")

        self.command("switch style", s.set_style, path, done=done)

    def action_strength(self, delta: float) -> None:
        """``[`` / ``]``: the stylized frame's share of the output, in steps of 0.1 (control.commands)."""
        if (s := self.need_session()) is None:
            return
        from livestyle.control.commands import apply

        value = round(min(1.0, max(0.0, float(getattr(self.last_stats, "strength", 1.0)) + delta)), 2)
        self.command("strength", apply, s, "strength", value, done=lambda _: self.tell(f"strength {value:.1f}"))

    def action_style(self, number: int) -> None:
        names = list(getattr(self.last_stats, "styles", []) or [])
        if getattr(getattr(self.session, "styles", None), "given", 0) > 1:  # a set from the start: pick in it
            from livestyle.control.commands import apply

            self.command("style", apply, self.session, "style", number,
                         done=lambda _: self.tell(f"style {number}: {names[number - 1]}"))
            return
        folders = self.style_folders()
        if not 1 <= number <= len(folders):
            where = self.settings.styles_path
            self.tell(f"no style {number}: {where} holds {len(folders)} style folder(s); "
                      "press n to create one or l to load a path", "warning")
            return
        self.switch_style(folders[number - 1])

    def action_new_style(self) -> None:
        """Ask for the new style's name (empty: ``style-N``, the first free one) and switch to it."""
        root = self.settings.styles_path
        taken = {p.name for p in self.style_folders()}
        i = 1
        while f"style-{i}" in taken:
            i += 1

        def chosen(name: str | None) -> None:
            if name:
                self.switch_style(root / name)

        self.push_screen(AskName(f"new style in {root}", f"style-{i}", taken), chosen)

    def action_load_style(self) -> None:
        def chosen(text: str | None) -> None:
            if text:
                self.switch_style(Path(text).expanduser())

        start = str(self.settings.styles_path) + "/"
        self.push_screen(AskPath("load a style folder (created if missing)", start, "path/to/style"), chosen)

    def action_pick_source(self) -> None:
        def chosen(spec: str | None) -> None:
            if spec:
                self.start_session(replace(self.running_cfg(), source=spec))

        self.push_screen(SourcePicker(self.cfg.source), chosen)

    def action_help(self) -> None:
        self.push_screen(HelpScreen())
