"""Tables and derived checks of ``calibration/quality.py`` (also used by its ``--report``).

A row is one scored snapshot: a configuration (``Run``) at one budget, with the
post-processing of ``livestyle render`` applied (keyframe carry, output stabiliser).
"""

from __future__ import annotations

from dataclasses import dataclass

from common import markdown_table, mix_name
from gt_styles import ATTACHED_STYLES, LOCAL_STYLES  # noqa: I001

from livestyle.engine.infer import PHASES
from livestyle.engine.prior import prior_path
from livestyle.engine.train import TrainConfig
from livestyle.live.config import LiveConfig
from livestyle.temporal import CARRY, STEADY


@dataclass
class Run:
    """One training configuration on one scene."""

    photo: str
    style: str
    preset: str
    mix: str
    guides: bool
    init: str = "prior"  # TrainConfig.init; presets without a prior start from random weights either way

    @property
    def label(self) -> str:
        scratch = "/scratch" if self.init == "scratch" and prior_path(self.preset).is_file() else ""
        return f"{self.preset}/{self.mix}/{'blobs' if self.guides else 'no guide'}{scratch}"


def default_run(photo: str, style: str) -> Run:
    """The configuration ``livestyle train`` uses by default (read from ``TrainConfig()``)."""
    d = TrainConfig()
    return Run(photo, style, d.preset, mix_name(d.l1, d.perceptual, d.adversarial), bool(d.guides), d.init)


LIVE_PREFIX = "LIVE "  # rows of the live path (``livestyle render --live``) carry this before their label


def is_live(r: dict) -> bool:
    return r.get("path") == "live"


def post(r: dict) -> tuple[float, float, int]:
    """A row's inference and post-processing: (keyframe carry strength, output stabiliser strength,
    phases averaged); older JSON files have no carry (added later: 0) and no phases (1)."""
    return float(r.get("carry", 0.0)), float(r["steady"]), int(r.get("phases", 1))


def post_label(p: tuple[float, float, int]) -> str:
    carry, steady, phases = p
    return ((f" +phases {phases}" if phases > 1 else "") + (f" +carry {carry:g}" if carry else "")
            + (f" +steady {steady:g}" if steady else ""))


def _f(v: float | None, nd: int) -> str:
    return "—" if v is None else f"{v:.{nd}f}"


def table(rows: list[dict], base: dict[str, dict]) -> str:
    out = []
    for scene_key, b in base.items():
        photo, style = scene_key.split("/")
        for name, m in b.items():
            cfg = "GT (own warp error)" if name == "GT" else f"baseline: {name}"
            out.append([photo, style, cfg, "—", "—", _f(m["psnr"], 2), _f(m["ssim"], 4), _f(m["warp"], 3)])
        for r in rows:
            if (r["photo"], r["style"]) == (photo, style):
                out.append([photo, style, r["config"], f"{r['budget']:g}", r["its"], _f(r["psnr"], 2),
                            _f(r["ssim"], 4), _f(r["warp"], 3)])
    return markdown_table(["photo", "style", "config (preset/loss mix/guide)", "budget", "its", "PSNR dB", "SSIM",
                           "warp err x1e3"], out)


