"""Control of a running session: the registry (``control.commands``), strength, style sets and
crossfades, and OSC end to end over UDP on 127.0.0.1 with python-osc's own client."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from livestyle.control import commands
from livestyle.control.commands import COMMANDS, ControlError, apply, check, state
from livestyle.errors import LivestyleError
from livestyle.live.mix import Crossfade, apply_strength
from livestyle.live.session import LiveConfig, LiveSession
from livestyle.live.styles import expand_styles
from tests.control_helpers import SMALL, collect, wait_until


# -- the registry ----------------------------------------------------------------------
@pytest.mark.parametrize("name,value,words", [
    ("strength", 1.5, "strength must be 0..1, got 1.5"),
    ("strength", "loud", "strength must be 0..1, got 'loud'"),
    ("strength", float("nan"), "strength must be 0..1"),
    ("strength", None, "strength needs a value: 0..1"),
    ("steady", 0.99, "steady must be 0..0.95"),
    ("transition", -1, "transition must be 0..10"),
    ("masked", 2, "masked must be 0 or 1, got 2"),
    ("background", "purple", "background must be one of keep | blur | solid | stylized, got 'purple'"),
    ("style", 1.5, "style must be a style number"),
    ("snapshot", 3, "snapshot takes no value, got 3"),
    ("record", "../../etc/passwd.mp4", "not a plain file name"),
    ("record", "/tmp/x.mp4", "not a plain file name"),
    ("exec", 1, "unknown control 'exec'"),
])
def test_bad_values_are_one_line_errors_naming_parameter_value_and_range(name, value, words):
    with pytest.raises(ControlError) as e:
        check(name, value)
    assert words in str(e.value) and "\n" not in str(e.value)
    assert isinstance(e.value, LivestyleError)


def test_good_values_are_converted():
    assert check("strength", 1) == 1.0 and check("masked", 1.0) is True and check("style", 2.0) == 2
    assert check("record", "take 1.mp4") == "take 1.mp4" and check("record", 0) is False
    assert check("snapshot") is None and check("style", "b") == "b"


# -- mixing ------------------------------------------------------------------------------
def test_strength_blends_and_its_ends_are_exact():
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 256, (2, 24, 32, 3), dtype=np.uint8)
    assert apply_strength(a, b, 0.0) is b and apply_strength(a, b, 1.0) is a
    half = apply_strength(a, b, 0.5).astype(int)
    assert np.abs(half - (a.astype(int) + b.astype(int)) / 2).max() <= 1


def test_crossfade_is_a_blend_of_the_old_and_the_new_frames_and_ends():
    old, new = np.zeros((8, 8, 3), np.uint8), np.full((8, 8, 3), 200, np.uint8)
    fade = Crossfade()
    fade(old, now=0.0)
    fade.start(0.5, now=1.0)
    assert fade.active
    assert int(fade(new, now=1.0)[0, 0, 0]) == 0
    assert int(fade(new, now=1.25)[0, 0, 0]) == 100  # half way: half of each
    assert int(fade(new, now=1.5)[0, 0, 0]) == 200 and not fade.active
    fade.start(0.0)  # 0 s: a cut
    assert not fade.active


def test_a_folder_of_style_folders_is_a_style_set(two_styles, tmp_path):
    root, a, b = two_styles
    assert expand_styles([str(root)]) == [str(a), str(b)]
    assert expand_styles([str(b), str(root)]) == [str(b), str(a)]
    assert expand_styles([str(tmp_path / "new")]) == [str(tmp_path / "new")]  # created when used


# -- a running session -----------------------------------------------------------------
def test_strength_zero_sends_the_camera_frame_bit_for_bit(two_styles):
    _, a, _ = two_styles
    with LiveSession(LiveConfig(style=str(a), **SMALL)) as s:
        sink = collect(s)
        assert wait_until(lambda: s.stats().stylized >= 3 and sink.count() >= 3)
        styled = sink.since(0)[-1]
        assert styled[1] is not None and not np.array_equal(styled[0], styled[1])  # strength 1: stylized
        apply(s, "strength", 0.0)
        n = sink.count() + 4  # frames composed before the change may still be in flight
        assert wait_until(lambda: sink.count() >= n + 3)
        for frame, original in sink.since(n):
            assert original is not None and np.array_equal(frame, original)
        assert s.stats().strength == 0.0 and state(s)["strength"] == 0.0


def test_style_set_switches_by_number_name_and_step_with_a_crossfade(two_styles):
    root, a, b = two_styles
    cfg = LiveConfig(style=str(root), transition=0.4, **SMALL)
    with LiveSession(cfg) as s:
        assert s.styles.names() == ["a", "b"] and s.stats().styles == ["a", "b"]
        assert all(e.stylizer is not None for e in s.styles.entries)  # all loaded at start, warm
        sink = collect(s)
        assert wait_until(lambda: sink.count() >= 3)
        before = sink.since(0)[-1][0].astype(int)
        apply(s, "style", 2)
        assert state(s)["style"] == 2 and s.stage is not None and s.stage.stylizer is s.styles.entries[1].stylizer
        n = sink.count()
        assert wait_until(lambda: not s.stage.fade.active and sink.count() >= n + 3)
        after = sink.since(sink.count() - 1)[0][0].astype(int)
        assert np.abs(after - before).mean() > 20  # the picture changed
        frames = [f.astype(int) for f, _ in sink.since(n)]
        # during the fade, frames lie between the two styles' pictures
        between = [f for f in frames if np.abs(f - before).mean() > 5 and np.abs(f - after).mean() > 5]
        assert between, "no crossfade frame between the two styles"
        apply(s, "next_style")
        assert state(s)["style"] == 1
        apply(s, "prev_style")
        assert state(s)["style"] == 2
        apply(s, "style", "a")
        assert state(s)["style"] == 1
        with pytest.raises(LivestyleError, match="no style 3: the set holds 2 style"):
            apply(s, "style", 3)
        with pytest.raises(LivestyleError, match="no style named 'zz'"):
            apply(s, "style", "zz")


def test_a_style_without_weights_is_not_shown_until_it_has_them(two_styles, tmp_path):
    _, a, _ = two_styles
    empty = tmp_path / "empty"
    # a long fade, so that it is still running when checked on a loaded machine
    with LiveSession(LiveConfig(style=str(a), styles=(str(empty),), transition=60.0, **SMALL)) as s:
        assert wait_until(lambda: s.stage is not None and s.stage.fade.last is not None)  # a frame was shown
        shown = s.stage.stylizer if s.stage else None
        assert shown is not None
        apply(s, "style", 2)
        assert state(s)["style"] == 2 and s.stage.stylizer is shown  # a keeps the output
        assert any("has no model yet" in e.message for e in s.drain_events())
        # its trainer's first weights (here: a's, as a trainer would publish them) are shown, with a fade
        from livestyle.live.trainer_proc import TrainerEvent

        state_dict = {k: v.clone() for k, v in shown.model.state_dict().items()}
        s.styles._on_trainer(1, TrainerEvent("weights", state_dict))
        new = s.styles.entries[1].stylizer
        assert new is not None and new is not shown and s.stage.stylizer is new and s.stage.fade.active
        s.styles._on_trainer(0, TrainerEvent("weights", state_dict))  # a trainer no longer active: ignored
        assert s.stage.stylizer is new


def test_every_registry_entry_runs_on_a_session_and_its_state_round_trips(two_styles, tmp_path):
    _, a, _ = two_styles
    style = tmp_path / "mine"
    shutil.copytree(a, style)
    with LiveSession(LiveConfig(style=str(style), record_dir=str(tmp_path / "takes"), **SMALL)) as s:
        assert set(state(s)) == {c.name for c in commands.parameters()}
        assert wait_until(lambda: s.stats().stylized >= 2)
        values = {"strength": 0.25, "style": 1, "transition": 1.5, "masked": 0, "background": "blur",
                  "carry": 0.5, "steady": 0.3, "stylize": 0, "train": 0, "record": 1}
        for c in COMMANDS:
            apply(s, c.name, values.get(c.name))
            if c.name in values:
                assert state(s)[c.name] == values[c.name], c.name
        assert len(list((style / "keys").glob("*.png"))) == 2  # snapshot saved a keyframe
        out = s.stats().frames_out
        assert wait_until(lambda: s.stats().frames_out > out + 3)
        apply(s, "record", 0)
        assert state(s)["record"] == 0
    assert [p.suffix for p in (tmp_path / "takes").iterdir()] == [".mp4"]


def test_render_live_at_strength_zero_gives_back_the_input_frames(two_styles):
    from livestyle.live.replay import LiveReplay

    from .conftest import astronaut

    _, a, _ = two_styles
    frames = [astronaut((96, 64)) for _ in range(3)]
    with LiveReplay.from_style(a, LiveConfig(strength=0.0, denoise=False), (96, 64)) as r:
        assert all(np.array_equal(out, f) for out, f in zip(r.frames(frames), frames, strict=True))
    with LiveReplay.from_style(a, LiveConfig(strength=1.0, denoise=False), (96, 64)) as r:
        assert not any(np.array_equal(out, f) for out, f in zip(r.frames(frames), frames, strict=True))
