#!/usr/bin/env bash
# The live path on this machine's CPU, measured: one script for any computer (a laptop, a new dev machine), ~6-10
# minutes, no GPU used. Run it from a checkout whose venv is active (README's quick start):
#
#   bash calibration/cpu_check.sh            # results in ./cpu-check/cpu_check.md (or $OUT when set)
#   CALIBRATE=0 bash calibration/cpu_check.sh   # without step 5
#
# 1. the machine: CPU model, cores, the instruction sets that matter (AVX2, AVX-512, BF16, VNNI, AMX), versions;
# 2. a 640x360 and a 1280x720 clip of a real photo moving (astronaut, homographies, 30 fps) and a style made
#    from each clip's first frame, trained for 15 s with `livestyle train` (the training speed is in its line);
# 3. bench_live with the live defaults on those clips (no calibration file: LIVESTYLE_CONFIG_DIR is empty):
#    640x360 plain and masked; 1280x720 at full size, and at render scale 0.5 with the coarse and fine key flow;
# 4. on a CPU with AVX-512, the 640x360 rows again restricted to AVX2 (how an AVX2 laptop would run them);
# 5. `livestyle calibrate`: what it chooses on this machine and the rate it measured.
# Every step appends to $OUT/cpu_check.md; a step that fails is logged and the next one runs. Close other
# programs first: the figures are the machine's, shared with whatever else runs.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/cpu-check}
mkdir -p "$OUT"
MD=$OUT/cpu_check.md
WORK=$(mktemp -d)
export PYTHONUNBUFFERED=1 LIVESTYLE_CONFIG_DIR=$WORK/config
PY=${PYTHON:-python3}
T0=$(date +%s)

LOG=$OUT/cpu_check.log
TAIL=40
source calibration/check_steps.sh  # step()

echo "# livestyle CPU check, $(date -u +%Y-%m-%dT%H:%MZ)" >"$MD"
{
  echo '```'
  echo "CPU: $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p'), $(nproc) cores available"
  echo "instruction sets: $(grep -o -w -E 'avx2|avx512f|avx512_bf16|avx512_vnni|avx_vnni|amx_tile|amx_bf16|amx_int8' \
    /proc/cpuinfo 2>/dev/null | sort -u | tr '\n' ' ')"
  $PY -c "import torch, cv2, numpy; print('torch', torch.__version__, '| opencv', cv2.__version__, '| numpy', numpy.__version__)"
  $PY -c "import openvino; print('openvino', openvino.__version__)" 2>&1 | tail -1
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
  echo '```'
  echo
} >>"$MD"

# Step 2: the clips (AVI, MJPG: OpenCV writes it everywhere) and their styles.
$PY - "$WORK" <<'PYEOF' >>"$OUT/cpu_check.log" 2>&1
import sys
from pathlib import Path

import cv2

sys.path.insert(0, "calibration")
from gt_styles import LOCAL_STYLES
from livestyle.capture.synthclip import homography_clip, load_photo

work = Path(sys.argv[1])
for w, h in ((640, 360), (1280, 720)):
    clip = homography_clip(load_photo("astronaut"), 150, (w, h), 0, "mixed")
    vw = cv2.VideoWriter(str(work / f"clip{h}.avi"), cv2.VideoWriter.fourcc(*"MJPG"), 30, (w, h))
    for f in clip.frames:
        vw.write(f)
    vw.release()
    style = work / f"style{h}"
    (style / "keys").mkdir(parents=True)
    (style / "styled").mkdir()
    cv2.imwrite(str(style / "keys" / "000.png"), clip.frames[0])
    cv2.imwrite(str(style / "styled" / "000.png"), LOCAL_STYLES["stylize"](clip.frames[0]))
PYEOF
for h in 360 720; do
  step 60 "livestyle train, 15 s, the ${h}p style" -- $PY -m livestyle train "$WORK/style$h" --seconds 15
done

bench() {  # bench HEIGHT EXTRA-FLAGS...: the table (the network's runtime above it), not the JSON lines
  local h=$1; shift
  $PY calibration/bench_live.py --style "$WORK/style$h" --source "$WORK/clip$h.avi" --sizes "$((h * 16 / 9))x$h" \
    --seconds 10 --warmup 3 "$@" | grep -v '^{'
}
export -f bench
export PY WORK
step 90 "bench_live, live defaults, 640x360, plain and masked" -- bash -c "bench 360 --modes plain,masked"
step 60 "bench_live, live defaults, 1280x720 at full size" -- bash -c "bench 720 --modes plain"
step 60 "bench_live, 1280x720, --render-scale 0.5 (coarse key flow)" -- bash -c "bench 720 --modes plain --render-scale 0.5 --key-flow coarse"
step 60 "bench_live, 1280x720, --render-scale 0.5 --key-flow fine" -- bash -c "bench 720 --modes plain --render-scale 0.5 --key-flow fine"
if grep -q -w avx512f /proc/cpuinfo 2>/dev/null; then
  step 90 "bench_live, live defaults, 640x360, restricted to AVX2 (ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 OV_CPU_MAX_ISA=AVX2)" -- \
    env ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 OV_CPU_MAX_ISA=AVX2 bash -c "bench 360 --modes plain,masked"
fi
if [ "${CALIBRATE:-1}" != 0 ]; then
  step 420 "livestyle calibrate (what live would use on this machine)" -- $PY -m livestyle calibrate
fi
echo "total $(( $(date +%s) - T0 )) s" >>"$MD"
rm -rf "$WORK"
cat "$MD"
