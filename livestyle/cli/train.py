"""``livestyle train``: train a style folder's model with a progress line, save it atomically."""

from __future__ import annotations

import argparse
import sys

from livestyle.engine import checkpoint
from livestyle.engine.checkpoint import ModelInfo
from livestyle.engine.model import DEFAULT_PRESET, PRESETS
from livestyle.engine.train import TrainConfig, Trainer, TrainStats
from livestyle.errors import LivestyleError, check_positive, check_range
from livestyle.files.safepaths import check_writable
from livestyle.progress import Progress
from livestyle.style import StyleFolder

# Where Ctrl-C's model goes when the style already had one (which stays as it was).
STOPPED_FILE = "model.stopped.safetensors"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("style", help="style folder with keys/, styled/ and optional masks/")
    p.add_argument("--seconds", type=float, help="training budget in seconds (default: stop by itself)")
    p.add_argument("--iterations", type=int, help="training budget in iterations")
    p.add_argument("--preset", default=DEFAULT_PRESET, metavar="|".join(sorted(PRESETS)), help="network preset")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda[:N] (default auto: CUDA where available, else the CPU)")
    p.add_argument("--precision", default="auto", help="auto | fp32 | bf16 | fp16")
    p.add_argument("--no-guides", action="store_true", help="train without the Gaussian-blob guide")
    p.add_argument("--loss", default=None, metavar="L1,PERC,ADV",
                   help="loss weights, e.g. 4,6,0.5 for the paper's mix (default: measured best)")
    p.add_argument("--init", default=TrainConfig.init, metavar="prior|scratch",
                   help="starting weights: the preset's shipped prior (learns a style in fewer steps) or "
                        "random, as the paper (default: prior)")
    p.add_argument("--resume", action="store_true", help="start from the saved model instead")
    p.add_argument("--seed", type=int, default=0, help="random seed of the patches and weights (default 0)")


def config_from_args(a: argparse.Namespace) -> TrainConfig:
    l1, perc, adv = TrainConfig.l1, TrainConfig.perceptual, TrainConfig.adversarial  # the defaults
    if a.loss:
        try:
            l1, perc, adv = (float(v) for v in a.loss.split(","))
        except ValueError:
            raise LivestyleError(f"--loss {a.loss!r}: give three numbers L1,PERC,ADV such as 4,6,0.5") from None
        for name, w in (("L1", l1), ("PERC", perc), ("ADV", adv)):
            check_range(f"--loss weight {name}", w, 0, 1000)
        if l1 + perc + adv == 0:
            raise LivestyleError(f"--loss {a.loss!r}: all three weights are 0, nothing would be learned; "
                                 "give at least one above 0, such as 4,6,0.5")
    check_positive("--seconds", a.seconds)
    check_range("--iterations", a.iterations, 1, None, integer=True)
    check_range("--seed", a.seed, 0, 2**32 - 1, integer=True)
    return TrainConfig(preset=a.preset, seconds=a.seconds, iterations=a.iterations, device=a.device,
                       precision=a.precision, guides=() if a.no_guides else ("blobs",), seed=a.seed,
                       l1=l1, perceptual=perc, adversarial=adv, init=a.init)


def run(a: argparse.Namespace) -> int:
    cfg = config_from_args(a)
    style = StyleFolder(a.style)
    keyframes = style.load(strict=True)
    if style.model_path.is_dir():
        raise LivestyleError(f"{style.model_path}: a folder, not a model file; move it away so that training can "
                             "save the model there")
    check_writable(style.model_path, fix=f"make {style.path} writable, or copy the style folder to a place you can "
                   "write to")  # before the minutes of training, not after
    init = None
    if a.resume and style.model_path.exists():
        model, info = checkpoint.load(style.model_path, expect_preset=cfg.preset)
        if model.cfg != PRESETS[cfg.preset].with_inputs(3 + 3 * len(cfg.guides)):
            raise LivestyleError(f"{style.model_path}: built with other guides or an older version of the "
                                 f"{cfg.preset!r} preset; train without --resume to start a new one")
        init = model.state_dict()
    total = cfg.iterations if cfg.iterations else None
    bar = Progress(total, "train", "it")

    def show(st: TrainStats) -> None:
        extra = f"loss {st.loss:.4f}  key-L1 {st.eval_loss:.4f}  {st.its_per_s:.1f} it/s"
        bar.update(st.iteration, extra)

    trainer = Trainer(keyframes, cfg, on_progress=show, init_state=init)
    start = {"given": "the saved model", "prior": "the shipped prior", "scratch": "random weights"}[trainer.init]
    print(f"livestyle: training {style.path} ({len(keyframes)} keyframe(s), preset {cfg.preset}, from {start}, "
          f"{trainer.compute.describe()})", file=sys.stderr)
    interrupted = False
    try:
        st = trainer.run()
    except KeyboardInterrupt:
        interrupted = True
        st = trainer.stats
        st.state = "stopped"
    bar.close(st.iteration, f"loss {st.loss:.4f}  key-L1 {st.eval_loss:.4f}  ({st.state})")
    if st.iteration == 0:
        print("livestyle: no iteration finished; nothing saved", file=sys.stderr)
        return 130 if interrupted else 1
    info = ModelInfo(preset=cfg.preset, config=trainer.gen_cfg,
                     guides=[{"name": n} for n in cfg.guides],
                     train={"iterations": st.iteration, "seconds": round(st.elapsed, 2),
                            "loss": st.loss, "key_l1": st.eval_loss, "state": st.state,
                            "init": "resumed" if trainer.init == "given" else trainer.init,
                            "keyframes": [k.name for k in keyframes],
                            "signature": repr(style.paint_signature())})
    if interrupted and style.model_path.exists():
        # An interrupted command leaves what was there: the stopped training goes beside the saved model.
        stopped = style.model_path.with_name(STOPPED_FILE)
        checkpoint.save(stopped, trainer.result, info)
        print(f"livestyle: interrupted after {st.iteration} iterations: kept {style.model_path} as it was; "
              f"the stopped training is in {stopped} (rename it to {style.model_path.name} to use it)",
              file=sys.stderr)
        return 130
    checkpoint.save(style.model_path, trainer.result, info)
    print(f"livestyle: saved {style.model_path} after {st.iteration} iterations, {st.elapsed:.1f}s "
          f"({st.state}{'; ' + st.error if st.error else ''})", file=sys.stderr)
    return 130 if interrupted else 0
