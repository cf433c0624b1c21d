"""The trainer process's warnings reach the live process's log (the command line prints it, the TUI shows it)."""

from __future__ import annotations

import logging

import cv2

from livestyle.engine.train import TrainConfig
from livestyle.live.trainer_proc import BackgroundTrainer

from .test_outputs_sender import wait_until


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((record.name, record.getMessage()))


def test_a_warning_in_the_trainer_process_is_logged_in_the_live_process(tiny_style, capfd):
    painting = tiny_style / "styled" / "000.png"
    img = cv2.imread(str(painting))
    cv2.imwrite(str(painting), cv2.resize(img, (img.shape[1] * 2, img.shape[0] * 2)))  # a painting at 2x: resized
    lines = Lines()
    logger = logging.getLogger("livestyle")
    kept = logger.handlers, logger.propagate  # this process says nothing on stderr here (an in-process CLI may have
    logger.handlers, logger.propagate = [lines], False  # left its handler): what stderr gets is the child's own
    trainer = BackgroundTrainer(tiny_style, TrainConfig(guides=()), lambda ev: None)
    try:
        trainer.start()
        assert wait_until(lambda: any("resized" in m for _, m in lines.lines), 60), lines.lines
    finally:
        trainer.close()
        logger.handlers, logger.propagate = kept
    name, message = next(x for x in lines.lines if "resized" in x[1])
    assert name == "livestyle.trainer" and "000.png" in message
    assert "resized" not in capfd.readouterr().err  # not on the child's own stderr, which a UI hides