def checks(rows: list[dict], base: dict[str, dict], budgets: list[float], unit: str = "s") -> list[str]:
    """The five derived checks of the issue and the prior's own, as Markdown lines (verdict first, then evidence).

    Rows are compared only with rows of the same post-processing (carry, steady, phases); checks 3
    and 5 judge the default pipeline (``CARRY``, ``STEADY``, ``PHASES``), as ``livestyle render`` runs
    it (a results file with no phases field was made with 1 phase).
    """
    live_rows = [r for r in rows if is_live(r)]
    rows = [r for r in rows if not is_live(r)]
    bs = sorted(budgets)
    early, mid, last = bs[:-1], bs[-2] if len(bs) > 1 else bs[0], bs[-1]
    by = {(r["photo"], r["style"], r["preset"], r["mix"], r["guides"], r["budget"], post(r), r["init"]): r
          for r in rows}
    phases = PHASES if any(post(r)[2] == PHASES for r in rows) else 1
    default_post = (CARRY, STEADY, phases)
    fast = TrainConfig().preset
    out: list[str] = []

    def verdict(n: int, text: str, oks: list[bool], ev: list[str]) -> None:
        v = "n/a (no rows)" if not oks else ("YES" if all(oks) else f"NO ({oks.count(False)}/{len(oks)} fail)")
        out.append(f"{n}. {text}: **{v}**")
        out.extend(f"   - {e}" for e in ev)

    oks, ev = [], []
    for (ph, st, pr, mx, g, b, sd, i), r in by.items():
        p = by.get((ph, st, "paper", mx, g, b, sd, i))
        if pr == fast and b in early and p is not None:
            ok = r["psnr"] > p["psnr"] and r["ssim"] > p["ssim"]
            oks.append(ok)
            ev.append(f"{ph}/{st} {r['config']} @{b:g}{unit}: {fast} {r['psnr']:.2f} dB / "
                      f"{r['ssim']:.4f} vs paper {p['psnr']:.2f} dB / {p['ssim']:.4f} ({r['its']} vs {p['its']} its)")
    verdict(1, f"at {', '.join(f'{b:g}' for b in early)} {unit} {fast} beats paper in PSNR and SSIM (same loss mix)", oks, ev)

    oks, ev = [], []
    for (ph, st, pr, mx, g, b, sd, i), r in by.items():
        f = by.get((ph, st, pr, mx, g, last, sd, i))
        if pr == fast and b == mid and f is not None and mid != last:
            if i == TrainConfig().init:  # the verdict is the default's; other starts are evidence only
                oks.append(r["ssim"] >= 0.95 * f["ssim"])
            ev.append(f"{ph}/{st} {r['config']}{'' if i == TrainConfig().init else ' (not the default)'}: SSIM {r['ssim']:.4f} @{mid:g}{unit} = "
                      f"{100 * r['ssim'] / f['ssim']:.1f}% of {f['ssim']:.4f} @{last:g}{unit}")
    verdict(2, f"{fast} (default start) reaches 95% of its {last:g} {unit} SSIM within {mid:g} {unit}", oks, ev)

    oks, ev = [], []
    for key, b in base.items():
        ph, st = key.split("/")
        d = default_run(ph, st)
        r = by.get((ph, st, d.preset, d.mix, d.guides, mid, default_post, d.init))
        if st in LOCAL_STYLES and r is not None:
            bi, bc = b["input"], b["carried key"]
            oks.append(r["psnr"] > max(bi["psnr"], bc["psnr"]) and r["ssim"] > max(bi["ssim"], bc["ssim"]))
            ev.append(f"{key} @{mid:g}{unit}: {r['psnr']:.2f} dB / {r['ssim']:.4f} vs input {bi['psnr']:.2f} / "
                      f"{bi['ssim']:.4f}, carried key {bc['psnr']:.2f} / {bc['ssim']:.4f}")
            alone = by.get((ph, st, d.preset, d.mix, d.guides, mid, (0.0, STEADY, phases), d.init))
            if alone is not None and default_post[0]:  # evidence only: the network without the keyframe carry
                beats = alone["psnr"] > max(bi["psnr"], bc["psnr"]) and alone["ssim"] > max(bi["ssim"], bc["ssim"])
                ev.append(f"  (network alone, no carry: {alone['psnr']:.2f} dB / {alone['ssim']:.4f}: "
                          f"{'beats both' if beats else 'does not beat both'})")
    verdict(3, f"after {mid:g} {unit} the default config ({default_run('', '').label}{post_label(default_post)}) beats both baselines on every "
            "local-filter style (PSNR and SSIM)", oks, ev)

    oks, ev = [], []
    for (ph, st, pr, mx, g, b, sd, i), r in by.items():
        off = by.get((ph, st, pr, mx, False, b, sd, i))
        if st in ATTACHED_STYLES and g and off is not None:
            if not sd[0]:  # the guide is the network's input: judged on the network's output, before the carry
                oks.append(r["psnr"] > off["psnr"])
            ev.append(f"{ph}/{st} {pr}/{mx}{'/scratch' if i == 'scratch' else ''}{post_label(sd)} @{b:g}{unit}: blobs {r['psnr']:.2f} dB vs no guide {off['psnr']:.2f} dB "
                      f"(SSIM {r['ssim']:.4f} vs {off['ssim']:.4f}){' (with the carry: evidence only)' if sd[0] else ''}")
    verdict(4, "with the blob guide the attached-texture style's PSNR is higher than without (the network's output, "
            "without the keyframe carry)", oks, ev)

    oks, ev = [], []
    for key, b in base.items():
        ph, st = key.split("/")
        d = default_run(ph, st)
        for bud in bs:
            r = by.get((ph, st, d.preset, d.mix, d.guides, bud, default_post, d.init))
            if r is not None:
                oks.append(r["warp"] <= b["GT"]["warp"])
                ev.append(f"{key} @{bud:g}{unit}: {r['warp']:.3f} vs GT {b['GT']['warp']:.3f} "
                          f"(x{r['warp'] / b['GT']['warp']:.2f})")
    verdict(5, f"the default config's ({post_label(default_post).strip()}) warping error is not worse than the GT's own", oks, ev)

    oks, ev = [], []
    for (ph, st, pr, mx, g, b, sd, i), r in by.items():
        sc = by.get((ph, st, pr, mx, g, b, sd, "scratch"))
        if i == "prior" and sc is not None and prior_path(pr).is_file():
            oks.append(r["psnr"] > sc["psnr"] and r["ssim"] > sc["ssim"])
            ev.append(f"{ph}/{st} {r['config']} @{b:g}{unit}: prior {r['psnr']:.2f} dB / {r['ssim']:.4f} vs scratch "
                      f"{sc['psnr']:.2f} / {sc['ssim']:.4f} ({r['psnr'] - sc['psnr']:+.2f} dB, {r['ssim'] - sc['ssim']:+.4f})")
    verdict(6, "starting from the shipped prior beats random weights at equal time (PSNR and SSIM)", oks, ev)
    if live_rows:
        live_at = 15.0 if 15.0 in bs else mid  # issue 16's bounds are at 15 s of training
        out += live_checks(live_rows, by, base, live_at, default_post, unit, start=7)
    return out


