#!/usr/bin/env bash
# Compression figures on Fashion-MNIST (not part of ctest: it trains for a minute or two):
# the MLP of examples/ trained 2 epochs, then each --prune setting's test accuracy (and after
# 1 epoch of fine-tuning for channels), size and inference latency against the float library,
# 1 thread; then float, weight-only and static int8 libraries (accuracy, weight bytes, latency:
# medians of interleaved repeats). Usage: bench/compression.sh [SINTER] [MODEL.json]   (default build/sinter, the MLP)
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

# ---- quantization: accuracy, weight bytes, library size and latency (interleaved repeats) ------
# Each library is benchmarked REPS times in turn (1 thread, 1 s each); the median is reported.
REPS=${REPS:-3}
qbytes() {   # the integer weights and their scales/biases/multipliers the library embeds
    "$S" compile "$M" --weights "$W/float.safetensors" -o "$W/q.s" --dump-after fuse "${@}" 2>/dev/null |
        awk '/^; after fuse/ { b = 0 }   # the inference graph: dumped last
             /^const %.*(\.i8|\.q8|\.q4|\.scale|\.bias_i32|\.mult) :/ {
                 t = $4; sz = (t ~ /^f32/ || t ~ /^i32/) ? 4 : 1; sub(/^[a-z0-9]*\[/, "", t); sub(/\].*/, "", t)
                 n = split(t, d, ","); e = 1; for (i = 1; i <= n; i++) e *= d[i]; b += e * sz }
             /^param %.*: f32\[/ { t = $4; sub(/^f32\[/, "", t); sub(/\].*/, "", t)
                 n = split(t, d, ","); e = 1; for (i = 1; i <= n; i++) e *= d[i]; b += e * 4 }
             END { print b + 0 }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
CAL=(--calibrate fmnist)
names=(float int8-weights int4-weights int8 "float (znver3)" "int8 (znver3: AVX2)")
opts=("" "--quantize int8-weights" "--quantize int4-weights" "--quantize int8 ${CAL[*]}" "--cpu znver3"
      "--quantize int8 ${CAL[*]} --cpu znver3")
for i in "${!names[@]}"; do
    # shellcheck disable=SC2086
    "$S" compile "$M" --weights "$W/float.safetensors" -o "$W/lib$i.so" ${opts[$i]}
done
for r in $(seq "$REPS"); do
    for i in "${!names[@]}"; do
        lat "$W/lib$i.so" 64 >>"$W/b64.$i"
        lat "$W/lib$i.so" 1 >>"$W/b1.$i"
    done
done
printf '\n%-22s %9s %13s %10s %12s %12s\n' setting accuracy "weight bytes" "library B" "b64 ms" "b1 ms"
for i in "${!names[@]}"; do
    # eval compiles for this machine: the znver3 rows (7-bit activations for int8) get no accuracy
    a=-
    # shellcheck disable=SC2086
    [[ ${opts[$i]} == *--cpu* ]] || a=$(awk -v a="$(acc "$M" --weights "$W/float.safetensors" ${opts[$i]})" \
        'BEGIN { printf "%.2f%%", 100 * a }')
    # shellcheck disable=SC2086
    printf '%-22s %9s %13s %10s %12s %12s\n' "${names[$i]}" "$a" \
        "$(qbytes ${opts[$i]})" "$(stat -c %s "$W/lib$i.so")" "$(median <"$W/b64.$i")" "$(median <"$W/b1.$i")"
done
