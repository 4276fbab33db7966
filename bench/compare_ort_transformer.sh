#!/bin/bash
# onnx-mini next to ONNX Runtime on two transformer blocks, in one table:
#   gpt_block_op13      pre-LayerNorm GPT-style decoder block exported at opset 13
#   encoder_layer_op17  nn.TransformerEncoderLayer exported at opset 17
# (d_model 256, 4 heads, feed-forward 1024, GELU, sequence 128; written by
# bench/make_transformer_models.py into BUILD_DIR/bench_models, never committed).
#
#   bench/compare_ort_transformer.sh [BUILD_DIR] [PAIRS]   (defaults: build, 5)
#
# Every row is PAIRS interleaved rounds (ORT, onnx-mini, ORT, ...); columns are
# medians over the rounds, the ratio (onnx-mini / ORT; below 1.0 onnx-mini is
# faster) the median of per-round ratios. ORT times have the node binding's
# per-call overhead (an Identity model's median) subtracted, as compare_ort.sh.
# OpenBLAS runs as the environment sets it (onnx-mini's GEMMs here are its own
# packed kernel; OpenBLAS only serves what that does not take).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
PAIRS=${2:-5}
RUN="$BUILD/tools/onnx_run/onnx-run"
MODELS="$BUILD/bench_models"
ORT_MODULES="$BUILD/ort/node_modules"
PY=/usr/bin/python3

[ -x "$RUN" ] || { echo "missing $RUN: build the onnx-run target first" >&2; exit 2; }
[ -d "$ORT_MODULES/onnxruntime-node" ] || { echo "missing $ORT_MODULES/onnxruntime-node (see compare_ort.sh)" >&2; exit 2; }
for m in gpt_block_op13 encoder_layer_op17; do
  [ -f "$MODELS/$m.onnx" ] || "$PY" "$SRC/bench/make_transformer_models.py" "$MODELS" >/dev/null 2>&1
done
"$PY" "$SRC/bench/make_bench_models.py" "$MODELS" >/dev/null

runs_for() { case "$1" in 1) echo 200 ;; *) echo 30 ;; esac; }

mini_us() {  # model batch threads runs
  "$RUN" "$MODELS/$1.onnx" --dim batch="$2" --threads "$3" --repeat "$4" --json |
    grep -o '"median_ms": [0-9.e+-]*' | awk '{printf "%.1f", $2 * 1000}'
}
ort_us() {  # model-file batch dims threads runs
  NODE_PATH="$ORT_MODULES" node "$SRC/bench/ort_bench.js" "$@" |
    grep -o '"median_ms":[0-9.e+-]*' | cut -d: -f2 | awk '{printf "%.1f", $1 * 1000}'
}
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{v[NR] = $1} END {printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

declare -A overhead
for t in 1 2; do overhead[$t]=$(ort_us "$MODELS/identity.onnx" 1 4 "$t" 5000); done
echo "onnx-mini vs ONNX Runtime: transformer block latency (median, microseconds)"
echo "date:      $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine:   $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores; load average:$(uptime | sed 's/.*load average://')"
echo "peer:      onnxruntime-node $(node -e "console.log(require('$ORT_MODULES/onnxruntime-node/package.json').version)")," \
     "overhead subtracted: ${overhead[1]} us (1 thread), ${overhead[2]} us (2 threads)"
echo "rounds:    $PAIRS interleaved pairs per row"
echo
printf '%-19s %5s %3s | %10s | %10s %6s\n' model batch thr ORT onnx-mini ratio
printf '%s\n' "------------------------------------------------------------"
for model in gpt_block_op13 encoder_layer_op17; do
  for batch in 1 8; do
    for threads in 1 2; do
      runs=$(runs_for "$batch")
      ort_all="" mini_all="" ratio_all=""
      for ((round = 0; round < PAIRS; ++round)); do
        raw=$(ort_us "$MODELS/$model.onnx" "$batch" 128x256 "$threads" "$runs")
        ort=$(awk -v a="$raw" -v b="${overhead[$threads]}" 'BEGIN { printf "%.1f", a - b }')
        mini=$(mini_us "$model" "$batch" "$threads" "$runs")
        ort_all+=" $ort" mini_all+=" $mini"
        ratio_all+=" $(awk -v a="$mini" -v b="$ort" 'BEGIN { printf "%.4f", a / b }')"
      done
      printf '%-19s %5s %3s | %10s | %10s %6s\n' "$model" "$batch" "$threads" "$(echo "$ort_all" | median)" \
        "$(echo "$mini_all" | median)" "$(echo "$ratio_all" | median)"
    done
  done
done
echo
echo "load average after: $(uptime | sed 's/.*load average: //')"
