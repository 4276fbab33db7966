#!/bin/bash
# onnx-mini next to ONNX Runtime on the benchmark MLPs, in one table, and the
# peak memory of the large MLP.
#
#   bench/compare_ort.sh [BUILD_DIR] [PAIRS]   (defaults: build, 5)
#
# Needs BUILD_DIR/bin/onnx-run and BUILD_DIR/bin/onnx-init; writes the models with
# bench/make_bench_models.py and onnx-init into BUILD_DIR/bench_models.
# ONNX Runtime comes from
#   (cd BUILD_DIR/ort && npm install --ignore-scripts onnxruntime-node@1.30.0)
# and its columns are skipped, with a note, when that is not installed.
#
# Latency = median of many runs of one inference, in microseconds. Every row is
# PAIRS interleaved rounds (ORT, onnx-mini env, onnx-mini auto; onnx-mini's two
# first every other two rounds: compare_common.sh, mini_goes_first), so a
# burst of load on this shared machine hits all three alike; each column is the
# median of its PAIRS latencies and each ratio the median of the PAIRS per-round
# ratios.
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
PAIRS=${2:-5}
RUN="$BUILD/bin/onnx-run"
INIT="$BUILD/bin/onnx-init"
MODELS="$BUILD/bench_models"
PY=/usr/bin/python3
# shellcheck source=bench/compare_common.sh
source "$SRC/bench/compare_common.sh"

[ -x "$RUN" ] || { echo "missing $RUN: build the onnx-run target first" >&2; exit 2; }
[ -x "$INIT" ] || { echo "missing $INIT: build the onnx-init target first" >&2; exit 2; }
"$PY" "$SRC/bench/make_bench_models.py" "$MODELS" >/dev/null
# The large MLP: 1024-4096-4096-1000 (100 MB of weights), as onnx-init writes it
# (Gemm transB=1 + Relu, input 'input' [batch, 1024]), and the same model with
# its weights as external data.
LARGE=mlp_1024-4096-4096-1000
if [ ! -f "$MODELS/$LARGE.onnx" ]; then
  "$INIT" mlp --layers 1024,4096,4096,1000 -o "$MODELS/$LARGE.onnx" >/dev/null
fi
if [ ! -f "$MODELS/${LARGE}_ext.onnx" ]; then
  "$PY" -c "import onnx, sys; onnx.save(onnx.load(sys.argv[1]), sys.argv[2], save_as_external_data=True,
    all_tensors_to_one_file=True, location=sys.argv[3], size_threshold=1024)" \
    "$MODELS/$LARGE.onnx" "$MODELS/${LARGE}_ext.onnx" "${LARGE}_ext.data"
fi

# The memory baseline: one Identity on the large MLP's input [batch, 1024] (onnx-run
# generates the same input for both).
if [ ! -f "$MODELS/identity_1024.onnx" ]; then
  "$PY" -c "import onnx, sys; from onnx import helper as h, TensorProto as T
v = lambda n: h.make_tensor_value_info(n, T.FLOAT, ['batch', 1024])
g = h.make_graph([h.make_node('Identity', ['input'], ['output'])], 'identity', [v('input')], [v('output')])
onnx.save(h.make_model(g, opset_imports=[h.make_opsetid('', 13)], ir_version=8), sys.argv[1])" "$MODELS/identity_1024.onnx"
fi

# runs per measurement: about 0.3-1 s each.
runs_for() {  # model batch
  case "$1/$2" in
    1024-4096-4096-1000/256) echo 8 ;;
    1024-4096-4096-1000/16) echo 60 ;;
    1024-4096-4096-1000/1) echo 200 ;;
    deep20x512/256) echo 40 ;;
    deep20x512/16|*/256) echo 150 ;;
    deep20x512/1|*/16) echo 800 ;;
    *) echo 3000 ;;
  esac
}

width_of() { case "$1" in 1024-*) echo 1024 ;; *) echo 784 ;; esac; }
# The batch dimension's name: onnx-init and the Identity baseline call it
# 'batch', make_bench_models.py 'N' (onnx-run rejects a --dim the model lacks).
batch_dim_of() { case "$(basename "$1")" in *1024*) echo batch ;; *) echo N ;; esac; }

mini_us() {  # model batch threads runs [env -u ... prefix words]
  local model=$1 batch=$2 threads=$3 runs=$4
  shift 4
  mini_run_us "$@" -- "$MODELS/mlp_$model.onnx" --dim "$(batch_dim_of "$model")=$batch" --threads "$threads" \
    --repeat "$runs"
}

