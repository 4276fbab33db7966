#!/bin/bash
# onnx-mini next to ONNX Runtime on the benchmark MLPs, in one table.
#
#   bench/compare_ort.sh [BUILD_DIR]        (default: build)
#
# Needs BUILD_DIR/bin/onnx-run; writes the models with
# bench/make_bench_models.py into BUILD_DIR/bench_models. ONNX Runtime comes from
#   (cd BUILD_DIR/ort && npm install --ignore-scripts onnxruntime-node@1.30.0)
# and its columns are skipped, with a note, when that is not installed.
#
# Latency = median of many runs of one inference, in microseconds.
# onnx-mini runs under two OpenBLAS configurations, both in this one table:
#   env  : the environment as it is (on this machine OPENBLAS_CORETYPE=Haswell:
#          AVX2 kernels);
#   auto : OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for that command alone,
#          so OpenBLAS picks its kernels for the CPU (AVX-512 here), as on a
#          typical user's machine.
# ratio = onnx-mini / ORT: below 1.0 onnx-mini is faster.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
RUN="$BUILD/bin/onnx-run"
MODELS="$BUILD/bench_models"
ORT_MODULES="$BUILD/ort/node_modules"
PY=/usr/bin/python3

[ -x "$RUN" ] || { echo "missing $RUN: build the onnx-run target first" >&2; exit 2; }
"$PY" "$SRC/bench/make_bench_models.py" "$MODELS" >/dev/null

have_ort=0
if [ -d "$ORT_MODULES/onnxruntime-node" ] && command -v node >/dev/null; then have_ort=1; fi

# runs per measurement: about 0.3-1 s each.
runs_for() {  # model batch
  case "$1/$2" in
    deep20x512/256) echo 40 ;;
    deep20x512/16|*/256) echo 150 ;;
    deep20x512/1|*/16) echo 800 ;;
    *) echo 3000 ;;
  esac
}

mini_us() {  # model batch threads runs [env -u ... prefix words]
  local model=$1 batch=$2 threads=$3 runs=$4
  shift 4
  "$@" "$RUN" "$MODELS/mlp_$model.onnx" --dim N="$batch" --threads "$threads" --repeat "$runs" --json |
    grep -o '"median_ms": [0-9.e+-]*' | awk '{printf "%.1f", $2 * 1000}'
}

ort_us() {  # model-file batch width threads runs
  NODE_PATH="$ORT_MODULES" node "$SRC/bench/ort_bench.js" "$@" |
    grep -o '"median_ms":[0-9.e+-]*' | cut -d: -f2 | awk '{printf "%.1f", $1 * 1000}'
}

echo "onnx-mini vs ONNX Runtime: MLP inference latency (median, microseconds)"
echo "date:      $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine:   $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores; load average:$(uptime | sed 's/.*load average://')"
echo "openblas:  env = OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-<unset>} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-<unset>};" \
     "auto = both unset for that command alone"
echo "models:    Gemm(transB=1)+Relu MLPs, float32, batch N symbolic (bench/make_bench_models.py)"
declare -A overhead
if [ $have_ort = 1 ]; then
  ort_version=$(node -e "console.log(require('$ORT_MODULES/onnxruntime-node/package.json').version)")
  for t in 1 2; do overhead[$t]=$(ort_us "$MODELS/identity.onnx" 1 4 "$t" 5000); done
  echo "peer:      onnxruntime-node $ort_version (CPU EP, intra-op threads = threads, graph optimizations all)."
  echo "           ORT times have its node binding's per-call overhead SUBTRACTED: the median of an"
  echo "           Identity model, ${overhead[1]} us at 1 thread, ${overhead[2]} us at 2 threads."
else
  echo "peer:      ONNX Runtime columns skipped: onnxruntime-node not installed in $BUILD/ort"
  echo "           ((cd $BUILD/ort && npm install --ignore-scripts onnxruntime-node@1.30.0))"
fi
echo
printf '%-15s %5s %3s | %10s | %10s %6s | %10s %6s\n' model batch thr "ORT" "mini env" ratio "mini auto" ratio
printf '%s\n' "----------------------------------------------------------------------------------"
for model in 784-512-256-10 784-128-64-10 deep20x512; do
  for batch in 1 16 256; do
    for threads in 1 2; do
      runs=$(runs_for "$model" "$batch")
      ort="-" r_env="-" r_auto="-"
      if [ $have_ort = 1 ]; then
        raw=$(ort_us "$MODELS/mlp_$model.onnx" "$batch" 784 "$threads" "$runs")
        ort=$(awk -v a="$raw" -v b="${overhead[$threads]}" 'BEGIN { printf "%.1f", a - b }')
      fi
      env_us=$(mini_us "$model" "$batch" "$threads" "$runs")
      auto_us=$(mini_us "$model" "$batch" "$threads" "$runs" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)
      if [ $have_ort = 1 ]; then
        r_env=$(awk -v a="$env_us" -v b="$ort" 'BEGIN { printf "%.2f", a / b }')
        r_auto=$(awk -v a="$auto_us" -v b="$ort" 'BEGIN { printf "%.2f", a / b }')
      fi
      printf '%-15s %5s %3s | %10s | %10s %6s | %10s %6s\n' "$model" "$batch" "$threads" "$ort" "$env_us" "$r_env" "$auto_us" "$r_auto"
    done
  done
done
echo
echo "load average after: $(uptime | sed 's/.*load average: //')"
