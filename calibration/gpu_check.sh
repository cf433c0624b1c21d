#!/usr/bin/env bash
# The CUDA path, measured: one script for a machine with an NVIDIA GPU, at most ~8 minutes.
#
#   bash calibration/gpu_check.sh            # results in ./gpu-check/ (or $OUT when set)
#
# (mediapipe's masked mode needs libEGL.so.1: on a bare machine unpack libegl1/libglvnd0/libgles2 first.)
# 1. installs what is missing: wheels in .whl/ (offline machines: mediapipe, pyvirtualcam,
#    platformdirs for Python 3.12) into /tmp/livestyle-site, else `pip install -e .` when online;
# 2. the tests that touch CUDA (tests/test_cuda.py) and the inference, live-replay and training tests
#    (which pick the GPU by themselves);
# 3. bench_infer on CUDA (fast, quality, paper; fp16 and bf16; 640x360 and 1280x720);
# 4. bench_live on CUDA (synthetic source at 120 fps so the camera is not the limit; 640x360 and
#    1280x720; plain and masked; one pass without the carry, and 4 phases with the carry; 1280x720 live
#    defaults with the carry's key flows 1 and 2 at once);
# 5. a 15 s training in bf16 and in fp16 with `livestyle train --device cuda`, then `livestyle render`
#    and `livestyle render --live` of a 120-frame 640x360 clip on CUDA, timed;
# 6. quality.py on CUDA (15 s budget, render and live paths on the same snapshots).
# Every step appends to $OUT/gpu_check.md; a step that fails is logged and the next one runs.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu-check}
mkdir -p "$OUT"
MD=$OUT/gpu_check.md
export PYTHONUNBUFFERED=1 LIVESTYLE_CONFIG_DIR=$(mktemp -d)
PY=${PYTHON:-python3}
T0=$(date +%s)

LOG=$OUT/gpu_check.log
source calibration/check_steps.sh  # step()

echo "# livestyle GPU check, $(date -u +%Y-%m-%dT%H:%MZ)" >"$MD"
if ls .whl/*.whl >/dev/null 2>&1; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/livestyle-site .whl/*.whl \
    >>"$OUT/gpu_check.log" 2>&1
  export PYTHONPATH=/tmp/livestyle-site:$PWD
else  # online: the dependencies, and this checkout on the path (no install that would re-point another one)
  $PY -m pip install -q -r <($PY -c "import tomllib; d = tomllib.load(open('pyproject.toml', 'rb'))['project']; print('\n'.join(d['dependencies'] + d['optional-dependencies']['test']))") \
    >>"$OUT/gpu_check.log" 2>&1 || true
  export PYTHONPATH=$PWD
fi
{
  echo '```'
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1
  $PY -c "import torch, cv2, numpy; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0), '| opencv', cv2.__version__, '| numpy', numpy.__version__)" 2>&1
  $PY -c "import mediapipe; print('mediapipe', mediapipe.__version__)" 2>&1 | tail -1
  echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
  echo '```'
  echo
} >>"$MD"

step 110 "Tests that touch CUDA" -- $PY -m pytest -q -p no:cacheprovider tests/test_cuda.py tests/test_infer.py tests/test_render_live.py -x
step 45 "bench_infer, CUDA" -- $PY calibration/bench_infer.py --device cuda --presets fast,quality,paper \
  --variants fp16-cl,bf16-cl --sizes 640x360,1280x720 --batches 1 --channels 6 --runs 20
step 60 "bench_live, CUDA, one pass, no carry" -- $PY calibration/bench_live.py --device cuda --fps 120 --seconds 3 \
  --warmup 2 --sizes 640x360,1280x720 --modes plain,masked --carry 0 --phases 1
step 60 "bench_live, CUDA, 4 phases + keyframe carry" -- $PY calibration/bench_live.py --device cuda --fps 120 \
  --seconds 3 --warmup 2 --sizes 640x360,1280x720 --modes plain,masked --carry 1 --phases 4
step 40 "bench_live, CUDA, 1280x720 live defaults, the carry's key flows 1 then 2 at once (live.carrying.FLOW_WORKERS)" \
  -- bash -c "for n in 1 2; do $PY calibration/bench_live.py --device cuda --fps 120 --seconds 3 --warmup 2 \
  --sizes 1280x720 --modes plain --flow-workers \$n | tail -1; done"

# A 640x360 clip and a one-keyframe style made from its first frame (a real photo moved by homographies).
$PY - <<'PYEOF' >>"$OUT/gpu_check.log" 2>&1
import cv2, sys
from pathlib import Path
sys.path.insert(0, "calibration")
from gt_styles import LOCAL_STYLES
from livestyle.capture.synthclip import homography_clip, load_photo
clip = homography_clip(load_photo("astronaut"), 120, (640, 360), 0, "mixed")
d = Path("/tmp/gpuclip"); d.mkdir(exist_ok=True)
vw = cv2.VideoWriter("/tmp/gpuclip.avi", cv2.VideoWriter.fourcc(*"MJPG"), 30, (640, 360))
for i, f in enumerate(clip.frames):
    cv2.imwrite(str(d / f"{i:03d}.png"), f)
    vw.write(f)
vw.release()
for prec in ("bf16", "fp16"):
    s = Path(f"/tmp/gpustyle-{prec}")
    (s / "keys").mkdir(parents=True, exist_ok=True); (s / "styled").mkdir(exist_ok=True)
    cv2.imwrite(str(s / "keys" / "000.png"), clip.frames[0])
    cv2.imwrite(str(s / "styled" / "000.png"), LOCAL_STYLES["stylize"](clip.frames[0]))
PYEOF
for prec in bf16 fp16; do
  step 30 "livestyle train, 15 s, CUDA $prec" -- $PY -m livestyle train /tmp/gpustyle-$prec --seconds 15 --device cuda --precision $prec
done
step 50 "bench_live, CUDA, live defaults, a real photo moving (astronaut, 640x360 video file, its 15 s style)" -- \
  $PY calibration/bench_live.py --device cuda --fps 30 --seconds 4 --warmup 2 --style /tmp/gpustyle-bf16 \
  --source /tmp/gpuclip.avi --modes plain,masked --sizes 640x360 --phases 4
step 35 "livestyle render (offline defaults), 120 frames 640x360, CUDA" -- bash -c \
  "time $PY -m livestyle render /tmp/gpustyle-bf16 /tmp/gpuclip /tmp/gpu-render --device cuda"
step 35 "livestyle render --live, 120 frames 640x360, CUDA (live defaults)" -- bash -c \
  "time $PY -m livestyle render /tmp/gpustyle-bf16 /tmp/gpuclip /tmp/gpu-live --live --device cuda"
step 35 "livestyle render --live --phases 4 --carry 1, CUDA" -- bash -c \
  "time $PY -m livestyle render /tmp/gpustyle-bf16 /tmp/gpuclip /tmp/gpu-live4 --live --phases 4 --carry 1 --device cuda"
step 110 "quality.py on CUDA (bf16, 15 s): render and live paths, same snapshots" -- $PY calibration/quality.py \
  --device cuda --precision bf16 --photos astronaut --styles stylize,brush --budgets 15 \
  --live-carry 0,1 --live-phases 1,4 --live-every 1 --json "$OUT/quality-cuda.json"
echo "total $(( $(date +%s) - T0 )) s" >>"$MD"
cat "$MD"
