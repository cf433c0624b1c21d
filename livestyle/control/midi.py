"""MIDI control through mido (backend python-rtmidi): messages from one input port, mapped by a
``control.midimap.Mapping`` onto ``control.commands``.

mido calls ``_on_message`` on the backend's own thread; each message becomes ``apply`` calls, and
a message that cannot be applied is one session event (the show goes on). A watchdog thread
("midi-watch") looks at the port list every second: a device that disappears is one warning
event, and when it comes back it is opened again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from livestyle.control.commands import apply
from livestyle.control.midimap import Mapping, actions_for, load_mapping
from livestyle.errors import LivestyleError

EXTRA = "pip install 'livestyle[midi]'"


def mido_module() -> Any:
    try:
        import mido
    except ImportError:
        raise LivestyleError(f"--midi needs the mido and python-rtmidi packages: {EXTRA}") from None
    return mido


def input_names(silence: bool = True) -> list[str]:
    """The MIDI input ports this machine offers; ``LivestyleError`` (one line) when the backend cannot run.

    ``silence``: keep ALSA's own "cannot open /dev/snd/seq" line off stderr (our message says it); the
    watchdog, which looks every second while a device works, passes False (no chatter then, and
    stderr is not taken away from other threads every second)."""
    import contextlib

    from livestyle.quiet import native_stderr_silenced

    mido = mido_module()
    try:
        with native_stderr_silenced() if silence else contextlib.nullcontext():
            return list(mido.get_input_names())
    except ImportError:
        raise LivestyleError(f"--midi: the MIDI backend python-rtmidi is not installed: {EXTRA}") from None
    except Exception as e:  # rtmidi's SystemError: no ALSA sequencer / CoreMIDI / WinMM here
        raise LivestyleError(f"--midi: the MIDI system cannot be opened ({str(e).splitlines()[0]}); on Linux "
                             "load the ALSA sequencer (sudo modprobe snd-seq) and check the device is plugged in") from None


def pick_port(names: list[str], want: str | None) -> str:
    """The port whose name contains ``want`` (case-insensitive), or the first one; one line when none fits."""
    if not names:
        raise LivestyleError("--midi: no MIDI input port on this machine; plug the controller in (and check "
                             "`livestyle doctor`)")
    if not want:
        return names[0]
    hits = [n for n in names if want.lower() in n.lower()]
    if not hits:
        raise LivestyleError(f"--midi {want}: no such input port; ports here: {', '.join(names)}")
    return hits[0]


class MidiControl:
    """Drives ``session`` from one MIDI input port. ``open_input(name, callback)`` and ``names()`` are
    mido's ``open_input`` and ``get_input_names`` unless given (tests give their own)."""

    def __init__(self, session: Any, mapping: Mapping, port: str, open_input: Callable[..., Any],
                 names: Callable[[], list[str]], poll_s: float = 1.0):
        self.session, self.mapping, self.port_name = session, mapping, port
        self._open_input, self._names, self.poll_s = open_input, names, poll_s
        self._port: Any = None
        self._last_cc: dict[tuple[int, int], int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._watch = threading.Thread(target=self._watch_loop, name="midi-watch", daemon=True)
        self.handled = 0
        self.connected = False

    @classmethod
    def open(cls, session: Any, want: str | None, map_path: str | None) -> MidiControl:
        mapping = load_mapping(map_path)
        mido = mido_module()
        port = pick_port(input_names(), want or mapping.port)
        return cls(session, mapping, port, mido.open_input, lambda: input_names(silence=False))

    def start(self) -> MidiControl:
        self._connect()
        self.session.notify(f"MIDI: listening to {self.port_name} ({len(self.mapping.cc)} controllers, "
                            f"{len(self.mapping.notes)} notes mapped)")
        self._watch.start()
        return self

    def _connect(self) -> None:
        try:
            self._port = self._open_input(self.port_name, callback=self._on_message)
        except Exception as e:  # a port that vanished between listing and opening
            raise LivestyleError(f"--midi: cannot open {self.port_name} ({e}); check the cable and retry") from None
        self.connected = True

    def close(self) -> None:
        self._stop.set()
        if self._watch.is_alive():
            self._watch.join(2 * self.poll_s)
        self._close_port()

    def _close_port(self) -> None:
        port, self._port = self._port, None
        self.connected = False
        if port is not None:
            try:
                port.close()
            except Exception:  # a device already gone may fail to close; nothing left to release
                pass

    # -- messages (mido's thread) --------------------------------------------------------------
    def _on_message(self, msg: Any) -> None:
        with self._lock:
            try:
                calls = actions_for(self.mapping, msg, self.session, self._last_cc)
            except Exception as e:  # a message we cannot read: say so once, go on
                self.session.notify(f"MIDI: cannot read {msg} ({type(e).__name__}: {e})", "warning")
                return
            for name, value in calls:
                try:
                    apply(self.session, name, value)
                    self.handled += 1
                except LivestyleError as e:
                    self.session.notify(f"MIDI {getattr(msg, 'type', '?')}: {e}", "warning")

    # -- the device coming and going ----------------------------------------------------------
    def _watch_loop(self) -> None:
        while not self._stop.wait(self.poll_s):
            try:
                present = self.port_name in self._names()
            except LivestyleError:
                present = False
            if self.connected and not present:
                self._close_port()
                self.session.notify(f"MIDI: {self.port_name} disappeared; plug it back in (livestyle reconnects "
                                    "by itself); the show goes on", "warning")
            elif not self.connected and present:
                try:
                    self._connect()
                    self.session.notify(f"MIDI: {self.port_name} is back")
                except LivestyleError:
                    pass  # try again at the next look
