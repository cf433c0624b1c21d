"""The engine never imports Textual: import every core module in a fresh interpreter and check.

Like harlequin's contract test: one subprocess imports each module of
``livestyle`` outside ``livestyle.tui`` (plus the TUI's Textual-free flag and
settings modules, which the CLI parser uses) and reports any module after
whose import ``textual`` appears in ``sys.modules``.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import livestyle

HEADLESS_TUI = ["livestyle.tui", "livestyle.tui.args", "livestyle.tui.settings", "livestyle.tui.painter"]

CHECK = """
import importlib, sys
bad = []
for name in sys.argv[1:]:
    importlib.import_module(name)
    if "textual" in sys.modules:
        bad.append(name)
        break
from livestyle import cli
cli._parser()
if not bad and "textual" in sys.modules:
    bad.append("livestyle.cli._parser()")
print("TEXTUAL:" + ",".join(bad))
"""


def core_modules() -> list[str]:
    names = [m.name for m in pkgutil.walk_packages(livestyle.__path__, "livestyle.")]
    return sorted(n for n in names if not n.startswith("livestyle.tui") and n != "livestyle.__main__")


def test_core_modules_and_the_cli_parser_never_import_textual() -> None:
    modules = core_modules() + HEADLESS_TUI
    assert "livestyle.live.session" in modules and "livestyle.cli" in modules
    out = subprocess.run([sys.executable, "-c", CHECK, *modules], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "TEXTUAL:\n" in out.stdout, f"textual imported by: {out.stdout.split('TEXTUAL:')[-1].strip()}"
