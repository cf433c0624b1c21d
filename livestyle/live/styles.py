"""The session's style set: every style folder's model and keyframe helpers kept warm, one shown.

``--style A --style B`` (or a folder of style folders) loads each style's saved model and builds its
own guide trackers and keyframe carry (``live.keyed``) at start, so a switch only hands other objects
to the style stage (``StyleStage.set_model``), which crossfades from the old style's last output
(``live.mix.Crossfade``). Only the *active* style trains and has its folder watched. A style selected
before it has weights (no saved model; its trainer just started) is not shown half-ready: the stage
keeps the style it shows until the first weights arrive, then fades over.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from livestyle.engine.infer import Stylizer
from livestyle.engine.model import PRESETS, Generator
from livestyle.engine.train import TrainConfig
from livestyle.errors import LivestyleError, StyleError
from livestyle.live.keyed import Keyed, keyed_from
from livestyle.live.trainer_proc import BackgroundTrainer, TrainerEvent
from livestyle.style import StyleFolder


def expand_styles(paths: Sequence[str]) -> list[str]:
    """The style folders ``paths`` name: a folder with ``keys/`` or ``styled/`` (or that does not exist yet,
    to be created) is one style; a folder without them whose sub-folders have them is a set of styles
    (its sub-folders, sorted). Duplicates are dropped; the order is kept."""
    out: list[str] = []
    for p in paths:
        path = Path(p).expanduser()
        subs = []
        if path.is_dir() and not (path / "keys").is_dir() and not (path / "styled").is_dir():
            subs = sorted(str(s) for s in path.iterdir()
                          if s.is_dir() and not s.name.startswith(".") and ((s / "keys").is_dir() or (s / "styled").is_dir()))
        for s in subs or [str(p)]:
            if s not in out:
                out.append(s)
    return out


class StyleEntry:
    """One style of the set: its folder, its model (None until loaded or trained) and its keyframe helpers."""

    def __init__(self, folder: StyleFolder):
        self.folder = folder
        self.stylizer: Stylizer | None = None
        self.keyed = Keyed()
        self.sig: tuple = ()  # the paintings' signature when ``keyed`` was built
        self.unreadable = ""  # why its painted keyframes could not be read at the last look ("" when they could)
        self.gone = False  # its folder was deleted or renamed while it was active (said once)

    @property
    def name(self) -> str:
        return self.folder.path.name


class StyleSet:
    """The styles of one ``LiveSession`` (``session``: its cfg, compute, stage, settings, notify, work_size)."""

    def __init__(self, session: Any, paths: Sequence[str]):
        self.session = session
        self.entries = [StyleEntry(StyleFolder(p)) for p in expand_styles(paths)]
        for e in self.entries:
            e.folder.check_usable()  # a --style under a regular file: one line now, not "no keyframes yet"
        self.given = len(self.entries)  # styles named at start (the TUI's number keys pick in the set if > 1)
        self.active = 0  # selected: trains, is watched, is shown once it has weights
        self.shown = 0  # whose model the stage runs now
        self.trainer: BackgroundTrainer | None = None
        self.train_stats: dict = {"state": "idle"}
        self.unsaved: list[str] = []  # one line per training that could not be saved (``live`` exits non-zero)
        self._lock = threading.RLock()

    # -- what the session reads ----------------------------------------------------
    @property
    def folder(self) -> StyleFolder | None:
        """The active style's folder (snapshots go there), or None without styles."""
        return self.entries[self.active].folder if self.entries else None

    def names(self) -> list[str]:
        return [e.name for e in self.entries]

    def guide_names(self) -> tuple[str, ...]:
        return ("blobs",) if self.session.cfg.guides else ()

    def train_config(self) -> TrainConfig:
        c = self.session.cfg
        return TrainConfig(preset=c.preset, guides=self.guide_names(),
                           device="cpu" if self.session.compute.device.type == "cpu" else c.device)

    def keyed(self, entry: StyleEntry) -> Keyed:
        """Guide trackers and the keyframe carry over ``entry``'s painted keyframes, at the work size; the
        helpers it had when they cannot be read now (a painting replaced by a broken file, a keyframe deleted:
        one error line with the fix, and ``entry.unreadable`` says why, until the folder reads again)."""
        cfg = self.session.cfg
        try:
            kfs = entry.folder.load(strict=False) if entry.folder.path.is_dir() else []
        except LivestyleError as err:
            if {"painted", "orphan"} & set(entry.folder.status().values()) and str(err) != entry.unreadable:
                self.session.notify(f"{entry.name}: {err}; the live output goes on with the keyframes it had",
                                    "error")
            entry.unreadable = str(err)
            return entry.keyed
        entry.unreadable = ""
        if not kfs:
            return Keyed()
        return keyed_from(kfs, self.guide_names(), self.session.source_size, cfg.render_scale, cfg.key_flow)

    # -- start ---------------------------------------------------------------------------
    def load_all(self) -> None:
        """Load every style's saved model and keyframe helpers; show and train the first."""
        for e in self.entries:
            self._load(e)
        if self.entries:
            self._activate(0, fade=False)
            threading.Thread(target=self._warm, name="style-warm", daemon=True).start()

    def _load(self, e: StyleEntry) -> None:
        """``e``'s saved model if it fits the live settings (guides), and its keyframe helpers."""
        from livestyle.engine import checkpoint

        s, cfg = self.session, self.session.cfg
        if e.folder.path.is_dir() and e.folder.model_path.exists():
            try:
                model, info = checkpoint.load(e.folder.model_path)
                if [g["name"] for g in info.guides] == list(self.guide_names()):
                    e.stylizer = Stylizer(model, s.compute, cfg.phases, int8=cfg.int8)
                    if not cfg.train:  # nothing will change these weights: int8 from the first frames
                        e.stylizer.settle()
                    s.notify(f"loaded {e.folder.model_path} ({info.preset}, {info.train.get('iterations', '?')} it)")
                    if info.preset != cfg.preset:  # say so rather than ignore the preset asked for
                        s.notify(f"{e.folder.model_path} was trained with preset {info.preset!r}, not {cfg.preset!r}; "
                                 f"using it as it is (to switch, run `livestyle train {e.folder.path} --preset "
                                 f"{cfg.preset}`)", "warning")
                else:
                    s.notify(f"{e.folder.model_path}: trained with other guides; retraining", "warning")
            except LivestyleError as err:
                s.notify(str(err), "error")
        e.sig = e.folder.paint_signature() if e.folder.path.is_dir() else ()
        e.keyed = self.keyed(e)

    def _warm(self) -> None:
        """Run each loaded model but the shown one once at the work size, so that the first frames after a switch
        are not slow."""
        w, h = self.session.work_size
        for e in list(self.entries):
            shown = self.session.stage.stylizer  # the net thread runs that one: never two callers at once
            if e.stylizer is not None and e.stylizer is not shown and not self.session.stopping:
                try:
                    e.stylizer.warmup(w, h, iterations=1)
                except Exception as err:  # a model that cannot run is reported when it is shown
                    self.session.notify(f"{e.name}: warm-up failed ({type(err).__name__}: {err})", "warning")

    # -- switching ------------------------------------------------------------------------
    def select(self, which: int | str) -> None:
        """Make style ``which`` (1-based number or name) the active one; ``StyleError`` if there is none such."""
        names = self.names()
        if isinstance(which, str):
            if which not in names:
                raise StyleError(f"no style named {which!r} in the set; the set holds: {', '.join(names) or 'none'}")
            i = names.index(which)
        else:
            if not 1 <= which <= len(names):
                raise StyleError(f"no style {which}: the set holds {len(names)} style(s) (1..{len(names)})")
            i = which - 1
        self._activate(i)

    def step(self, by: int) -> None:
        """The next (``by`` 1) or previous (-1) style of the set, wrapping around."""
        if not self.entries:
            raise StyleError("no styles loaded; start with --style FOLDER (repeatable)")
        self._activate((self.active + by) % len(self.entries))

    def add(self, path: str | Path) -> None:
        """Make the folder ``path`` (created if missing) the active style, adding it to the set if it is new."""
        folder = StyleFolder(path)
        folder.create()
        for i, e in enumerate(self.entries):
            if e.folder.path.resolve() == folder.path.resolve():
                self._activate(i)
                return
        e = StyleEntry(folder)
        self._load(e)
        self.entries.append(e)
        self._activate(len(self.entries) - 1)

    def _activate(self, i: int, fade: bool = True) -> None:
        with self._lock:
            s = self.session
            if i == self.active and self.shown == i and s.stage.stylizer is self.entries[i].stylizer and fade:
                return  # already there
            if i != self.active and self.trainer is not None:  # only the active style trains
                self.trainer.close()
                self.trainer = None
                self.train_stats = {"state": "idle"}
            self.active = i
            e = self.entries[i]
            repainted = e.folder.path.is_dir() and e.folder.paint_signature() != e.sig
            if repainted:  # painted while it was not active: new helpers now, and training below
                e.sig, e.keyed = e.folder.paint_signature(), self.keyed(e)
            status = e.folder.status() if e.folder.path.is_dir() else {}
            if e.stylizer is not None or s.stage.stylizer is None:
                self._show(i, fade)  # nothing was shown yet: pass-through until this one has weights
            else:
                s.notify(f"style {e.name} has no model yet: {self.entries[self.shown].name} stays on until it has "
                         "weights", "warning")
            if not status:
                s.notify(f"{e.folder.path}: no keyframes yet; press snapshot, then paint or auto-style it", "warning")
            if s.cfg.train and "painted" in status.values() and not e.unreadable and (e.stylizer is None or repainted):
                self.start_trainer()

    def _show(self, i: int, fade: bool = True) -> None:
        e = self.entries[i]
        self.shown = i
        # A network trained with guides gets none without its keyframes (unreadable at start): the camera passes
        # through (the error said why) until they read again (``_repaint``), rather than fail on every frame.
        guides = 3 * (1 + len(e.keyed.trackers))  # RGB and each guide's 3 channels
        net = None if e.unreadable and e.stylizer is not None and e.stylizer.model.cfg.in_channels != guides \
            else e.stylizer
        self.session.stage.set_model(net, e.keyed, fade_s=self.session.settings.transition if fade else 0.0)
        if fade:
            self.session.notify(f"style: {e.name}")

    # -- the active style's folder and trainer -------------------------------------------
    def watch(self) -> None:
        """Called every 0.5 s: a new or changed painting of the active style rebuilds its keyframe helpers
        and (re)starts training."""
        with self._lock:  # not while a switch or new weights change the set
            e = self.entries[self.active] if self.entries else None
            if e is None:
                return
            if not e.folder.path.is_dir():  # deleted or renamed mid-show: said once, the style stays on
                if e.sig and not e.gone:
                    self.session.notify(f"style folder {e.folder.path} is gone (deleted or renamed); the live output "
                                        "goes on with the style it loaded; put the folder back (or load it where it "
                                        "went) to paint and train it again", "warning")
                e.gone = True
                return
            e.gone = False
            try:
                sig = e.folder.paint_signature()
            except (OSError, LivestyleError):
                return
            if sig != e.sig:
                self._repaint(e, sig)

    def _repaint(self, e: StyleEntry, sig: tuple) -> None:
        """The active style's paintings changed: new keyframe helpers, and (re)start its training."""
        e.sig, e.keyed = sig, self.keyed(e)
        if self.shown == self.active and self.session.stage.stylizer is e.stylizer:
            self.session.stage.set_keyed(e.keyed)
        elif self.shown == self.active:  # its network waited for readable keyframes (``_show``)
            self._show(self.active, fade=False)
        if self.session.cfg.train and "painted" in e.folder.status().values() and not e.unreadable:
            self.start_trainer()

    def start_trainer(self) -> None:
        e = self.entries[self.active] if self.entries else None
        if e is None:
            return
        if self.trainer is not None and self.trainer.alive:
            self.trainer.send("reload")
            return
        owner = self.active
        self.trainer = BackgroundTrainer(e.folder.path, self.train_config(), lambda ev: self._on_trainer(owner, ev))
        self.trainer.start()
        self.train_stats = {"state": "starting"}
        self.session.notify(f"training {e.name} started")

    def _on_trainer(self, owner: int, ev: TrainerEvent) -> None:
        if owner != self.active:
            return  # a closing trainer of a style no longer active
        if ev.stats is not None:
            self.train_stats = ev.stats
        s = self.session
        if ev.kind == "weights":
            state = ev.payload
            assert isinstance(state, dict)  # a weights event carries a state dict
            e = self.entries[owner]
            want = PRESETS[s.cfg.preset].with_inputs(state["stem.0.weight"].shape[1])
            with self._lock:
                if e.stylizer is None or e.stylizer.model.cfg != want:  # first weights, or built differently
                    gen = Generator(want)
                    gen.load_state_dict(state)
                    e.stylizer = Stylizer(gen, s.compute, s.cfg.phases, int8=s.cfg.int8)
                    if owner == self.active:
                        self._show(owner, fade=self.shown != owner)
                else:
                    e.stylizer.swap(state)
        elif ev.kind in ("error", "unsaved"):
            s.notify(str(ev.payload), "error")
            if ev.kind == "unsaved":
                self.unsaved.append(str(ev.payload))
        elif ev.kind == "saved":
            s.notify(f"model saved to {ev.payload}")
        elif ev.kind == "died":  # not training any more: say so, so that the train key and OSC start it again
            self.train_stats = {"state": "stopped"}
            s.notify(f"{ev.payload}; the live output goes on with the last weights; {s.restart_fix}", "error")

    def pause(self) -> None:
        if self.trainer is not None:
            self.trainer.send("pause")
            self.train_stats = {**self.train_stats, "state": "paused"}

    def resume(self) -> None:
        if self.trainer is None or not self.trainer.alive:
            self.start_trainer()
        else:
            self.trainer.send("resume")

    def close(self) -> None:
        if self.trainer is not None:
            self.trainer.close()
