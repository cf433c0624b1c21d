"""OSC end to end over UDP on 127.0.0.1 with python-osc's client against a running session: effects in the sent
frames and stats, replies, bad messages, a port in use, pushes to other senders, the documented addresses."""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest

from livestyle.control import commands
from livestyle.control.commands import COMMANDS, apply
from livestyle.errors import LivestyleError
from livestyle.live.session import LiveConfig, LiveSession
from tests.control_helpers import SMALL, collect, wait_until


# -- OSC end to end -----------------------------------------------------------------------
def _replies(client, timeout: float = 5.0) -> dict:
    out: dict = {}
    for msg in client.get_messages(timeout):
        out.setdefault(msg.address, []).append(list(msg.params))
    return out


def _ask(client, address: str, *values, want: str | None = None, timeout: float = 10.0) -> list:
    """Send and return the params of the first reply to ``want`` (default: ``address``)."""
    client.send_message(address, list(values) if values else [])
    want = want or address
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            for msg in client.get_messages(0.5):
                if msg.address == want:
                    return list(msg.params)
        except TimeoutError:
            continue
    raise AssertionError(f"no reply {want}")


@pytest.fixture
def osc_session(two_styles):
    pytest.importorskip("pythonosc")
    root, _, _ = two_styles
    with LiveSession(LiveConfig(style=str(root), osc="127.0.0.1:0", transition=0.2, **SMALL)) as s:
        server = s.surfaces[0]
        from pythonosc.udp_client import SimpleUDPClient

        yield s, SimpleUDPClient("127.0.0.1", server.port), server


def test_osc_strength_and_style_change_the_sent_frames_and_reply(osc_session):
    s, client, _ = osc_session
    sink = collect(s)
    assert wait_until(lambda: s.stats().stylized >= 3 and sink.count() >= 3)
    assert _ask(client, "/livestyle/strength", 0.0) == [0.0]
    n = sink.count() + 4
    assert wait_until(lambda: sink.count() >= n + 2)
    assert all(np.array_equal(f, o) for f, o in sink.since(n))  # the camera frame, bit for bit
    assert s.stats().strength == 0.0
    assert _ask(client, "/livestyle/strength", 1.0) == [1.0]
    n = sink.count() + 4
    assert wait_until(lambda: sink.count() >= n + 1)
    before = sink.since(n)[-1][0].astype(int)
    assert _ask(client, "/livestyle/style", 2) == [2]
    assert _ask(client, "/livestyle/next_style", want="/livestyle/style") == [1]
    assert _ask(client, "/livestyle/style", "b") == [2]
    assert wait_until(lambda: not s.stage.fade.active)
    n = sink.count() + 4
    assert wait_until(lambda: sink.count() >= n + 1)
    assert np.abs(sink.since(n)[-1][0].astype(int) - before).mean() > 20
    assert s.stats().style_index == 2


def test_osc_state_replies_every_parameter(osc_session):
    s, client, _ = osc_session
    client.send_message("/livestyle/state", [])
    got: dict = {}
    end = time.monotonic() + 10
    while len(got) < len(commands.parameters()) and time.monotonic() < end:
        try:
            for msg in client.get_messages(0.5):
                got[msg.address] = list(msg.params)
        except TimeoutError:
            pass
    assert set(got) == {f"/livestyle/{c.name}" for c in commands.parameters()}
    assert got["/livestyle/style"] == [1] and got["/livestyle/strength"] == [1.0]
    assert _ask(client, "/livestyle/styles") == ["a", "b"]


@pytest.mark.parametrize("address,values,words", [
    ("/livestyle/strength", [7.0], "strength must be 0..1, got 7.0"),
    ("/livestyle/strength", ["x"], "strength must be 0..1, got 'x'"),
    ("/livestyle/strength", [0.1, 0.2], "takes one value, got 2"),
    ("/livestyle/nope", [1], "unknown address /livestyle/nope"),
    ("/other/strength", [1], "unknown address /other/strength"),
    ("/livestyle/style", [9], "no style 9"),
    ("/livestyle/record", ["../x.mp4"], "not a plain file name"),
])
def test_osc_bad_messages_get_an_error_reply_and_an_event_and_the_show_goes_on(osc_session, address, values, words):
    s, client, server = osc_session
    text = _ask(client, address, *values, want="/livestyle/error")
    assert words in text[0] and "\n" not in text[0]
    assert any(words in e.message for e in s.drain_events())
    assert s.settings.strength == 1.0 and s.stats().style_index == 1  # nothing changed
    out = s.stats().frames_out
    assert wait_until(lambda: s.stats().frames_out > out)  # still sending