def live_checks(live_rows: list[dict], by: dict, base: dict[str, dict], mid: float,
                render_post: tuple[float, float, int], unit: str, start: int = 7) -> list[str]:
    """The live path against ``livestyle render`` on the same snapshots (issue 16's bounds), for the live
    defaults (``LiveConfig()``): on average within 0.3 dB PSNR and 0.01 SSIM of render at ``mid``, never
    more than 1 dB below on a scene; above the carried keyframe on every local-filter scene; warping
    error at or under the GT's own on every row."""
    out: list[str] = []
    n = start
    for scale in sorted({float(r.get("render_scale", 1.0)) for r in live_rows}, reverse=True):
        for every in sorted({int(r.get("carry_every", 1)) for r in live_rows}):
            rows = [r for r in live_rows if int(r.get("carry_every", 1)) == every
                    and float(r.get("render_scale", 1.0)) == scale]
            if rows:
                out += _live_checks(rows, by, base, mid, render_post, unit, n, every, scale)
                n += 3
    return out


def _live_checks(live_rows: list[dict], by: dict, base: dict[str, dict], mid: float,
                 render_post: tuple[float, float, int], unit: str, start: int, every: int,
                 scale: float = 1.0) -> list[str]:
    d = LiveConfig()
    live_post = (d.carry, d.steady, d.phases)
    cores = "4+ cores" if every == 1 else "2-3 cores"
    tag = f" [key flow every {every}: {cores}{'' if scale == 1.0 else f'; render scale {scale:g}'}]"
    out: list[str] = []

    def verdict(n: int, text: str, oks: list[bool], ev: list[str]) -> None:
        v = "n/a (no rows)" if not oks else ("YES" if all(oks) else f"NO ({oks.count(False)}/{len(oks)} fail)")
        out.append(f"{n}. {text}: **{v}**")
        out.extend(f"   - {e}" for e in ev)

    defaults = [r for r in live_rows if post(r) == live_post and r.get("denoise", True) == d.denoise]
    pairs = []
    for r in defaults:
        if r["budget"] != mid:
            continue
        twin = by.get((r["photo"], r["style"], r["preset"], r["mix"], r["guides"], r["budget"], render_post, r["init"]))
        if twin is not None:
            pairs.append((r, twin))
    dp = [r["psnr"] - t["psnr"] for r, t in pairs]
    ds = [r["ssim"] - t["ssim"] for r, t in pairs]
    ev = [f"{r['photo']}/{r['style']} {r['config']} @{mid:g}{unit}: live {r['psnr']:.2f} dB / {r['ssim']:.4f} vs render "
          f"{t['psnr']:.2f} / {t['ssim']:.4f} ({r['psnr'] - t['psnr']:+.2f} dB, {r['ssim'] - t['ssim']:+.4f})" for r, t in pairs]
    if pairs:
        ev.insert(0, f"mean {sum(dp) / len(dp):+.2f} dB, {sum(ds) / len(ds):+.4f} SSIM; worst {min(dp):+.2f} dB")
    oks = [sum(dp) / len(dp) >= -0.3 and sum(ds) / len(ds) >= -0.01 and min(dp) >= -1.0] if pairs else []
    verdict(start, f"live defaults ({post_label(live_post).strip()}){tag} within 0.3 dB / 0.01 SSIM of render on average at "
            f"{mid:g} {unit}, never more than 1 dB below", oks, ev)

    oks, ev = [], []
    for r in defaults:
        key = f"{r['photo']}/{r['style']}"
        if r["budget"] == mid and r["style"] in LOCAL_STYLES and key in base:
            bc = base[key]["carried key"]
            oks.append(r["psnr"] > bc["psnr"] and r["ssim"] > bc["ssim"])
            ev.append(f"{key} @{mid:g}{unit}: live {r['psnr']:.2f} dB / {r['ssim']:.4f} vs carried key "
                      f"{bc['psnr']:.2f} / {bc['ssim']:.4f}")
    verdict(start + 1, f"live defaults{tag} beat the carried keyframe (PSNR and SSIM) on every local-filter scene", oks, ev)

    oks, ev = [], []
    for r in defaults:
        key = f"{r['photo']}/{r['style']}"
        if key in base:
            gt = base[key]["GT"]["warp"]
            oks.append(r["warp"] <= gt)
            ev.append(f"{key} @{r['budget']:g}{unit}: live {r['warp']:.3f} vs GT {gt:.3f} (x{r['warp'] / gt:.2f})")
    verdict(start + 2, f"live defaults'{tag} warping error is not worse than the GT's own", oks, ev)
    return out
