"""The Textual control room (``livestyle`` with no command). The core never imports this package.

``livestyle.tui.args`` (flags) and ``livestyle.tui.settings`` import no
Textual, so the CLI can build its parser without loading the UI;
``livestyle.tui.app.run`` starts the UI.
"""
