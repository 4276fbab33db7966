# Helpers shared by bench/compare_ort.sh, compare_ort_cnn.sh and compare_ort_transformer.sh;
# sourced, not run.
# The caller sets SRC (the source tree) and BUILD (the build tree) first.
# shellcheck shell=bash

ORT_MODULES="$BUILD/ort/node_modules"
# Words put before both runtimes' commands (compare_ort_cnn.sh pins its 1-thread rounds to a CPU).
PIN=()
have_ort=0
if [ -d "$ORT_MODULES/onnxruntime-node" ] && command -v node >/dev/null; then have_ort=1; fi

# Median latency of ONNX Runtime on one model, in microseconds (the binding's
# per-call overhead included).
ort_us() {  # model-file batch dims threads runs   (dims: 784, or 3,224,224)
  ${PIN[@]+"${PIN[@]}"} env NODE_PATH="$ORT_MODULES" node "$SRC/bench/ort_bench.js" "$@" |
    grep -o '"median_ms":[0-9.e+-]*' | cut -d: -f2 | awk '{printf "%.1f", $1 * 1000}'
}

# Median latency of `onnx-run ... --repeat RUNS --json`, in microseconds; the
# words before `--` prefix the command (e.g. env -u OPENBLAS_CORETYPE).
mini_run_us() {  # [prefix words...] -- onnx-run arguments...
  local prefix=()
  while [ "$1" != "--" ]; do prefix+=("$1"); shift; done
  shift
  ${PIN[@]+"${PIN[@]}"} "${prefix[@]}" "$BUILD/bin/onnx-run" "$@" --json |
    grep -o '"median_ms": [0-9.e+-]*' | awk '{printf "%.1f", $2 * 1000}'
}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{v[NR] = $1} END {printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", a / b }'; }

# Whether onnx-mini runs before ORT in round $1 (from 0): ORT first in rounds 0-1,
# 4-5, ..., onnx-mini in 2-3, 6-7, ... (every two rounds, so each CPU of a
# round % 2 pinning sees both orders). On this VM the order of two onnx-mini
# binaries in alternated pairs moved their ratio by ~1 % (bench/README.md,
# 2026-12-06 late morning); between ORT and onnx-mini a check found none above
# the noise (2026-12-06 before noon), but a fixed order would hide one.
mini_goes_first() { [ $((($1 / 2) % 2)) = 1 ]; }

# The same order in words, for the scripts' headers.
# shellcheck disable=SC2034  # read by the scripts that source this file
ORDER_NOTE="ORT first in rounds 1-2, 5-6, ..., onnx-mini in 3-4, 7-8, ..."

print_date_and_machine() {
  echo "date:      $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "machine:   $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores; load average:$(uptime | sed 's/.*load average://')"
}

# Measures ORT's per-call overhead (an Identity model on [1, 4]) into
# ort_overhead[1] and ort_overhead[2] (threads) and prints the peer lines.
declare -A ort_overhead
measure_ort_overhead() {  # identity-model-file
  if [ $have_ort = 1 ]; then
    local version t
    version=$(node -e "console.log(require('$ORT_MODULES/onnxruntime-node/package.json').version)")
    for t in 1 2; do ort_overhead[$t]=$(ort_us "$1" 1 4 "$t" 5000); done
    echo "peer:      onnxruntime-node $version (CPU EP, intra-op threads = threads, graph optimizations all)."
    echo "           ORT times have its node binding's per-call overhead SUBTRACTED: the median of an"
    echo "           Identity model, ${ort_overhead[1]} us at 1 thread, ${ort_overhead[2]} us at 2 threads."
  else
    echo "peer:      ONNX Runtime columns skipped: onnxruntime-node not installed in $BUILD/ort"
    echo "           ((cd $BUILD/ort && npm install --ignore-scripts onnxruntime-node@1.30.0))"
  fi
}

# ORT's latency less its binding's overhead at that thread count.
ort_net_us() {  # model-file batch dims threads runs
  awk -v a="$(ort_us "$@")" -v b="${ort_overhead[$4]}" 'BEGIN { printf "%.1f", a - b }'
}
