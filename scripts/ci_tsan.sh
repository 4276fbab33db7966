#!/usr/bin/env bash
# ThreadSanitizer pass: builds the library and the concurrency tests alone with
# -DONNX_MINI_TSAN=ON (not the whole suite: CI has a time limit) and runs them.
# Any data race fails the run (halt_on_error). OpenBLAS is not instrumented; the
# session holds it at one thread, so it starts no threads of its own.
#   scripts/ci_tsan.sh        Env: BUILD_DIR (default build-tsan), JOBS (default 2).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${BUILD_DIR:-$ROOT/build-tsan}"
JOBS="${JOBS:-2}"
TESTS=(runtime_concurrency_tests)
start=$(date +%s)
# -O1 -g1 as in ci_sanitize.sh: half the compile time, file:line still in every report.
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DONNX_MINI_TSAN=ON -DONNX_MINI_BUILD_BENCH=OFF >/dev/null
cmake --build "$BUILD" -j"$JOBS" --target "${TESTS[@]}"
built=$(date +%s)
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}"
"$BUILD/tests/runtime/runtime_concurrency_tests"
end=$(date +%s)
echo "ci_tsan.sh: build $((built - start))s, tests $((end - built))s, total $((end - start))s"
