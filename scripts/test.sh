#!/usr/bin/env bash
# Configures, builds and runs the whole test suite (CTest prints the summary).
# Usage: scripts/test.sh [--sanitize]   (--sanitize: ASan+UBSan build in build-asan/)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=build
ARGS=(-DCMAKE_BUILD_TYPE=Release)
if [ "${1:-}" = "--sanitize" ]; then
  BUILD=build-asan
  ARGS=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DONNX_MINI_SANITIZE=ON -DONNX_MINI_BUILD_BENCH=OFF)
fi
cmake -S . -B "$BUILD" "${ARGS[@]}" >/dev/null
cmake --build "$BUILD" -j"$(nproc)"
cd "$BUILD"
ctest --output-on-failure -j"$(nproc)" --timeout 600
