"""The TUI's show controls against a real session: [ and ] change strength, number keys pick in a style set,
the stats panel shows both."""

from __future__ import annotations

from pathlib import Path

from tests.tui_helpers import SIZE, make_app, panel_text, run_async, started, until


@run_async
async def test_brackets_change_strength_and_numbers_switch_in_the_style_set(tmp_path: Path, two_styles) -> None:  # noqa: F811
    root, a, b = two_styles
    app = make_app(tmp_path, style=root, guides=True)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        assert app.session.styles.names() == ["a", "b"]
        await pilot.press("left_square_bracket")
        await until(pilot, lambda: app.last_stats.strength == 0.9)
        await pilot.press("left_square_bracket", "left_square_bracket")
        await until(pilot, lambda: app.last_stats.strength == 0.7)
        await pilot.press("right_square_bracket")
        await until(pilot, lambda: app.last_stats.strength == 0.8)
        await pilot.press("2")
        await until(pilot, lambda: app.last_stats.style_index == 2)
        assert app.session.stage.stylizer is app.session.styles.entries[1].stylizer
        text = panel_text(app, "StatsPanel")
        assert "strength 0.80" in text and "1 a 2 b" in text
        await pilot.press("3")
        await until(pilot, lambda: any("no style 3" in m for _, m in app.history))
        assert app.last_stats.style_index == 2
