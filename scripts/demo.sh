#!/usr/bin/env bash
# Demo from a fresh clone: build sinter, convert Fashion-MNIST test images, check, dump and run example models.
# Usage: scripts/demo.sh   (installs missing Debian packages first; builds in ./build)
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=${SINTER_FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
OUTDIR=build/demo
step() { printf '\n== %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

step "dependencies"
bash scripts/install-deps.sh

step "build (./build)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target sinter idx2npy
SINTER=build/sinter
mkdir -p "$OUTDIR"

step "the first 64 Fashion-MNIST test images and labels as .npy"
for f in t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
    if [ ! -r "$DATA/$f" ]; then
        echo "demo: $DATA/$f is missing (Debian package dataset-fashion-mnist, or set SINTER_FMNIST_DIR)" >&2
        exit 1
    fi
done
show build/idx2npy --count 64 "$DATA/t10k-images-idx3-ubyte.gz" "$OUTDIR/images.npy"
show build/idx2npy --count 64 --nchw "$DATA/t10k-images-idx3-ubyte.gz" "$OUTDIR/images_nchw.npy"
show build/idx2npy --count 64 "$DATA/t10k-labels-idx1-ubyte.gz" "$OUTDIR/labels.npy"

step "check: validate the models, count params and FLOPs"
show "$SINTER" check examples/fmnist_mlp.json examples/lenet5.json examples/resnet_small.json \
    examples/transformer_encoder.json

step "dump: the MLP's IR as parsed, and LeNet-5 as a Graphviz picture"
show "$SINTER" dump examples/fmnist_mlp.json
show "$SINTER" dump examples/lenet5.json --format dot -o "$OUTDIR/lenet5.dot"
if command -v dot >/dev/null 2>&1; then
    show dot -Tsvg "$OUTDIR/lenet5.dot" -o "$OUTDIR/lenet5.svg"
fi
step "dump: the transformer's PyTorch-style reshape targets (Shape -> Gather -> Unsqueeze -> Concat) resolve to symbolic shapes"
show "$SINTER" dump examples/transformer_encoder.json -o "$OUTDIR/transformer_encoder.txt"
grep -E '= (Shape|Gather|Unsqueeze|Concat|Reshape)\(' "$OUTDIR/transformer_encoder.txt"

step "run: inference on the 64 images with the reference interpreter"
show "$SINTER" run examples/fmnist_mlp.json --interp --input x="$OUTDIR/images.npy" \
    --input y="$OUTDIR/labels.npy" --output logits="$OUTDIR/fmnist_mlp_logits.npy"
show "$SINTER" run examples/lenet5.json --interp --input x="$OUTDIR/images_nchw.npy" \
    --input y="$OUTDIR/labels.npy" --output logits="$OUTDIR/lenet5_logits.npy"

step "summary"
cat <<EOF
- sinter parsed, shape-checked, optimized and verified four example models, and
  printed their IR as text and as a Graphviz graph ($OUTDIR/lenet5.dot).
- The reference interpreter ran the MLP and LeNet-5 on 64 real Fashion-MNIST test
  images; their logits are in $OUTDIR/*_logits.npy.
- The weights are UNTRAINED (seeded PyTorch-style initialization): a loss near
  ln(10) = 2.30 and an accuracy near chance (10%) are the expected results.
  Training ('sinter train') and native code generation ('sinter compile') are not in
  this build yet; they will make these numbers meaningful.
EOF
