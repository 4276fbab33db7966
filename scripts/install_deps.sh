#!/usr/bin/env bash
# Installs every Debian package onnx-mini needs to build, test and benchmark.
#   scripts/install_deps.sh [--with-fuzz] [--with-torch]
# --with-fuzz:  clang and libFuzzer's runtime (scripts/fuzz.sh; CI uses it)
# --with-torch: PyTorch, only for scripts/make_models.py, which regenerates models/
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
PKGS=(cmake g++ make
      libprotobuf-dev protobuf-compiler libonnx-dev libopenblas-dev
      libgtest-dev libbenchmark-dev python3-onnx python3-numpy python3-mpmath
      zlib1g-dev pkgconf
      pybind11-dev python3-pybind11 python3-dev python3-pytest python3-dask python3-distributed)
for arg in "$@"; do
  case "$arg" in
    --with-fuzz) PKGS+=(clang-14 libclang-rt-14-dev) ;;
    --with-torch) PKGS+=(python3-torch) ;;
    *) echo "install_deps.sh: unknown option '$arg'" >&2; exit 2 ;;
  esac
done
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${PKGS[@]}"
