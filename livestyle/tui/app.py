"""The control room: a Textual app that owns one ``LiveSession`` and drives it with keys.

The app creates the session, starts it in a thread worker (opening a camera
and loading a model block), polls ``session.stats()`` a few times a second
with ``set_interval`` (no per-frame messages), and closes it on unmount.
Every command runs in a thread worker; a ``LivestyleError`` from any of them,
and every session event, becomes a notification with its fix, never a
traceback; so does every warning the engine logs (``logs.py``). The keys themselves live in ``actions.py``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import get_current_worker

from livestyle.errors import LivestyleError, one_line
from livestyle.live.session import LiveConfig, LiveSession
from livestyle.tui import settings as settings_mod
from livestyle.tui.actions import Actions
from livestyle.tui.args import add_arguments, apply, control_overrides, settings_path
from livestyle.tui.imaging import resolve_preview
from livestyle.tui.logs import LoggedLine, TuiLogHandler
from livestyle.tui.screens.help import describe
from livestyle.tui.screens.main import MainScreen
from livestyle.tui.settings import Settings
from livestyle.tui.vcam import probe_vcam
from livestyle.tui.widgets.sinks import VCAM_CHECKING, VCAM_HINT

__all__ = ["LivestyleApp", "add_arguments", "config_from_settings", "run"]

SessionFactory = Callable[[LiveConfig], Any]


def start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker while ``sys.stderr`` is still the real one.

    Textual swaps ``sys.stderr`` for an object whose ``fileno()`` is -1; the
    tracker, started lazily by the first spawned process (the live trainer),
    passes that fd on and the spawn fails with "bad value(s) in fds_to_keep".
    Started once here, before the app runs, it is reused by every later spawn.
    """
    from multiprocessing import resource_tracker

    try:
        resource_tracker.ensure_running()
    except (OSError, ValueError) as e:  # no tracker: the trainer's spawn will report its own error
        print(f"livestyle: warning: multiprocessing resource tracker did not start ({e})", file=sys.stderr)


def config_from_settings(s: Settings, **overrides: Any) -> LiveConfig:
    """The ``LiveConfig`` a session starts from; ``overrides`` set other ``LiveConfig`` fields.

    Preset, precision, render scale, output stabiliser, keyframe carry, phases and network schedule are what ``livestyle live``
    uses where it is not told (``live.build.live_defaults``: ``livestyle calibrate``'s saved choice, else
    the built-in defaults, with 4 phases on a GPU).
    """
    from livestyle.live.build import live_defaults

    d = live_defaults(str(overrides.get("device", "auto")))
    tuned: dict[str, Any] = {k: d[k] for k in ("preset", "precision", "render_scale", "steady", "carry", "phases",
                                                   "net_every", "key_flow", "render_scale_size")}
    if "render_scale" in overrides:  # given: used as it is at any size
        tuned["render_scale_size"] = None
    return LiveConfig(style=s.style or None, source=s.source, outputs=s.outputs or "null", width=s.width,
                      height=s.height, fps=s.fps, masked=s.masked, background=s.background,
                      **{**tuned, "record_dir": str(s.record_path), **overrides})


# What the warning of a stylized rate below the camera's (``live.stats.SlowWatch``) says to do in the TUI.
SLOW_FIX_TUI = ("press f to stylize at half size (render scale 0.5: faster, softer strokes), or quit and run "
                "`livestyle calibrate`, which finds the settings that keep up on this machine")

# What the error of a trainer process that died says to do in the TUI.
RESTART_FIX_TUI = "press t (or save a painting again) to restart training"
SOURCE_FIX_TUI = "plug the camera back in or put the file back, or press o for another source"


