#!/usr/bin/env bash
# Compression figures on Fashion-MNIST (not part of ctest: it trains for a minute or two):
# the MLP of examples/ trained 2 epochs, then each --prune setting's test accuracy (and after
# 1 epoch of fine-tuning for channels), size and inference latency against the float library,
# 1 thread. Usage: bench/compression.sh [SINTER] [MODEL.json]   (default build/sinter, the MLP)
set -euo pipefail
cd "$(dirname "$0")/.."
S=${1:-build/sinter}
M=${2:-examples/fmnist_mlp.json}
W=$(mktemp -d "${TMPDIR:-/tmp}/sinter-compress.XXXXXX")
trap 'rm -rf "$W"' EXIT
acc() { "$S" eval "$1" --data fmnist --json "${@:2}" | sed 's/.*"accuracy": \([0-9.]*\).*/\1/'; }
lat() { "$S" bench "$1" --batch "$2" --threads 1 --seconds 2 --json | sed 's/.*"median_ms": \([0-9.e+-]*\).*/\1/'; }
echo "training $M for 2 epochs ..." >&2
"$S" train "$M" --data fmnist --epochs 2 --batch 64 --threads 1 --save "$W/float.safetensors" >/dev/null 2>&1
"$S" compile "$M" --weights "$W/float.safetensors" -o "$W/libfloat.so"
printf '%-26s %9s %10s %12s %12s\n' setting accuracy "params B" "b64 ms" "b1 ms"
row() {   # NAME LIB.so
    local bytes
    bytes=$("$S" check "${3:-$M}" | sed 's/.*params (\([^)]*\)).*/\1/')
    printf '%-26s %8.2f%% %10s %12s %12s\n' "$1" "$(awk -v a="$(acc "$2")" 'BEGIN { print 100 * a }')" "$bytes" \
        "$(lat "$2" 64)" "$(lat "$2" 1)"
}
row float "$W/libfloat.so"
for p in channels:0.5 magnitude:0.8 global-magnitude:0.8 2:4; do
    "$S" compile "$M" --weights "$W/float.safetensors" --prune "$p" -o "$W/p.json"
    "$S" compile "$W/p.json" -o "$W/libp.so"
    row "$p" "$W/libp.so" "$W/p.json"
done
"$S" compile "$M" --weights "$W/float.safetensors" --prune channels:0.5 -o "$W/half.json"
"$S" train "$W/half.json" --data fmnist --epochs 1 --batch 64 --threads 1 --save "$W/half_ft.safetensors" >/dev/null 2>&1
"$S" compile "$W/half.json" --weights "$W/half_ft.safetensors" -o "$W/libhalf.so"
row "channels:0.5 + 1 epoch" "$W/libhalf.so" "$W/half.json"
