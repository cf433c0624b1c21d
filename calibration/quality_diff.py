"""Per-scene differences between two ``calibration/quality.py --json`` runs (A -> B), render and live rows apart.

    python calibration/quality_diff.py A.json B.json

Prints, for every row both runs scored (same photo, style, path and configuration), PSNR, SSIM and warping error
A -> B, then the mean PSNR and SSIM of each path and their change. Use it for before/after runs of one change
(the same command, two versions of the code or one switch flipped).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path


def rows(path: Path) -> dict[tuple[str, str, str, str], dict]:
    runs = json.loads(path.read_text())["runs"]
    return {(r["photo"], r["style"], r["path"], r["config"]): r for r in runs}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    args = ap.parse_args()
    a, b = rows(args.a), rows(args.b)
    by_path: dict[str, list[tuple[dict, dict]]] = defaultdict(list)
    for key, ra in a.items():
        rb = b.get(key)
        if rb is None:
            continue
        photo, style, path, config = key
        by_path[f"{path} {config}" if path != "render" else path].append((ra, rb))
        print(f"{photo:9s} {style:8s} {path:7s} {ra['psnr']:.2f} -> {rb['psnr']:.2f} ({rb['psnr'] - ra['psnr']:+.2f})  "
              f"ssim {ra['ssim']:.4f} -> {rb['ssim']:.4f}  warp {ra['warp']:.3f} -> {rb['warp']:.3f}")
    for name, pairs in by_path.items():
        n = len(pairs)
        pa, pb = (sum(p[i]["psnr"] for p in pairs) / n for i in (0, 1))
        sa, sb = (sum(p[i]["ssim"] for p in pairs) / n for i in (0, 1))
        print(f"{name}: mean PSNR {pa:.2f} -> {pb:.2f} ({pb - pa:+.3f}), SSIM {sa:.4f} -> {sb:.4f} ({sb - sa:+.4f}), "
              f"{n} scenes")


if __name__ == "__main__":
    main()