echo "onnx-mini vs ONNX Runtime: MLP inference latency (median, microseconds)"
print_date_and_machine
echo "openblas:  env = OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-<unset>} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-<unset>};" \
     "auto = both unset for that command alone"
echo "models:    Gemm(transB=1)+Relu MLPs, float32, batch symbolic (bench/make_bench_models.py; the 1024-wide one by onnx-init)"
echo "rounds:    $PAIRS interleaved rounds per row, $ORDER_NOTE (env before auto);"
echo "           columns are medians over the rounds, ratios medians of per-round ratios"
measure_ort_overhead "$MODELS/identity.onnx"
echo
printf '%-19s %5s %3s | %10s | %10s %6s | %10s %6s\n' model batch thr "ORT" "mini env" ratio "mini auto" ratio
printf '%s\n' "--------------------------------------------------------------------------------------"
for model in 1024-4096-4096-1000 784-512-256-10 784-128-64-10 deep20x512; do
  for batch in 1 16 256; do
    for threads in 1 2; do
      runs=$(runs_for "$model" "$batch")
      ort_all="" env_all="" auto_all="" r_env_all="" r_auto_all=""
      for ((round = 0; round < PAIRS; ++round)); do
        if mini_goes_first "$round"; then
          env_us=$(mini_us "$model" "$batch" "$threads" "$runs")
          auto_us=$(mini_us "$model" "$batch" "$threads" "$runs" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)
        fi
        if [ $have_ort = 1 ]; then
          ort=$(ort_net_us "$MODELS/mlp_$model.onnx" "$batch" "$(width_of "$model")" "$threads" "$runs")
          ort_all+=" $ort"
        fi
        if ! mini_goes_first "$round"; then
          env_us=$(mini_us "$model" "$batch" "$threads" "$runs")
          auto_us=$(mini_us "$model" "$batch" "$threads" "$runs" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)
        fi
        env_all+=" $env_us"
        auto_all+=" $auto_us"
        if [ $have_ort = 1 ]; then
          r_env_all+=" $(ratio "$env_us" "$ort")"
          r_auto_all+=" $(ratio "$auto_us" "$ort")"
        fi
      done
      ort="-" r_env="-" r_auto="-"
      if [ $have_ort = 1 ]; then
        ort=$(echo "$ort_all" | median)
        r_env=$(echo "$r_env_all" | median)
        r_auto=$(echo "$r_auto_all" | median)
      fi
      printf '%-19s %5s %3s | %10s | %10s %6s | %10s %6s\n' "$model" "$batch" "$threads" "$ort" \
        "$(echo "$env_all" | median)" "$r_env" "$(echo "$auto_all" | median)" "$r_auto"
    done
  done
done

# Peak resident memory (/usr/bin/time %M) of one onnx-run process on the large
# MLP, less that of a one-node Identity model at the same batch, against the
# weight bytes plus the activations the plan holds (fc1, fc2 outputs [batch,
# 4096] and the [batch, 1000] output). Both forms: weights inside the model
# file, and as external data.
peak_kb() {  # model batch
  /usr/bin/time -f '%M' "$RUN" "$1" --dim "$(batch_dim_of "$1")=$2" --threads 1 --repeat 3 --json 2>&1 >/dev/null | tail -1
}
echo
echo "peak RSS, large MLP (KiB; threads 1; Identity baseline at the same batch subtracted)"
weights=$(stat -c %s "$MODELS/${LARGE}_ext.data")
printf '%-9s %5s | %9s %9s %9s | %9s %6s\n' form batch identity model "model-id" bound ratio
for batch in 1 16 256; do
  id_kb=$(peak_kb "$MODELS/identity_1024.onnx" "$batch")
  for form in in-file external; do
    file="$MODELS/$LARGE.onnx"
    [ $form = external ] && file="$MODELS/${LARGE}_ext.onnx"
    kb=$(peak_kb "$file" "$batch")
    bound=$(( (weights + batch * (4096 + 4096 + 1000) * 4) / 1024 ))
    printf '%-9s %5s | %9s %9s %9s | %9s %6s\n' "$form" "$batch" "$id_kb" "$kb" "$((kb - id_kb))" "$bound" \
      "$(awk -v a="$((kb - id_kb))" -v b="$bound" 'BEGIN { printf "%.3f", a / b }')"
  done
done
echo "(bound = weight bytes ($weights) + planned activations; the target is ratio <= 1.05. The baseline"
echo " is Identity on the same [batch, 1024] input, whose own output copy, 4 KiB per row, it includes.)"
echo
echo "load average after: $(uptime | sed 's/.*load average: //')"
