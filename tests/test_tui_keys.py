"""Every key is reachable at 80x24 and at 120x40: in the footer, or in both the help screen (? / F1) and
the command palette; the help screen is generated from the bindings; n asks for the new style's name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.binding import Binding
from textual.widgets import Input, Label, Markdown

from livestyle.tui.app import LivestyleApp
from livestyle.tui.screens.ask_name import AskName, name_problem
from livestyle.tui.screens.help import (
    ACTION_HELP,
    HelpScreen,
    action_name,
    describe,
    help_markdown,
    key_rows,
)
from livestyle.tui.widgets.footer import FitFooter

from .tui_helpers import make_app, messages, run_async, until


def screen_rows(app: Any) -> list[str]:
    """The text of every row on the screen, as the terminal shows it."""
    return ["".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips()]


def bindings() -> list[Binding]:
    return [b for b in LivestyleApp.BINDINGS if isinstance(b, Binding)]


def shown(b: Binding) -> str:
    return b.key_display or b.key


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
@run_async
async def test_every_key_is_in_the_footer_or_in_help_and_palette(tmp_path: Path, size: tuple[int, int]) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: "palette" in screen_rows(app)[-1])  # the footer composes after the bindings
        footer_row = screen_rows(app)[-1]
        footer = app.main.query_one(FitFooter)
        in_footer = {b.action for b, *_ in footer.fitted(size[0])}
        for b, *_rest, label in footer.fitted(size[0]):
            assert f"{app.get_key_display(b)} {label}" in footer_row, (b.action, footer_row)  # not cut off
        assert "? help" in footer_row and "palette" in footer_row
        assert {"snapshot", "paint", "auto_style", "train", "help"} <= in_footer
        palette = " ".join(c.title for c in app.get_system_commands(app.main))
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        help_text = app.screen.query_one(Markdown).source
        await pilot.press("escape")
        help_keys = {k for line in help_text.splitlines() if line.startswith("| **")
                     for k in line.split("**")[1].split()}
        for b in bindings():
            if b.action in in_footer:
                continue
            assert shown(b) in help_keys, (b, help_keys)
            if b.action != "quit":  # quit is Textual's own palette command
                assert f"({b.key})" in palette or f"({shown(b)})" in palette, (b.action, palette)
    if size == (120, 40):  # what the issue found missing at 120 columns
        assert {"new_style", "load_style", "style(1)"} <= in_footer


@run_async
async def test_f1_opens_the_help_too(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("f1")
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen))


def test_the_help_lists_every_binding_from_the_bindings_themselves() -> None:
    text = help_markdown(LivestyleApp.BINDINGS)
    rows = dict(key_rows(LivestyleApp.BINDINGS))
    assert len(rows) == len({action_name(b.action) for b in bindings()})  # one row per action
    for b in bindings():
        assert any(shown(b) in keys.split() for keys in rows), b
    assert "| **1-9** |" in text and "| **? f1** |" in text
    extra = [*LivestyleApp.BINDINGS, Binding("z", "zap", "zap the frame")]  # a new key shows up by itself
    assert "| **z** | zap the frame |" in help_markdown(extra)


def test_every_key_has_its_own_help_text_not_just_its_footer_label() -> None:
    # f's row read "half size" (its footer label): ACTION_HELP had no entry for render_scale
    for b in bindings():
        assert action_name(b.action) in ACTION_HELP, b.action
        assert describe(b) != b.description, b.action


def test_the_palette_offers_each_style_number(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    titles = [c.title for c in app.get_system_commands(app.main)]
    assert [t for t in titles if t.startswith("style ")] == [f"style {i} ({i})" for i in range(1, 10)]


def test_names_are_checked() -> None:
    assert name_problem("portrait-ink_2") is None
    for bad in ("", "../up", "a/b", ".hidden", "-x", "sp ace", "x" * 65):
        assert name_problem(bad) is not None, bad
    assert "exists already" in (name_problem("style-1", {"style-1"}) or "")


@run_async
async def test_n_asks_for_a_name_refuses_a_bad_one_and_empty_keeps_the_default(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    (tmp_path / "styles" / "style-1").mkdir(parents=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.session is not None)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, AskName))
        app.screen.query_one(Input).value = "../escape"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, AskName)  # still asking, and saying why
        assert "not a usable name" in str(app.screen.query_one("#name-problem", Label).content)
        app.screen.query_one(Input).value = "ink portraits"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, AskName)
        app.screen.query_one(Input).value = "ink-portraits"
        await pilot.press("enter")
        await until(pilot, lambda: "style: " in messages(app) and app.cfg.style.endswith("ink-portraits"))
        assert app.cfg.style == str(tmp_path / "styles" / "ink-portraits")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, AskName))
        await pilot.press("enter")  # empty: the suggested name, the first free style-N
        await until(pilot, lambda: app.cfg.style.endswith("style-2"))
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, AskName))
        await pilot.press("escape")  # cancelled: nothing changes
        await pilot.pause()
        assert app.cfg.style.endswith("style-2") and not (tmp_path / "styles" / "../escape").exists()
