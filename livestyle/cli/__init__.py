"""The ``livestyle`` command line. Errors the user can fix print one line and exit 2."""

from __future__ import annotations

import argparse
import logging
import sys

from livestyle.errors import LivestyleError


def _parser() -> argparse.ArgumentParser:
    from livestyle.cli import live as live_cli
    from livestyle.cli import midi_learn
    from livestyle.cli import render as render_cli
    from livestyle.cli import train as train_cli

    p = argparse.ArgumentParser(prog="livestyle", description="Live few-shot video stylization "
                                "(Texler et al. 2020). With no command, opens the terminal UI.")
    from livestyle.tui.args import add_arguments as tui_arguments  # no Textual import: flags only

    tui_arguments(p)
    sub = p.add_subparsers(dest="command")
    train_cli.add_arguments(sub.add_parser("train", help="train a style folder's model"))
    render_cli.add_arguments(sub.add_parser("render", help="stylize a video file or folder of frames"))
    live_cli.add_arguments(sub.add_parser("live", help="stylize a live source to virtual camera/preview/recording"))
    live_cli.add_arguments(sub.add_parser("demo", help="the bundled demo style on the synthetic source"), demo=True)
    midi_learn.add_arguments(sub.add_parser("midi-learn", help="write a MIDI mapping file by moving each control"))
    sub.add_parser("doctor", help="check camera, virtual camera, GPU, CPU and segmentation; print fixes")
    cal = sub.add_parser("calibrate", help="measure this machine; choose preset, resolution, render scale and precision")
    cal.add_argument("--target-fps", type=float, default=30.0, help="stylized frames per second to reach, 1-240")
    cal.add_argument("--device", default="auto", help="auto | cpu | cuda[:N] (default auto: CUDA where available, else the CPU)")
    cal.add_argument("--unmasked", action="store_true", help="calibrate for full-frame stylization")
    return p


def quiet_native_logs() -> None:
    """Keep OpenCV's and mediapipe's C++ chatter out of the user's terminal (errors still surface as ours)."""
    import os

    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("OPENCV_LOG_LEVEL", "OFF")
    os.environ.setdefault("OPENCV_VIDEOIO_PRIORITY_OBSENSOR", "0")
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET: "moov atom not found" and the like
    import cv2

    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)


class _OurLine(logging.Formatter):
    """A log record as the command line's own lines read: ``livestyle: warning: ...`` (kept as it is when the
    message already starts with ``livestyle:``)."""

    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        return msg if msg.startswith("livestyle:") else f"livestyle: {record.levelname.lower()}: {msg}"


class _Stderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record comes (not the one of when it was made)."""

    @property  # type: ignore[override]
    def stream(self):  # noqa: D102
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def log_as_our_lines() -> None:
    """Print the ``livestyle`` loggers' warnings and errors (a camera read that failed, an output that could not
    close) on stderr as ``livestyle: warning: ...`` lines; without a handler Python printed them bare."""
    logger = logging.getLogger("livestyle")
    if not any(isinstance(h.formatter, _OurLine) for h in logger.handlers):
        handler = _Stderr()
        handler.setFormatter(_OurLine())
        logger.addHandler(handler)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    try:
        quiet_native_logs()
        args = _parser().parse_args(argv)
    except LivestyleError as e:
        print(f"livestyle: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("livestyle: interrupted", file=sys.stderr)
        return 130
    if args.command is None:  # the TUI owns the terminal
        return _run(args)
    from livestyle.quiet import native_chatter_filtered

    log_as_our_lines()
    with native_chatter_filtered():  # libpng's, FFmpeg's lines never print before or instead of ours
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    try:
        if args.command == "train":
            from livestyle.cli import train as train_cli

            return train_cli.run(args)
        if args.command == "render":
            from livestyle.cli import render as render_cli

            return render_cli.run(args)
        if args.command in ("live", "demo"):
            from livestyle.cli import live as live_cli

            return live_cli.run(args, demo=args.command == "demo")
        if args.command == "calibrate":
            from livestyle.cli import calibrate

            return calibrate.run(args)
        if args.command == "midi-learn":
            from livestyle.cli import midi_learn

            return midi_learn.run(args)
        if args.command == "doctor":
            from livestyle.cli import doctor

            return doctor.run(args)
        from livestyle.tui.app import run as run_tui

        return run_tui(args)
    except LivestyleError as e:
        print(f"livestyle: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("livestyle: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
