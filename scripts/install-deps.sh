#!/usr/bin/env bash
# Installs what building and testing sinter needs on Debian 12 (idempotent; run as root or with sudo).
set -euo pipefail

pkgs=(build-essential cmake pkg-config llvm-19-dev libcjson-dev check zlib1g-dev
      libgomp1 clang-14 graphviz dataset-fashion-mnist
      python3-numpy python3-venv     # the Python module (python/) and its tests
      gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user   # cross-compiled libraries, run under qemu
      openmpi-bin libopenmpi-dev   # sinter train --mpi and its test
      libprotobuf-c-dev protobuf-c-compiler libonnx-dev libonnx-testdata)   # ONNX import and its tests
# Optional: reference implementations for benchmarks and for regenerating test vectors.
if [ "${SINTER_WITH_PYTHON:-0}" = 1 ]; then
  pkgs+=(python3-torch python3-onnx libopenblas0-pthread)   # python3-onnx: bench/ exports to ONNX
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
