"""Training while live: a separate, lower-priority process that publishes weight snapshots.

Why a process: PyTorch's intra-op thread pool is per process, so a training
thread beside the inference thread would fight it for both cores. The child
runs one torch thread at nice +10, so the scheduler hands the cores to the
live pipeline first; the trainer soaks up what is left. The child reloads the
style folder when told (a new or changed painting) and warm-starts from its
current weights. It saves the model atomically when it converges or stops.
Its warnings (a painting resized to its keyframe, ...) are sent to the live
process and logged there, so the UI shows them as it shows the pipeline's.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import queue
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from livestyle.engine.train import TrainConfig, TrainStats

PUBLISH_EVERY = 1.5  # seconds between weight snapshots sent to the pipeline
STATS_EVERY = 0.5  # seconds between stats sent on their own (the UI's loss and progress), and after the first step
log = logging.getLogger("livestyle.trainer")


class _Forward(logging.Handler):
    """In the trainer process: each warning or error logged there, sent to the live process (``BackgroundTrainer``
    logs it on ``livestyle.trainer``: the command line prints it, the TUI shows it)."""

    def __init__(self, out: mp.Queue) -> None:
        super().__init__(logging.WARNING)
        self.out = out

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.out.put(("log", record.levelno, record.getMessage()))
        except Exception:  # a closed queue while the process ends: nothing to tell
            pass


def _worker(style_path: str, cfg_dict: dict, cmds: mp.Queue, out: mp.Queue, nice: int, threads: int) -> None:
    import torch

    from livestyle.engine import checkpoint
    from livestyle.engine.checkpoint import ModelInfo
    from livestyle.engine.train import Trainer
    from livestyle.errors import LivestyleError
    from livestyle.style import StyleFolder

    logging.getLogger().addHandler(_Forward(out))  # instead of this process's own stderr, which a UI hides
    try:
        os.nice(nice)
    except OSError:
        pass
    torch.set_num_threads(threads)
    cfg = TrainConfig(**cfg_dict)
    style = StyleFolder(style_path)
    state = None
    paused = False
    while True:
        try:
            keyframes = style.load(strict=False)
        except LivestyleError as e:
            out.put(("error", str(e)))
            keyframes = None
        if keyframes and not paused:
            try:
                tr = Trainer(keyframes, cfg, init_state=state)
            except RuntimeError:  # a warm start that does not fit (e.g. guides changed): start fresh
                tr = Trainer(keyframes, cfg)
            last = [time.perf_counter(), 0.0]  # when weights, and stats, were last sent
            pending: list[str] = []

            def progress(st: TrainStats, tr=tr, last=last, pending=pending) -> None:
                now = time.perf_counter()
                if now - last[0] >= PUBLISH_EVERY:
                    last[0] = last[1] = now
                    out.put(("weights", tr.state_dict(), st.as_dict()))
                elif now - last[1] >= STATS_EVERY:
                    last[1] = now
                    out.put(("stats", st.as_dict()))
                try:
                    while True:
                        pending.append(cmds.get_nowait())
                except queue.Empty:
                    pass
                if pending:
                    tr.stop()

            tr.on_progress = progress
            out.put(("stats", tr.stats.as_dict()))
            tr.run()
            state = tr.state_dict()
            if "stop" not in pending:  # the process ends next: tensors it sent could not be read after it (the
                out.put(("weights", state, tr.stats.as_dict()))  # reader stopped there, and lost the save's word)
            else:
                out.put(("stats", tr.stats.as_dict()))
            if tr.stats.error:
                out.put(("error", f"training: {tr.stats.error}"))
            info = ModelInfo(cfg.preset, tr.gen_cfg, guides=[{"name": n} for n in cfg.guides],
                             train={"iterations": tr.stats.iteration, "seconds": round(tr.stats.elapsed, 2),
                                    "loss": tr.stats.loss, "key_l1": tr.stats.eval_loss, "state": tr.stats.state})
            if tr.stats.iteration:
                try:
                    checkpoint.save(style.model_path, tr.result, info)
                    out.put(("saved", str(style.model_path)))
                except (LivestyleError, OSError) as e:  # one line, not a traceback: live goes on with these weights
                    out.put(("unsaved", f"training not saved: {e}"))
            cmd_list = list(pending)
        else:
            cmd_list = []
        # Idle: wait for a command (reload after a new painting, pause/resume, stop).
        while True:
            if not cmd_list:
                try:
                    cmd_list.append(cmds.get(timeout=0.5))
                except queue.Empty:
                    continue
            cmd = cmd_list.pop(0)
            if cmd == "stop":
                return
            if cmd == "pause":
                paused = True
                out.put(("stats", {**(asdict(TrainStats(state="paused")))}))
                continue
            if cmd in ("resume", "reload"):
                paused = False if cmd == "resume" else paused
                break


@dataclass
class TrainerEvent:
    kind: str  # "weights" | "stats" | "error" | "unsaved" | "saved" | "died" (killed, out of memory: not by close)
    payload: object = None
    stats: dict | None = None


class BackgroundTrainer:
    """Owns the training process; calls ``on_event`` from its reader thread (never blocks it long)."""

    def __init__(self, style_path: str | Path, cfg: TrainConfig, on_event: Callable[[TrainerEvent], None],
                 nice: int = 10, threads: int = 1):
        self.style_path = str(style_path)
        self.cfg = replace(cfg, seconds=None, iterations=None)
        self.on_event = on_event
        self.nice, self.threads = nice, threads
        ctx = mp.get_context("spawn")
        self._cmds: mp.Queue = ctx.Queue()
        self._out: mp.Queue = ctx.Queue()
        self._proc = ctx.Process(target=_worker, name="livestyle-trainer", daemon=True,
                                 args=(self.style_path, asdict(self.cfg), self._cmds, self._out, nice, threads))
        self._stop = threading.Event()
        self._closing = threading.Event()  # close() ends the process: its exit is not a death to report
        self._reader = threading.Thread(target=self._read, name="trainer-reader", daemon=True)
        self._starting = threading.Lock()  # a close from another thread (the session ending) waits for a start

    def start(self) -> None:
        # Start multiprocessing's resource tracker now: started lazily under a UI that swapped
        # sys.stderr for an object without a real fd, the spawn fails ("bad value(s) in fds_to_keep").
        from multiprocessing import resource_tracker

        try:
            resource_tracker.ensure_running()
        except (ValueError, OSError):
            pass
        with self._starting:
            if self._closing.is_set():  # closed before it started: nothing to start
                return
            self._proc.start()
            self._reader.start()

    def send(self, cmd: str) -> None:
        """``reload`` (style folder changed), ``pause``, ``resume`` or ``stop``."""
        if self._proc.is_alive():
            self._cmds.put(cmd)

    @property
    def alive(self) -> bool:
        return self._proc.is_alive()

    def _read(self) -> None:
        while True:
            try:
                msg = self._out.get(timeout=0.2)
            except queue.Empty:
                if self._stop.is_set():  # closed, and all it said read (its last save's word included)
                    return
                if (not self._proc.is_alive() and self._proc.exitcode not in (None, 0)
                        and not self._closing.is_set()):
                    self.on_event(TrainerEvent("died", f"trainer process died (exit code {self._proc.exitcode})"))
                    return
                continue
            except (EOFError, OSError):
                return
            try:
                if msg[0] == "weights":
                    self.on_event(TrainerEvent("weights", msg[1], msg[2]))
                elif msg[0] == "stats":
                    self.on_event(TrainerEvent("stats", None, msg[1]))
                elif msg[0] == "log":
                    log.log(msg[1], "%s", msg[2])
                else:
                    self.on_event(TrainerEvent(msg[0], msg[1]))
            except Exception:  # a consumer bug must not kill the reader
                self.on_event(TrainerEvent("error", traceback.format_exc(limit=1).strip().splitlines()[-1]))

    def close(self, timeout: float = 10.0) -> None:
        """Stop the trainer: it finishes its step and saves what it learned (on a loaded 2-core machine that took
        more than 1.5 s, the old limit, and the process was terminated before its save or its word of it)."""
        with self._starting:
            self._closing.set()
        if self._proc.pid is not None:  # started (a close that came first found nothing to stop)
            self.send("stop")
            self._proc.join(timeout)
            if self._proc.is_alive():
                self._proc.terminate()
                self._proc.join(0.5)
        self._stop.set()
        if self._reader.ident is not None:
            self._reader.join(5.0)  # it reads what the process said last (its save's word) before it stops
        for q in (self._cmds, self._out):
            q.cancel_join_thread()
            q.close()