class LivestyleApp(Actions, App[int]):
    """The TUI. ``cfg``: what the first session starts from; ``settings``: painter, folders, restore.

    ``settings_path`` None: settings are not saved (tests). ``session_factory``
    builds the session (tests inject a fake with frozen numbers); ``poll_hz``
    0 stops the poll timer (snapshot tests call ``poll()`` themselves).
    ``preview``: how the preview and thumbnails are drawn, ``"blocks"``,
    ``"kitty"`` or ``"sixel"`` (``run`` asks the terminal; see ``imaging``).
    """

    CSS_PATH = "livestyle.tcss"
    TITLE = "livestyle"
    BINDINGS = [
        Binding("s", "snapshot", "snap"),
        Binding("p", "paint", "paint"),
        Binding("a", "auto_style", "auto"),
        Binding("t", "train", "train"),
        Binding("m", "masked", "mask"),
        Binding("v", "vcam", "vcam"),
        Binding("c", "record", "rec"),
        Binding("o", "pick_source", "source"),
        Binding("x", "side_by_side", "split", tooltip="preview the camera frame and the stylized one side by side"),
        Binding("question_mark", "help", "help", key_display="?"),
        Binding("f1", "help", "help", show=False),
        Binding("q", "quit", "quit"),
        Binding("b", "background", "background"),
        Binding("k", "carry", "keyframe carry", show=False),
        Binding("f", "render_scale", "half size", show=False,
                tooltip="stylize at half size (render scale 0.5: faster, softer strokes) or back at full size"),
        Binding("r", "mirror", "mirror preview"),
        Binding("n", "new_style", "new style"),
        Binding("l", "load_style", "load style"),
        *[Binding(str(i), f"style({i})", "style 1-9", show=i == 1, key_display="1-9") for i in range(1, 10)],
        Binding("left_square_bracket", "strength(-0.1)", "less style", show=False, key_display="["),
        Binding("right_square_bracket", "strength(0.1)", "more style", show=False, key_display="]"),
    ]

    def __init__(self, cfg: LiveConfig, settings: Settings | None = None, settings_path: Path | None = None,
                 session_factory: SessionFactory = LiveSession, poll_hz: float = 4.0,
                 preview: str = "blocks") -> None:
        super().__init__()
        start_resource_tracker()
        self.cfg = cfg
        self.settings = settings or Settings()
        self.settings_path = settings_path
        self.session_factory = session_factory
        self.poll_hz = poll_hz
        self.session: Any = None
        self.main = MainScreen(preview)
        self.auto_styled: dict[str, str] = {}
        self.vcam_why = ""
        self.last_stats: Any = None
        self._select: str | None = None
        self.history: list[tuple[str, str]] = []
        """Every message shown, oldest first: ``(severity, message)``."""
        self._closing = False
        self._timer: Timer | None = None
        self.settings_error: str | None = None
        """Why the last save of ``settings.toml`` failed (None: it was saved)."""
        self.log_handler: TuiLogHandler | None = None
        """The ``livestyle`` loggers' warnings as notifications, from mount to unmount (``tui.logs``)."""

    # -- lifecycle ----------------------------------------------------------------
    def on_mount(self) -> None:
        self.log_handler = TuiLogHandler(self).install()
        self.push_screen(self.main)
        self.sub_title = self._subtitle()
        if self.poll_hz > 0:
            self._timer = self.set_interval(1.0 / self.poll_hz, self.poll)
        self.start_session(self.cfg)
        if not any(o.strip().startswith("vcam") for o in self.cfg.outputs.split(",")):
            self.vcam_why = VCAM_CHECKING  # the session opens a requested vcam itself and shows its state
            self._probe_vcam(self.cfg.vcam_backend)

    def on_unmount(self) -> None:
        self._closing = True
        if self._timer is not None:
            self._timer.stop()
        session, self.session = self.session, None
        if session is not None:
            if self.last_stats is not None:
                self.settings = replace(self.settings, masked=bool(self.last_stats.masked),
                                        background=str(self.last_stats.background))
            session.close()
        self.save_settings(quiet=True)
        if self.log_handler is not None:
            self.log_handler.remove()

    def on_logged_line(self, line: LoggedLine) -> None:
        """A warning the engine logged (any thread), as a notification (``tui.logs``)."""
        self.tell(line.text, line.severity)

    def start_session(self, cfg: LiveConfig) -> None:
        """Close the running session (if any) and start one for ``cfg`` in a thread worker."""
        self.cfg = cfg
        old, self.session = self.session, None
        self.last_stats = None
        self.tell(f"starting {cfg.source}…")
        self._open_session(cfg, old)

    @work(thread=True, exclusive=True, exit_on_error=False, group="session")
    def _open_session(self, cfg: LiveConfig, old: Any) -> None:
        if old is not None:
            old.close()
        session = None
        try:
            session = self.session_factory(cfg)
            session.slow_fix = SLOW_FIX_TUI
            session.restart_fix = RESTART_FIX_TUI
            session.source_fix = SOURCE_FIX_TUI
            session.start()
        except LivestyleError as e:
            self._from_thread(self.tell, f"cannot start: {e}", "error")
            self._from_thread(self.main.show_failure, str(e))
            if session is not None:
                session.close()
            return
        except Exception as e:  # an engine bug must reach the user as one line, not kill the UI
            self._from_thread(self.tell, f"cannot start ({type(e).__name__}): {e}", "error")
            self._from_thread(self.main.show_failure, f"{type(e).__name__}: {e}")
            if session is not None:
                session.close()
            return
        if get_current_worker().is_cancelled or self._closing or not self._from_thread(self._session_ready, session):
            session.close()

    @work(thread=True, exclusive=True, exit_on_error=False, group="vcam-probe")
    def _probe_vcam(self, backend: str | None) -> None:
        """Can a virtual camera open here? Runs once at start, off the UI thread (a driver may block)."""
        try:
            result = probe_vcam(backend)
        except Exception as e:  # a probe bug must not hide the rest of the UI
            result = (f"check failed: {type(e).__name__}", f"virtual camera check failed ({type(e).__name__}): {e}")
        self._from_thread(self._vcam_probed, result)

    def _vcam_probed(self, result: tuple[str, str] | None) -> None:
        if self.vcam_why != VCAM_CHECKING:
            return  # the user pressed v meanwhile: that answer is newer
        self.vcam_why = VCAM_HINT if result is None else result[0]
        if result is not None:
            self.tell(result[1])
        self.poll()

    def _from_thread(self, fn: Callable[..., Any], *args: Any) -> bool:
        """Run ``fn`` on the UI thread; False when the app is gone (shutting down)."""
        try:
            self.call_from_thread(fn, *args)
        except RuntimeError:
            return False
        return True

    def _session_ready(self, session: Any) -> None:
        if self._closing:
            session.close()
            return
        self.session = session
        self.cfg = getattr(session, "cfg", self.cfg)
        self.settings = replace(self.settings, source=self.cfg.source, style=self.cfg.style or "",
                                outputs=self.cfg.outputs)
        self.sub_title = self._subtitle()
        self.save_settings(quiet=True)
        self.poll()

    def save_settings(self, quiet: bool = False) -> None:
        if self.settings_path is None:
            return
        try:
            settings_mod.save(self.settings, self.settings_path)
        except LivestyleError as e:  # said once while running (quiet saves too), and again at exit by run()
            first, self.settings_error = self.settings_error is None, str(e)
            if (first or not quiet) and not self._closing:
                self.tell(f"settings not saved: {e}", "warning")
        else:
            self.settings_error = None

    def _subtitle(self) -> str:
        style = Path(self.cfg.style).name if self.cfg.style else "no style (press n or l)"
        device = getattr(self.last_stats, "device", "") if self.session is not None else ""
        return " · ".join(x for x in (style, self.cfg.source, device) if x)

    # -- polling --------------------------------------------------------------------
    def poll(self) -> None:
        """Read one stats snapshot and the latest frame; show them and the session's events."""
        session = self.session
        if session is None or self._closing:
            return
        try:
            st = session.stats()
            frame = session.out_slot.peek()
            events = session.drain_events()
        except Exception as e:  # never let a stats bug freeze or kill the UI
            self.tell(f"stats failed ({type(e).__name__}): {e}", "error")
            return
        first = self.last_stats is None
        self.last_stats = st
        if first:
            self.sub_title = self._subtitle()
        for ev in events:
            self.tell(ev.message, ev.severity if ev.severity in ("information", "warning", "error") else "warning")
        self.main.show(st, getattr(frame, "image", None), self.auto_styled, self.vcam_why, self._select,
                       getattr(frame, "original", None), Path(self.cfg.style) if self.cfg.style else None)
        self._select = None

    def tell(self, message: str, severity: str = "information") -> None:
        """A notification (errors stay 10 s) that is also kept in the messages panel; one line."""
        message = one_line(message)
        self.history.append((severity, message))
        self.notify(message, severity=severity, timeout=10 if severity == "error" else 4)  # type: ignore[arg-type]
        self.main.log_message(message, severity)

    # -- commands in threads ---------------------------------------------------------
    def command(self, label: str, fn: Callable[..., Any], *args: Any,
                done: Callable[[Any], None] | None = None) -> None:
        """Run ``fn(*args)`` in a thread worker; errors become notifications, ``done(result)`` runs on the UI."""

        def job() -> None:
            try:
                result = fn(*args)
            except LivestyleError as e:
                self._from_thread(self.tell, str(e), "error")
                return
            except Exception as e:  # an engine bug: one line for the user, the UI goes on
                self._from_thread(self.tell, f"{label} failed ({type(e).__name__}): {e}", "error")
                return
            self._from_thread(self._after, done, result)

        self.run_worker(job, name=label, group="commands", thread=True, exit_on_error=False)

    def _after(self, done: Callable[[Any], None] | None, result: Any) -> None:
        if done is not None:
            done(result)
        self.poll()

    def need_session(self) -> Any:
        """The running session, or None after telling the user why there is none."""
        if self.session is None:
            self.tell("no live session yet: wait for it to start, or pick a source with o", "warning")
        return self.session

    # -- command palette ----------------------------------------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        seen: set[str] = set()
        for b in self.BINDINGS:  # every key's action, once (the help screen lists the same, screens.help)
            if isinstance(b, Binding) and b.action != "quit" and b.action not in seen:
                seen.add(b.action)
                one = b.action.startswith("style(")  # 1-9: one command per number
                name, key = (f"style {b.key}", b.key) if one else (b.description, b.key_display or b.key)
                yield SystemCommand(f"{name} ({key})", f"livestyle: {describe(b)}", self._palette(b.action))

    def _palette(self, action: str) -> Callable[[], Any]:
        return lambda: self.run_action(action)


def run(args: argparse.Namespace | None = None) -> int:
    """Open the TUI: settings file (``--config`` or the default) overridden by ``args``; 0 on a clean quit."""
    path = settings_path(args)
    s = apply(settings_mod.load(path), args)
    control = control_overrides(args)  # style set, strength, --osc, --midi: checked before the terminal is taken
    protocol = resolve_preview(s.preview)  # asks the terminal: must run before Textual takes it over
    app = LivestyleApp(config_from_settings(s, **control), s, path, preview=protocol)
    app.run()
    for line in app.log_handler.unshown if app.log_handler is not None else []:  # logged while it closed
        print(line, file=sys.stderr)
    if app.settings_error:  # a quit cannot show a notification any more: say it on the terminal
        print(f"livestyle: warning: settings not saved: {app.settings_error}", file=sys.stderr)
    return app.return_code or 0


def main(argv: list[str] | None = None) -> int:
    """``python -m livestyle.tui.app [flags]``: the TUI alone (the CLI's ``livestyle`` does the same)."""
    p = argparse.ArgumentParser(prog="livestyle", description="the livestyle control room")
    add_arguments(p)
    try:
        return run(p.parse_args(argv))
    except LivestyleError as e:
        print(f"livestyle: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())

