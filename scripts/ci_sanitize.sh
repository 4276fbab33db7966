#!/usr/bin/env bash
# Builds the whole project and test suite with AddressSanitizer + UndefinedBehaviorSanitizer
# (-DONNX_MINI_SANITIZE=ON) and runs every CTest case in that configuration.
#   scripts/ci_sanitize.sh [extra ctest args...]   (CI: -E for repeats, -LE sweep for the dense sweeps)
# Env: BUILD_DIR (default build-asan), JOBS (default 2), FUZZ (default 0; 1: build with clang
# and -DONNX_MINI_FUZZ=ON as well, so that scripts/fuzz.sh BUILD_DIR=... reuses this build:
# CI then compiles the library twice, not three times; the fuzzer's coverage hooks cost
# the tests little beside ASan's own).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${BUILD_DIR:-$ROOT/build-asan}"
JOBS="${JOBS:-2}"
start=$(date +%s)
extra=()
if [ "${FUZZ:-0}" = 1 ]; then
  export CC="${CC:-$(command -v clang || command -v clang-14)}"
  export CXX="${CXX:-$(command -v clang++ || command -v clang++-14)}"
  extra+=(-DONNX_MINI_FUZZ=ON)
fi
# -O1 -g1 (line tables only) instead of RelWithDebInfo's -O2 -g: half the compile time
# and objects 2.5x smaller to link (measured on conv_test.cc, onnx_loader.cc, resize.cc),
# and still file:line in every sanitizer report. No Python package: the sanitizer pass
# cannot load an ASan-built extension into the system interpreter, so it would only cost
# build time.
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DONNX_MINI_SANITIZE=ON -DONNX_MINI_BUILD_BENCH=OFF \
  -DONNX_MINI_BUILD_PYTHON=OFF "${extra[@]}" >/dev/null
cmake --build "$BUILD" -j"$JOBS"
built=$(date +%s)
# Any report fails the test that produced it (UBSan: -fno-sanitize-recover at
# compile time; ASan: halt_on_error). LSan's suppressions are in
# scripts/lsan_suppressions.txt, each with its reason.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$ROOT/scripts/lsan_suppressions.txt:print_suppressions=0}"
cd "$BUILD"
status=0
ctest -j"$JOBS" --output-on-failure "$@" || status=$?
end=$(date +%s)
echo "ci_sanitize.sh: build $((built - start))s, tests $((end - built))s, total $((end - start))s"
exit $status
