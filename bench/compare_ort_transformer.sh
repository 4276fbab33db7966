#!/bin/bash
# onnx-mini next to ONNX Runtime on two transformer blocks, in one table:
#   gpt_block_op13      pre-LayerNorm GPT-style decoder block exported at opset 13
#   encoder_layer_op17  nn.TransformerEncoderLayer exported at opset 17
# (d_model 256, 4 heads, feed-forward 1024, GELU, sequence 128; written by
# bench/make_transformer_models.py into BUILD_DIR/bench_models, never committed).
#
#   bench/compare_ort_transformer.sh [BUILD_DIR] [PAIRS]   (defaults: build, 5)
#
# Every row is PAIRS interleaved rounds (ORT then onnx-mini, or the other way
# round every two rounds: compare_common.sh, mini_goes_first); columns are
# medians over the rounds, the ratio (onnx-mini / ORT; below 1.0 onnx-mini is
# faster) the median of per-round ratios. ORT times have the node binding's
# per-call overhead (an Identity model's median) subtracted, as compare_ort.sh.
# OpenBLAS runs as the environment sets it (onnx-mini's GEMMs here are its own
# packed kernel; OpenBLAS only serves what that does not take).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
PAIRS=${2:-5}
RUN="$BUILD/bin/onnx-run"
MODELS="$BUILD/bench_models"
PY=/usr/bin/python3
# shellcheck source=bench/compare_common.sh
. "$SRC/bench/compare_common.sh"

[ -x "$RUN" ] || { echo "missing $RUN: build the onnx-run target first" >&2; exit 2; }
[ $have_ort = 1 ] || { echo "missing $ORT_MODULES/onnxruntime-node (see compare_ort.sh)" >&2; exit 2; }
for m in gpt_block_op13 encoder_layer_op17; do
  [ -f "$MODELS/$m.onnx" ] || "$PY" "$SRC/bench/make_transformer_models.py" "$MODELS" >/dev/null 2>&1
done
"$PY" "$SRC/bench/make_bench_models.py" "$MODELS" >/dev/null

runs_for() { case "$1" in 1) echo 200 ;; *) echo 30 ;; esac; }

mini_us() {  # model batch threads runs
  mini_run_us -- "$MODELS/$1.onnx" --dim batch="$2" --threads "$3" --repeat "$4"
}

echo "onnx-mini vs ONNX Runtime: transformer block latency (median, microseconds)"
print_date_and_machine
measure_ort_overhead "$MODELS/identity.onnx"
echo "rounds:    $PAIRS interleaved pairs per row, $ORDER_NOTE"
echo
printf '%-19s %5s %3s | %10s | %10s %6s\n' model batch thr ORT onnx-mini ratio
printf '%s\n' "------------------------------------------------------------"
for model in gpt_block_op13 encoder_layer_op17; do
  for batch in 1 8; do
    for threads in 1 2; do
      runs=$(runs_for "$batch")
      ort_all="" mini_all="" ratio_all=""
      for ((round = 0; round < PAIRS; ++round)); do
        if mini_goes_first "$round"; then mini=$(mini_us "$model" "$batch" "$threads" "$runs"); fi
        ort=$(ort_net_us "$MODELS/$model.onnx" "$batch" 128x256 "$threads" "$runs")
        if ! mini_goes_first "$round"; then mini=$(mini_us "$model" "$batch" "$threads" "$runs"); fi
        ort_all+=" $ort" mini_all+=" $mini"
        ratio_all+=" $(ratio "$mini" "$ort")"
      done
      printf '%-19s %5s %3s | %10s | %10s %6s\n' "$model" "$batch" "$threads" "$(echo "$ort_all" | median)" \
        "$(echo "$mini_all" | median)" "$(echo "$ratio_all" | median)"
    done
  done
done
echo
echo "load average after: $(uptime | sed 's/.*load average: //')"