def test_osc_garbage_packet_is_an_error_reply(osc_session):
    s, _, server = osc_session
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(10)
    try:
        sock.sendto(b"\x00\x01not osc at all", ("127.0.0.1", server.port))
        data, _ = sock.recvfrom(65536)
    finally:
        sock.close()
    from pythonosc.osc_message import OscMessage

    msg = OscMessage(data)
    assert msg.address == "/livestyle/error" and "not an OSC packet" in msg.params[0]
    assert server.errors >= 1


def test_osc_port_in_use_is_one_line_and_the_session_runs_on(two_styles):
    pytest.importorskip("pythonosc")
    _, a, _ = two_styles
    busy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    busy.bind(("127.0.0.1", 0))
    try:
        port = busy.getsockname()[1]
        with LiveSession(LiveConfig(style=str(a), osc=str(port), **SMALL)) as s:
            events = [e for e in s.drain_events() if e.severity == "error"]
            assert len(events) == 1 and f"UDP port {port} on 127.0.0.1 is in use" in events[0].message
            assert "--osc 9001" in events[0].message and s.surfaces == []
            assert wait_until(lambda: s.stats().frames_out >= 3)
    finally:
        busy.close()


def test_osc_listens_on_localhost_unless_asked():
    from livestyle.control.osc import parse_osc

    assert parse_osc("9000") == ("127.0.0.1", 9000)
    assert parse_osc("0.0.0.0:9000") == ("0.0.0.0", 9000)
    for bad in ("x", "70000", "host:", "-1"):
        with pytest.raises(LivestyleError, match="give a UDP port 0..65535"):
            parse_osc(bad)


def test_the_documented_osc_addresses_are_the_registry():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "control.md").read_text()
    rows = [line for line in doc.splitlines() if line.startswith("| `/livestyle/")]
    want = [f"| `/livestyle/{c.name}` | {c.allowed().replace('|', chr(92) + '|')} | {c.help} |" for c in COMMANDS]
    assert rows == want, "docs/control.md's address table differs from control.commands.COMMANDS"


def test_osc_repeated_bad_messages_are_one_event_but_each_gets_a_reply(osc_session):
    s, client, server = osc_session
    s.drain_events()
    for _ in range(5):
        assert "strength must be 0..1" in _ask(client, "/livestyle/strength", 9.0, want="/livestyle/error")[0]
    assert len([e for e in s.drain_events() if "strength must be" in e.message]) == 1


def test_a_change_made_elsewhere_while_a_message_is_answered_still_reaches_its_sender(osc_session, monkeypatch):
    """The TUI (or MIDI) changes the background while the server answers a's message: a had no answer about
    it, so it must be pushed to a too, not only to the others (it was lost: a flaky CI failure)."""
    s, a_client, server = osc_session
    real = server._message

    def answer_then_change_elsewhere(address, args, sender):
        real(address, args, sender)
        if address == "/livestyle/styles":
            apply(s, "background", "blur")

    monkeypatch.setattr(server, "_message", answer_then_change_elsewhere)
    assert _ask(a_client, "/livestyle/strength", 0.4) == [pytest.approx(0.4)]  # a is a known sender
    assert _ask(a_client, "/livestyle/styles", want="/livestyle/background") == ["blur"]


def test_osc_changes_made_elsewhere_reach_every_recent_sender(osc_session):
    from pythonosc.udp_client import SimpleUDPClient

    s, a_client, server = osc_session
    b_client = SimpleUDPClient("127.0.0.1", server.port)
    assert _ask(a_client, "/livestyle/styles") == ["a", "b"]  # a is now a known sender
    assert _ask(b_client, "/livestyle/strength", 0.3) == [pytest.approx(0.3)]  # b changes it: a hears of it
    assert _ask(a_client, "/livestyle/styles", want="/livestyle/strength") == [pytest.approx(0.3)]
    apply(s, "background", "blur")  # as a TUI key or a MIDI fader would: both hear of it
    for client in (a_client, b_client):
        assert _ask(client, "/livestyle/styles", want="/livestyle/background") == ["blur"]
