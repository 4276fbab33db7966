#!/usr/bin/env bash
# Installs every Debian package onnx-mini needs to build, test and benchmark.
# python3-torch is only for scripts/ that regenerate models/ (pass --with-torch).
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
PKGS=(cmake g++ make
      libprotobuf-dev protobuf-compiler libonnx-dev libopenblas-dev
      libgtest-dev libbenchmark-dev python3-onnx python3-numpy)
if [ "${1:-}" = "--with-torch" ]; then PKGS+=(python3-torch); fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${PKGS[@]}"
