"""OSC control: every entry of ``control.commands`` is an address under ``/livestyle/``.

``/livestyle/strength 0.5``, ``/livestyle/style 2`` (or a name), ``/livestyle/next_style``,
``/livestyle/snapshot``... After each message the new value goes back to the sender
(``/livestyle/<name> value``, from the port the server listens on, so that a control surface
shows the state); a message that cannot be applied gets ``/livestyle/error "<text>"`` and becomes
one session event. ``/livestyle/state`` replies with every parameter (one message each) and
``/livestyle/styles`` with the style set's names. Every sender of the last 10 minutes also gets each
change made elsewhere (a TUI key, a MIDI fader, another surface) within 0.2 s. Nothing else is reachable: the address is
looked up in the table, values are checked against it, nothing is evaluated.

The server is a plain UDP socket on its own thread ("osc"); python-osc parses the packets and
builds the replies. Bundles are handled message by message, at once (a time tag is not waited for:
a sender must not be able to park the control thread).
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from collections import deque
from typing import Any

from livestyle.control.commands import BY_NAME, ControlError, apply, state
from livestyle.errors import LivestyleError, one_line

PREFIX = "/livestyle/"
EXTRA = "pip install 'livestyle[osc]'"
QUIET_S = 2.0  # the same error from OSC is one event per this many seconds
MAX_EVENTS = 3  # different OSC errors that become events within QUIET_S; the others are counted in the next one
CLIENT_S = 600.0  # a sender silent this long gets no more pushed changes
MAX_CLIENTS = 16  # senders that get pushed changes; a new one beyond this replaces the longest silent


def parse_osc(spec: str) -> tuple[str, int]:
    """``"PORT"`` -> ``("127.0.0.1", PORT)``; ``"HOST:PORT"`` (``0.0.0.0:9000`` listens on the network).
    Port 0 takes a free port (the session says which). ``LivestyleError`` (one line) for anything else."""
    host, _, port = str(spec).rpartition(":")
    host = host or "127.0.0.1"
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise LivestyleError(f"--osc {spec}: give a UDP port 0..65535 (e.g. --osc 9000) or HOST:PORT "
                             "(e.g. --osc 0.0.0.0:9000 to listen on the network)")
    return host, int(port)


def _reply(address: str, *values: Any) -> bytes:
    from pythonosc.osc_message_builder import OscMessageBuilder

    b = OscMessageBuilder(address)
    for v in values:
        b.add_arg(v)
    return b.build().dgram


class OscServer:
    """Listens on ``host:port`` (UDP) and drives ``session`` (a ``LiveSession``) through ``control.commands``."""

    def __init__(self, session: Any, host: str = "127.0.0.1", port: int = 9000):
        try:
            import pythonosc  # noqa: F401  (the extra's presence; its parts are imported where used)
        except ImportError:
            raise LivestyleError(f"--osc needs the python-osc package: {EXTRA}") from None
        self.session = session
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.sock.bind((host, port))
        except OSError as e:
            self.sock.close()
            if e.errno == errno.EADDRINUSE:
                raise LivestyleError(f"--osc: UDP port {port} on {host} is in use by another program; pick another "
                                     "port (e.g. --osc 9001) or stop that program") from None
            raise LivestyleError(f"--osc: cannot listen on {host}:{port} ({e.strerror or e}); use a local address "
                                 "such as 127.0.0.1 or 0.0.0.0") from None
        self.sock.settimeout(0.2)  # the loop checks its stop flag this often
        self.host, self.port = host, self.sock.getsockname()[1]
        self.received = 0
        self.errors = 0
        self._last_event, self._last_event_t = "", 0.0
        self._recent: deque[float] = deque(maxlen=MAX_EVENTS)  # when the last error events were made
        self._held = 0  # errors answered but not made events since the last event (a flood)
        self._clients: dict[tuple, float] = {}  # who sent something lately: they get every change pushed
        self._shown: dict[str, Any] = {}  # the state last pushed
        self._shown_once = False
        self._answered: set[str] = set()  # what the packet being handled answered its sender (``_push_changes``)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="osc", daemon=True)

    def start(self) -> OscServer:
        self._thread.start()
        where = "on the network" if self.host in ("0.0.0.0", "::") else "on this machine only"
        self.session.notify(f"OSC: listening on {self.host}:{self.port} ({where}); addresses /livestyle/...")
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(1.0)
        self.sock.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                data, sender = self.sock.recvfrom(65536)
            except TimeoutError:
                sender = None
            except OSError:  # socket closed under us
                return
            try:
                self._push_changes(None)  # what changed elsewhere since the last look: to every recent sender
                if sender is not None:
                    self.handle(data, sender)
                    self._push_changes(sender)  # what this message changed: to the others (it had its answer)
            except Exception as e:  # a bug here must not end OSC control: one event, go on
                self.session.notify(f"OSC: {type(e).__name__}: {one_line(str(e))}", "error")

    def _push_changes(self, cause: tuple | None) -> None:
        """Send every parameter that changed since the last look to every recent sender (a key in the TUI,
        a MIDI fader or another surface moved it), except to ``cause``, which had its direct answer."""
        now = time.monotonic()
        values = state(self.session)
        changed = {k: v for k, v in values.items() if self._shown.get(k) != v}
        self._shown = values
        if cause is not None:
            if cause not in self._clients and len(self._clients) >= MAX_CLIENTS:
                del self._clients[min(self._clients, key=self._clients.__getitem__)]
            self._clients[cause] = now
        for client, seen in list(self._clients.items()):
            if now - seen > CLIENT_S:
                del self._clients[client]
            elif self._shown_once:
                for k, v in changed.items():  # the cause has its answers; a change made elsewhere meanwhile it has not
                    if client != cause or k not in self._answered:
                        self._send(client, _reply(PREFIX + k, v))
        self._shown_once = True

    # -- one packet ----------------------------------------------------------------------
    def handle(self, data: bytes, sender: tuple) -> None:
        """Apply every message of one packet and answer ``sender``."""
        from pythonosc.osc_packet import OscPacket, ParseError

        self.received += 1
        self._answered = set()
        try:
            messages = [m.message for m in OscPacket(data).messages]
        except ParseError as e:
            self._error(sender, f"not an OSC packet ({e})")
            return
        for msg in messages:
            self._message(msg.address, list(msg.params), sender)

    def _message(self, address: str, args: list, sender: tuple) -> None:
        if not address.startswith(PREFIX):
            self._error(sender, f"unknown address {address}; addresses start with {PREFIX} (see docs/control.md)")
            return
        name = address[len(PREFIX):]
        if name in ("state", "styles"):
            if args:
                self._error(sender, f"{address} takes no value")
            elif name == "state":
                self._send_state(sender)
            else:
                self._send(sender, _reply(address, *(self.session.styles.names() or [""])))
            return
        if name not in BY_NAME:
            self._error(sender, f"unknown address {address}; known: {', '.join(PREFIX + n for n in BY_NAME)}")
            return
        if len(args) > 1:
            self._error(sender, f"{address} takes one value, got {len(args)}")
            return
        value = args[0] if args else None
        if BY_NAME[name].kind == "action" and value in (0, 0.0, False):
            return  # a button's release (TouchOSC sends 1 on press, 0 on release)
        try:
            apply(self.session, name, True if BY_NAME[name].kind == "action" and value is not None and value in (1, True)
                  else value)
        except ControlError as e:
            self._error(sender, str(e))
            return
        except LivestyleError as e:  # the session's own refusal (no keyframe yet, no such style...)
            self._error(sender, str(e))
            return
        self._feedback(name, sender)

    def _feedback(self, name: str, sender: tuple) -> None:
        values = state(self.session)
        if name in ("next_style", "prev_style", "style"):
            self._answered.add("style")
            self._send(sender, _reply(PREFIX + "style", values["style"]))
        elif name in values:
            self._answered.add(name)
            self._send(sender, _reply(PREFIX + name, values[name]))
        else:  # an action without a value of its own (snapshot): say it was done
            self._send(sender, _reply(PREFIX + name, 1))

    def _send_state(self, sender: tuple) -> None:
        for k, v in state(self.session).items():
            self._answered.add(k)
            self._send(sender, _reply(PREFIX + k, v))

    def _error(self, sender: tuple, text: str) -> None:
        """Answer ``/livestyle/error``; the same line again within ``QUIET_S``, or any past ``MAX_EVENTS`` lines
        in that time, is not another event but counted in the next one (a surface that repeats a bad message 30
        times a second, or floods many, must not flood the TUI or the terminal)."""
        self.errors += 1
        line = text.splitlines()[0] if text else "bad message"
        event = f"OSC from {sender[0]}: {line}"
        now = time.monotonic()
        repeat = event == self._last_event and now - self._last_event_t <= QUIET_S
        flood = len(self._recent) == MAX_EVENTS and now - self._recent[0] <= QUIET_S
        if repeat or flood:
            self._held += 1
        else:
            more = f" (and {self._held} more bad messages)" if self._held else ""
            self._last_event, self._last_event_t, self._held = event, now, 0
            self._recent.append(now)
            self.session.notify(event + more, "warning")
        self._send(sender, _reply(PREFIX + "error", line))

    def _send(self, sender: tuple, dgram: bytes) -> None:
        try:
            self.sock.sendto(dgram, sender)
        except OSError:  # the sender is gone; control goes on
            pass
