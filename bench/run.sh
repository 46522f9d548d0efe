#!/bin/bash
# bench/run.sh: sinter against ONNX Runtime and PyTorch eager, inference and the training step, plus
# sgemm against OpenBLAS; writes docs/benchmarks.md (bench/compare.py does the measuring).
#
#   bench/run.sh                          build if needed, measure everything (about 15 minutes)
#   BUILD=/tmp/b bench/run.sh             use (or make) another build folder (default: build/)
#   bench/run.sh --rounds 3 --seconds 0.3 --no-sgemm --out /tmp/b.md     options of compare.py
#   SINTER_ORT_DIR=DIR bench/run.sh       where onnxruntime-node is (or gets) installed
#                                         (default ~/.cache/sinter-bench/ort)
#
# ONNX Runtime comes from the npm package onnxruntime-node, installed with `npm install
# --ignore-scripts` into SINTER_ORT_DIR when npm is present and it is not there yet (outside the
# repository; SINTER_NO_ORT_INSTALL=1 skips it). Timings never decide pass/fail anywhere.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
PY=${PYTHON:-/usr/bin/python3}
ORT_DIR=${SINTER_ORT_DIR:-$HOME/.cache/sinter-bench/ort}

say() { printf 'bench: %s\n' "$*" >&2; }

# PyTorch, NumPy, ONNX (for torch.onnx) and OpenBLAS
SINTER_WITH_PYTHON=1 bash "$ROOT/scripts/install-deps.sh" >&2

if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    say "configuring $BUILD"
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
say "building sinter in $BUILD"
cmake --build "$BUILD" -j2 --target sinter >/dev/null

if [ -z "${SINTER_NO_ORT_INSTALL:-}" ] && [ ! -d "$ORT_DIR/node_modules/onnxruntime-node" ] && command -v npm >/dev/null; then
    say "installing onnxruntime-node into $ORT_DIR"
    mkdir -p "$ORT_DIR"
    (cd "$ORT_DIR" && npm install --ignore-scripts --no-audit --no-fund onnxruntime-node >&2) ||
        say "npm install failed: measuring without ONNX Runtime"
fi

SINTER_ORT_DIR=$ORT_DIR exec "$PY" "$ROOT/bench/compare.py" --sinter "$BUILD/sinter" "$@"
