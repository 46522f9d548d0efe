#!/bin/bash
# bench/run.sh: compiled inference (sinter) against PyTorch eager on the example models; writes docs/benchmarks.md.
#
#   bench/run.sh                      build if needed, measure everything, write docs/benchmarks.md
#   BUILD=/tmp/b bench/run.sh         use (or make) another build folder (default: build/)
#   BENCH_SECONDS=1 bench/run.sh      seconds measured per configuration and framework (default 2)
#   MODELS="fmnist_mlp lenet5" BATCHES="1" THREADS="1" bench/run.sh     a subset
#   OUT=/tmp/bench.md bench/run.sh    write the report elsewhere
#
# For every model: `sinter compile -O3` for this machine into a temporary folder; for every batch
# and thread count, `sinter bench LIB.so --json` and bench/torch_ref.py (the same architecture as
# an nn.Module, torch.set_num_threads, inference_mode) one after the other, so both see the same
# machine load. bench/torch_ref.py --check first proves the module computes what the model does.
# Timings never decide pass/fail anywhere; this script fails only when something cannot run.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
PY=${PYTHON:-/usr/bin/python3}
MODELS=${MODELS:-fmnist_mlp lenet5 resnet_small transformer_encoder}
BATCHES=${BATCHES:-1 64}
THREADS=${THREADS:-1 2}
SECS=${BENCH_SECONDS:-2}
OUT=${OUT:-$ROOT/docs/benchmarks.md}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sinter-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
RESULTS=$WORK/results.tsv
: >"$RESULTS"

say() { printf 'bench: %s\n' "$*" >&2; }

# ---- the reference side: PyTorch, NumPy, and OpenBLAS (Debian's torch otherwise runs its
# matrix products on the reference BLAS, which would make the comparison meaningless)
SINTER_WITH_PYTHON=1 bash "$ROOT/scripts/install-deps.sh" >&2

# ---- build (cmake keeps it incremental) ----------------------------------------------------
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    say "configuring $BUILD"
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >"$WORK/build.log" 2>&1 || {
        cat "$WORK/build.log" >&2
        exit 1
    }
fi
say "building sinter in $BUILD"
cmake --build "$BUILD" -j2 --target sinter >"$WORK/build.log" 2>&1 || {
    cat "$WORK/build.log" >&2
    exit 1
}
SINTER=$BUILD/sinter

"$PY" -c 'import torch, numpy' 2>/dev/null || {
    say "$PY cannot import torch and numpy (Debian: apt-get install python3-torch python3-numpy)"
    exit 1
}

# ---- the machine and the source ----------------------------------------------------------------
{
    printf 'cpu\t%s\n' "$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
    printf 'cores\t%s\n' "$(nproc)"
    printf 'isa\t%s\n' "$(grep -o -w -E 'avx512f|avx2|fma|neon|asimd' /proc/cpuinfo | sort -u | tr '\n' ' ')"
    printf 'load_start\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
    printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
    commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
    if [ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null)" ]; then
        commit="$commit + uncommitted changes"
    fi
    printf 'commit\t%s\n' "$commit"
    printf 'sinter_version\t%s\n' "$("$SINTER" --version)"
    printf 'torch_version\t%s\n' "$("$PY" -c 'import torch; print(torch.__version__)')"
    printf 'torch_blas\t%s\n' "$("$PY" -c 'import torch, re; m = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show()); print(m.group(1) if m else "?")')"
    printf 'libblas\t%s\n' "$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || echo ?)"
    printf 'seconds\t%s\n' "$SECS"
} >>"$RESULTS"

# ---- measurements --------------------------------------------------------------------------------
for m in $MODELS; do
    lib=$WORK/$m/lib$m.so
    mkdir -p "$WORK/$m"
    say "$m: compiling -O3"
    if ! "$SINTER" compile "$ROOT/examples/$m.json" -O3 -o "$lib" 2>"$WORK/$m/compile.err"; then
        printf 'compile_error\t%s\t%s\n' "$m" "$(head -1 "$WORK/$m/compile.err")" >>"$RESULTS"
        say "$m: does not compile: $(head -1 "$WORK/$m/compile.err")"
    fi
    if check=$("$PY" "$ROOT/bench/torch_ref.py" "$m" --check "$SINTER" --source "$ROOT" 2>"$WORK/$m/check.err"); then
        printf 'check\t%s\t%s\n' "$m" "$check" >>"$RESULTS"
    else
        printf 'check_error\t%s\t%s\n' "$m" "$(tail -1 "$WORK/$m/check.err")" >>"$RESULTS"
    fi
    for b in $BATCHES; do
        for t in $THREADS; do
            if [ -f "$lib" ]; then
                say "$m: batch $b, $t thread(s): sinter"
                if r=$("$SINTER" bench "$lib" --batch "$b" --threads "$t" --seconds "$SECS" --json 2>"$WORK/err"); then
                    printf 'sinter\t%s\t%s\t%s\t%s\n' "$m" "$b" "$t" "$r" >>"$RESULTS"
                else
                    printf 'bench_error\t%s\t%s\t%s\t%s\n' "$m" "$b" "$t" "$(head -1 "$WORK/err")" >>"$RESULTS"
                fi
            fi
            say "$m: batch $b, $t thread(s): torch"
            r=$("$PY" "$ROOT/bench/torch_ref.py" "$m" --batch "$b" --threads "$t" --seconds "$SECS")
            printf 'torch\t%s\t%s\t%s\t%s\n' "$m" "$b" "$t" "$r" >>"$RESULTS"
        done
    done
done
printf 'load_end\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$RESULTS"

mkdir -p "$(dirname "$OUT")"
"$PY" "$ROOT/bench/report.py" "$RESULTS" >"$WORK/report.md"
mv "$WORK/report.md" "$OUT"
say "wrote $OUT"
