#!/bin/bash
# onnx-mini next to ONNX Runtime on torchvision CNNs, in one table.
#
#   bench/compare_ort_cnn.sh [BUILD_DIR] [PAIRS]   (defaults: build, 5)
#
# Needs BUILD_DIR/bin/onnx-run and ONNX Runtime in BUILD_DIR/ort
# (see bench/compare_ort.sh; its columns are skipped, with a note, without it).
# Exports ResNet-18, MobileNetV2, SqueezeNet 1.1 (224x224) and ResNet-18 with 10
# classes on 32x32 (torchvision 0.14, weights=None: random init, nothing
# downloaded) into BUILD_DIR/bench_models with bench/make_cnn_bench_models.py.
#
# Latency = median of RUNS runs of one inference, in milliseconds. Every row is
# PAIRS interleaved rounds (ORT then onnx-mini twice, onnx-mini then ORT twice,
# ...); each column is the median of its PAIRS latencies and the ratio the
# median of the PAIRS per-round ratios (onnx-mini / ORT: below 1.0 onnx-mini is
# faster). GFLOP/s = 2 x the multiply-adds of every Conv and Gemm per image x
# batch / median latency.
# onnx-mini runs with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for that
# command alone (OpenBLAS picks its kernels for the CPU, as on a user's machine;
# its convolutions run on onnx-mini's packed GEMM, not OpenBLAS).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
PAIRS=${2:-5}
MODELS="$BUILD/bench_models"
PY=/usr/bin/python3
# shellcheck source=bench/compare_common.sh
source "$SRC/bench/compare_common.sh"

[ -x "$BUILD/bin/onnx-run" ] || { echo "missing onnx-run: build the onnx-run target first" >&2; exit 2; }
"$PY" "$SRC/bench/make_cnn_bench_models.py" "$MODELS" >/dev/null
# The per-call overhead model (identity.onnx) comes with the MLP benchmark models.
"$PY" "$SRC/bench/make_bench_models.py" "$MODELS" >/dev/null

dims_of() { case "$1" in *_cifar) echo 3,32,32 ;; *) echo 3,224,224 ;; esac; }

# Runs per measurement: about 0.3-0.6 s on a quiet machine (more under load).
runs_for() {  # model batch
  case "$1/$2" in
    resnet18/1) echo 20 ;;
    resnet18/8) echo 4 ;;
    resnet18_cifar/1) echo 400 ;;
    resnet18_cifar/8) echo 60 ;;
    */1) echo 50 ;;
    */8) echo 8 ;;
  esac
}

mini_ms() {  # model batch threads runs
  mini_run_us env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE -- "$MODELS/cnn_$1.onnx" --dim batch="$2" \
    --threads "$3" --repeat "$4" | awk '{printf "%.3f", $1 / 1000}'
}

ort_ms() {  # model batch threads runs
  ort_net_us "$MODELS/cnn_$1.onnx" "$2" "$(dims_of "$1")" "$3" "$4" | awk '{printf "%.3f", $1 / 1000}'
}

gflops() {  # model batch ms
  awk -v g="$(cat "$MODELS/cnn_$1.gflop")" -v b="$2" -v ms="$3" 'BEGIN { printf "%.1f", g * b / (ms / 1000) }'
}

echo "onnx-mini vs ONNX Runtime: CNN inference latency (median, milliseconds)"
print_date_and_machine
echo "openblas:  shell has OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-<unset>} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-<unset>};" \
     "onnx-mini runs with both unset"
echo "models:    torchvision 0.14, weights=None (seeded random init), eval mode, opset 13, float32;"
echo "           224x224 input except resnet18_cifar (num_classes=10, 32x32) (bench/make_cnn_bench_models.py)"
echo "rounds:    $PAIRS interleaved rounds per row, $ORDER_NOTE;"
echo "           columns are medians over the rounds, ratios medians of per-round ratios"
# This VM's CPUs are not equally fast and trade places over minutes (bench/README.md, 2026-12-04
# morning): a 1-thread round runs both runtimes on the same CPU, the CPU changing by round.
pin_cpus=0
if command -v taskset >/dev/null; then pin_cpus=$(nproc); fi
if [ "$pin_cpus" -gt 1 ]; then
  echo "pinning:   1-thread rounds run ORT and onnx-mini on the same CPU (taskset -c round % $pin_cpus)"
fi
measure_ort_overhead "$MODELS/identity.onnx"
echo
printf '%-15s %5s %3s %6s | %9s %7s | %9s %7s | %6s\n' model batch thr GFLOP "ORT ms" "GFLOP/s" "mini ms" "GFLOP/s" ratio
printf '%s\n' "------------------------------------------------------------------------------------"
for model in resnet18 mobilenet_v2 squeezenet1_1 resnet18_cifar; do
  for batch in 1 8; do
    for threads in 1 2; do
      runs=$(runs_for "$model" "$batch")
      ort_all="" mini_all="" r_all=""
      for ((round = 0; round < PAIRS; ++round)); do
        PIN=()
        if [ "$threads" = 1 ] && [ "$pin_cpus" -gt 1 ]; then PIN=(taskset -c $((round % pin_cpus))); fi
        if mini_goes_first "$round"; then mini=$(mini_ms "$model" "$batch" "$threads" "$runs"); fi
        if [ $have_ort = 1 ]; then
          ort=$(ort_ms "$model" "$batch" "$threads" "$runs")
          ort_all+=" $ort"
        fi
        if ! mini_goes_first "$round"; then mini=$(mini_ms "$model" "$batch" "$threads" "$runs"); fi
        mini_all+=" $mini"
        if [ $have_ort = 1 ]; then r_all+=" $(ratio "$mini" "$ort")"; fi
      done
      ort="-" ort_rate="-" r="-"
      if [ $have_ort = 1 ]; then
        ort=$(echo "$ort_all" | median)
        ort_rate=$(gflops "$model" "$batch" "$ort")
        r=$(echo "$r_all" | median)
      fi
      mini=$(echo "$mini_all" | median)
      printf '%-15s %5s %3s %6.3f | %9s %7s | %9s %7s | %6s\n' "$model" "$batch" "$threads" \
        "$(awk -v g="$(cat "$MODELS/cnn_$model.gflop")" -v b="$batch" 'BEGIN { print g * b }')" \
        "$ort" "$ort_rate" "$mini" "$(gflops "$model" "$batch" "$mini")" "$r"
    done
  done
done
echo
echo "load average after: $(uptime | sed 's/.*load average: //')"
