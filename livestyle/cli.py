"""The ``livestyle`` command line. Errors the user can fix print one line and exit 2."""

from __future__ import annotations

import argparse
import sys

from .errors import LivestyleError


def _parser() -> argparse.ArgumentParser:
    from . import render_cli, train_cli

    p = argparse.ArgumentParser(prog="livestyle", description="Live few-shot video stylization "
                                "(Texler et al. 2020). With no command, opens the terminal UI.")
    sub = p.add_subparsers(dest="command")
    train_cli.add_arguments(sub.add_parser("train", help="train a style folder's model"))
    render_cli.add_arguments(sub.add_parser("render", help="stylize a video file or folder of frames"))
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "train":
            from . import train_cli

            return train_cli.run(args)
        if args.command == "render":
            from . import render_cli

            return render_cli.run(args)
        _parser().print_help()
        return 0
    except LivestyleError as e:
        print(f"livestyle: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("livestyle: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
