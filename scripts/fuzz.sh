#!/usr/bin/env bash
# Builds the libFuzzer target fuzz/fuzz_load_run (clang, ASan + UBSan) and fuzzes
# load-and-run for SECONDS (default 60), seeded from the ONNX node tests, the
# shipped models and the bad-model suite. The corpus lives in the build tree
# (build-fuzz/corpus) and is never committed; crashes land in build-fuzz/crashes.
#   scripts/fuzz.sh [SECONDS] [extra libFuzzer flags...]
# Env: BUILD_DIR (default build-fuzz; an existing build configured with -DONNX_MINI_FUZZ=ON,
# such as ci_sanitize.sh's, is reused as it is), JOBS (default 2), NODE_TESTS (default: the
# node tests CTest generated in build/, else generated here into the fuzz build).
set -euo pipefail
SECONDS_TO_RUN="${1:-60}"
shift || true
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${BUILD_DIR:-$ROOT/build-fuzz}"
JOBS="${JOBS:-2}"
PY=/usr/bin/python3

# clang from Debian's clang-14 (scripts/install_deps.sh --with-fuzz); plain clang if present.
FUZZ_CC="${CC:-$(command -v clang || command -v clang-14)}"
FUZZ_CXX="${CXX:-$(command -v clang++ || command -v clang++-14)}"
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  CC="$FUZZ_CC" CXX="$FUZZ_CXX" cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DONNX_MINI_FUZZ=ON \
    -DONNX_MINI_BUILD_TESTS=OFF -DONNX_MINI_BUILD_BENCH=OFF >/dev/null
fi
cmake --build "$BUILD" -j"$JOBS" --target fuzz_load_run

# The official node tests as seeds: reuse a generated set, or generate one (3 s).
if [ -z "${NODE_TESTS:-}" ]; then
  for candidate in "$BUILD/tests/conformance/onnx_node_tests/node" "$ROOT/build/tests/conformance/onnx_node_tests/node"; do
    [ -d "$candidate" ] && NODE_TESTS="$candidate" && break
  done
fi
if [ -z "${NODE_TESTS:-}" ]; then
  "$PY" "$ROOT/tests/conformance/generate_node_tests.py" --if-missing "$BUILD/onnx_node_tests" >/dev/null
  NODE_TESTS="$BUILD/onnx_node_tests/node"
fi

# Seed corpus: copied at run time, small models only (libFuzzer mutates best
# on small inputs; the big ones add little and slow every execution).
SEEDS="$BUILD/seeds"
CORPUS="$BUILD/corpus"
mkdir -p "$SEEDS" "$CORPUS" "$BUILD/crashes"
if [ -d "$NODE_TESTS" ]; then
  for m in "$NODE_TESTS"/test_*/model.onnx; do
    [ "$(stat -c %s "$m")" -le 65536 ] || continue
    cp "$m" "$SEEDS/node_$(basename "$(dirname "$m")").onnx"
  done
fi
while IFS= read -r m; do
  rel="${m#"$ROOT"/models/}"
  cp "$m" "$SEEDS/model_${rel//\//_}"
done < <(find "$ROOT/models" -name model.onnx -size -64k)
# The bad-model cases (those small enough), built by their recipes.
"$PY" "$ROOT/tests/hostile/hostile_cases.py" --emit-seeds "$SEEDS" --max-bytes 65536 || echo "fuzz.sh: bad-model seeds skipped" >&2

# One BLAS thread: the fuzzer runs one input at a time and thread start-up
# would dominate every execution.
export OPENBLAS_NUM_THREADS=1
# Leaks are bugs too, but libFuzzer's leak check needs ptrace-free LSan; keep it on.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
echo "fuzz.sh: fuzzing for ${SECONDS_TO_RUN}s with $(ls "$SEEDS" | wc -l) seeds, corpus $CORPUS"
"$BUILD/fuzz/fuzz_load_run" "$CORPUS" "$SEEDS" -max_total_time="$SECONDS_TO_RUN" -max_len=65536 \
  -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 -artifact_prefix="$BUILD/crashes/" "$@"
