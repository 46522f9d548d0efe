#!/usr/bin/env bash
# Trains the Fashion-MNIST MLP and LeNet-5 with sinter's compiled training step and with PyTorch eager, and
# writes the accuracy and training-time comparison into docs/training-results.md.
#
# usage: bench/train_bench.sh          (about 20 minutes on 2 busy cores with the defaults)
#   BUILD=build        sinter's build folder (configured and built if needed)
#   THREADS=1          threads of the accuracy runs on both sides (sinter --threads, torch.set_num_threads);
#                      1 because on a shared machine 2-thread runs mostly measure waiting for the other core
#   EPOCHS=2 BATCH=64  the acceptance setting of issue 4 (Adam lr 1e-3 from the models' training sections)
#   SEEDS="0 1 2"      one training run per seed and side (see "Seeds" in the report)
#   STEP_THREADS="1 2" thread counts of the step timing (STEP_IMAGES=6400 images: 100 steps of 64, no evaluation)
#   MODELS="fmnist_mlp lenet5"
#   LIMIT=K            only the first K training and test images (a quick look; not for the report)
#   OUT=docs/training-results.md   PYTHON=/usr/bin/python3
#   SINTER_FMNIST_DIR  the IDX files (default /usr/share/datasets/fashion-mnist)
#   RUNS=DIR           keep every run's output in DIR (default: a temporary folder, removed)
#   REPORT_ONLY=1      only rewrite the report from the outputs kept in RUNS
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
THREADS=${THREADS:-1}
EPOCHS=${EPOCHS:-2}
BATCH=${BATCH:-64}
SEEDS=${SEEDS:-"0 1 2"}
STEP_THREADS=${STEP_THREADS:-"1 2"}
STEP_IMAGES=${STEP_IMAGES:-6400}
MODELS=${MODELS:-"fmnist_mlp lenet5"}
OUT=${OUT:-docs/training-results.md}
PYTHON=${PYTHON:-/usr/bin/python3}
DATA=${SINTER_FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
export SINTER_FMNIST_DIR=$DATA

if [ ! -x "$BUILD/sinter" ]; then
    cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$BUILD" -j2 --target sinter >/dev/null
SINTER=$(cd "$BUILD" && pwd)/sinter
"$PYTHON" -c 'import torch, numpy' 2>/dev/null || {
    echo "train_bench: $PYTHON lacks torch or numpy (Debian: python3-torch python3-numpy)" >&2
    exit 1
}

if [ -n "${RUNS:-}" ]; then
    mkdir -p "$RUNS"
    TMP=$(cd "$RUNS" && pwd)
else
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/sinter-train-bench.XXXXXX")
    trap 'rm -rf "$TMP"' EXIT
fi
limit_args=()
[ -n "${LIMIT:-}" ] && limit_args=(--limit "$LIMIT")
common=(--epochs "$EPOCHS" --batch "$BATCH" --threads "$THREADS" ${limit_args[@]+"${limit_args[@]}"})
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
say() { echo "== $*" >&2; }

if [ "${REPORT_ONLY:-0}" = 1 ]; then
    [ -n "${RUNS:-}" ] || { echo "train_bench: REPORT_ONLY=1 needs RUNS=DIR" >&2; exit 2; }
    MODELS_RUN=""
    load_start=$(cat "$TMP/load_start" 2>/dev/null || echo "?")
else
    MODELS_RUN=$MODELS
    echo "$load_start" >"$TMP/load_start"
fi
for m in $MODELS_RUN; do
    case $m in
    fmnist_mlp) key=mlp ;;
    lenet5) key=lenet5 ;;
    *) echo "train_bench: unknown model $m (fmnist_mlp or lenet5)" >&2; exit 2 ;;
    esac
    base_seed=$(sed -n 's/^  "seed": *\([0-9]*\),$/\1/p' "examples/$m.json")
    base_seed=${base_seed:-0}
    for s in $SEEDS; do
        # seed s: the model as shipped with its "seed" (params' initial values) moved by s
        sed "s/^  \"name\": \"$m\",$/&\n  \"seed\": $((base_seed + s)),/; /^  \"seed\": $base_seed,$/d" \
            "examples/$m.json" >"$TMP/$m.s$s.json"
        say "$m, seed $s: sinter compile -O3, sinter train ($EPOCHS epochs, batch $BATCH, $THREADS threads)"
        "$SINTER" compile "$TMP/$m.s$s.json" -O3 -o "$TMP/lib$m.s$s.so" >/dev/null
        if ! "$SINTER" train "$TMP/lib$m.s$s.so" --data fmnist --seed "$s" "${common[@]}" \
            >"$TMP/$m.s$s.sinter.txt" 2>"$TMP/$m.s$s.sinter.err"; then
            tail -n 1 "$TMP/$m.s$s.sinter.err" >&2
        fi
        grep -E '^(before|epoch)' "$TMP/$m.s$s.sinter.txt" >&2 || true
        say "$m, seed $s: PyTorch eager"
        "$PYTHON" bench/train_torch.py --model "$key" --seed "$s" --data "$DATA" "${common[@]}" \
            >"$TMP/$m.s$s.torch.json"
    done
    # implementation only: PyTorch from sinter's initial params (seed 0) in sinter's data order
    s0=$(set -- $SEEDS; echo "$1")
    say "$m: PyTorch from sinter's initial params, in sinter's order (seed $s0)"
    "$SINTER" train "$TMP/lib$m.s$s0.so" --data fmnist --epochs 0 --limit 1 --no-eval --save "$TMP/$m.init.safetensors" \
        >/dev/null
    "$PYTHON" bench/train_torch.py --model "$key" --seed "$s0" --data "$DATA" --init "$TMP/$m.init.safetensors" \
        --order sinter "${common[@]}" >"$TMP/$m.same.torch.json"
    # step timing: 100 steps at batch 64 per thread count, the two sides one right after the other
    for t in $STEP_THREADS; do
        say "$m: step timing, $t thread(s)"
        "$SINTER" train "$TMP/lib$m.s$s0.so" --data fmnist --epochs 1 --batch "$BATCH" --threads "$t" \
            --limit "$STEP_IMAGES" --no-eval >"$TMP/$m.t$t.sinter.txt" 2>/dev/null || true
        "$PYTHON" bench/train_torch.py --model "$key" --data "$DATA" --epochs 1 --batch "$BATCH" --threads "$t" \
            --limit "$STEP_IMAGES" >"$TMP/$m.t$t.torch.json" 2>/dev/null || true
    done
done
if [ "${REPORT_ONLY:-0}" = 1 ]; then
    load_end=$(cat "$TMP/load_end" 2>/dev/null || echo "?")
else
    load_end=$(cut -d' ' -f1-3 /proc/loadavg)
    echo "$load_end" >"$TMP/load_end"
    date -u '+%Y-%m-%d %H:%M UTC' >"$TMP/date"
fi

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain 2>/dev/null | head -1)" ]; then commit="$commit + uncommitted changes"; fi
cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || echo unknown)
version=$("$SINTER" --version 2>/dev/null || echo sinter)

"$PYTHON" bench/train_report.py --tmp "$TMP" --out "$OUT" --models "$MODELS" --seeds "$SEEDS" \
    --threads "$THREADS" --step-threads "$STEP_THREADS" --step-images "$STEP_IMAGES" --epochs "$EPOCHS" --batch "$BATCH" --limit "${LIMIT:-}" --cpu "$cpu" --cores "$(nproc)" \
    --commit "$commit" --date "$(cat "$TMP/date")" --load "$load_start" --load "$load_end" \
    --sinter "$version" --blas "$blas"
