#!/usr/bin/env bash
# Configures, builds and runs the whole test suite (CTest prints the summary),
# then the Python package's pytest suite (python/tests, with the build tree's
# package on PYTHONPATH, as the README shows) when the package was built.
# Usage: scripts/test.sh [--sanitize]   (--sanitize: ASan+UBSan build in build-asan/,
#        no Python tests: an ASan-built extension cannot load into the system
#        interpreter without preloading the runtime)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
if [ "${1:-}" = "--sanitize" ]; then
  # One sanitizer configuration, kept in ci_sanitize.sh.
  JOBS="$(nproc)" exec scripts/ci_sanitize.sh --timeout 600
fi
BUILD=build
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j"$(nproc)"
(cd "$BUILD" && ctest --output-on-failure -j"$(nproc)" --timeout 600)
if ls "$BUILD"/python/onnx_mini/_onnx_mini*.so >/dev/null 2>&1; then
  ONNX_MINI_BUILD_DIR="$ROOT/$BUILD" PYTHONPATH="$ROOT/$BUILD/python" \
    /usr/bin/python3 -m pytest -q -p no:cacheprovider "$ROOT/python/tests"
else
  echo "test.sh: Python tests skipped: the package was not built (pybind11 not found; scripts/install_deps.sh installs it)"
fi
