#!/usr/bin/env bash
# The main job: build sinter, compile the Fashion-MNIST MLP and LeNet-5 to shared libraries, train them
# with their compiled training steps, reload the weights into fresh libraries, report accuracy and latency.
# Usage: scripts/demo.sh   (installs missing Debian packages first; builds in ./build)
#   SINTER_DEMO_QUICK=1   the MLP only (LeNet-5 takes several minutes more)
#   SINTER_FMNIST_DIR     another folder of Fashion-MNIST's IDX files
#   SINTER_NUM_THREADS    threads (default: OMP_NUM_THREADS, else the CPUs this process may run on)
#   SINTER_DEMO_BUILD     the build folder (default ./build); the demo's files go to its demo/ folder
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=${SINTER_FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
BUILD=${SINTER_DEMO_BUILD:-build}
OUT=$BUILD/demo
step() { printf '\n== %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

step "dependencies"
bash scripts/install-deps.sh

step "build ($BUILD)"
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j"$(nproc 2>/dev/null || echo 2)" --target sinter
SINTER=$BUILD/sinter
mkdir -p "$OUT"
for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
    if [ ! -r "$DATA/$f" ]; then
        echo "demo: $DATA/$f is missing (Debian package dataset-fashion-mnist, or set SINTER_FMNIST_DIR)" >&2
        exit 1
    fi
done
export SINTER_FMNIST_DIR=$DATA   # what "--data fmnist" reads

# ---- the MLP -------------------------------------------------------------------------------------
mlp_start=$SECONDS
step "MLP 784-256-10: compile to a shared library (the header fmnist_mlp.h is written beside it)"
show "$SINTER" check examples/fmnist_mlp.json
show "$SINTER" compile examples/fmnist_mlp.json -o "$OUT/libfmnist_mlp.so"

step "MLP: train 2 epochs on the 60,000 training images (batch 64, Adam lr 1e-3 from the model's training section)"
show "$SINTER" train "$OUT/libfmnist_mlp.so" --data fmnist --epochs 2 --batch 64 --save "$OUT/fmnist_mlp.safetensors"

step "MLP: the saved weights in a fresh library, from a plain C program (examples/classify_fmnist.c)"
rpath=$(cd "$OUT" && pwd)
show cc -O2 -I "$OUT" examples/classify_fmnist.c -L "$OUT" -lfmnist_mlp -lz -Wl,-rpath,"$rpath" \
    -o "$OUT/classify_fmnist"
show "$OUT/classify_fmnist" --count 8 --weights "$OUT/fmnist_mlp.safetensors"
printf '$ %s\n' "$OUT/classify_fmnist --count 10000 --weights $OUT/fmnist_mlp.safetensors | tail -n 1"
"$OUT/classify_fmnist" --count 10000 --weights "$OUT/fmnist_mlp.safetensors" | tail -n 1

step "MLP: inference latency of the compiled library"
show "$SINTER" bench "$OUT/libfmnist_mlp.so" --batch 1 --weights "$OUT/fmnist_mlp.safetensors"
show "$SINTER" bench "$OUT/libfmnist_mlp.so" --batch 64 --weights "$OUT/fmnist_mlp.safetensors"
mlp_seconds=$((SECONDS - mlp_start))

# ---- LeNet-5 -----------------------------------------------------------------------------------------
if [ "${SINTER_DEMO_QUICK:-0}" = 1 ]; then
    step "LeNet-5: skipped (SINTER_DEMO_QUICK=1)"
else
    lenet_start=$SECONDS
    step "LeNet-5: compile, then train 2 epochs (convolutions: this takes several minutes on 2 cores; SINTER_DEMO_QUICK=1 skips it)"
    show "$SINTER" compile examples/lenet5.json -o "$OUT/liblenet5.so"
    show "$SINTER" train "$OUT/liblenet5.so" --data fmnist --epochs 2 --batch 64 --save "$OUT/lenet5.safetensors"

    step "LeNet-5: the saved weights in a fresh library: test accuracy (--epochs 0 only evaluates) and latency"
    show "$SINTER" train "$OUT/liblenet5.so" --data fmnist --epochs 0 --load "$OUT/lenet5.safetensors"
    show "$SINTER" bench "$OUT/liblenet5.so" --batch 1 --weights "$OUT/lenet5.safetensors"
    show "$SINTER" bench "$OUT/liblenet5.so" --batch 64 --weights "$OUT/lenet5.safetensors"
    lenet_seconds=$((SECONDS - lenet_start))
fi

step "summary"
cat <<EOF
- sinter compiled examples/fmnist_mlp.json${lenet_seconds:+ and examples/lenet5.json} to a self-contained
  shared library each, with a C header ($OUT/lib*.so, $OUT/*.h), trained on Fashion-MNIST with
  the compiled training step (forward, loss, backward and Adam update in one native call) and
  saved params, optimizer state and step counter to $OUT/*.safetensors.
- The trained weights were loaded into fresh libraries: the accuracies above are on the 10,000
  test images, and 'sinter bench' timed the inference entry point.
- The MLP part took ${mlp_seconds} s${lenet_seconds:+; LeNet-5 took ${lenet_seconds} s}.
- bench/train_bench.sh compares accuracy and training time with PyTorch (docs/training-results.md).
EOF
