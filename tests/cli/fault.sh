# CLI test: allocation failures (a build with -DSINTER_FAULT_INJECTION=ON, as scripts/test.sh's
# ASan stage makes; skipped otherwise). SINTER_FAIL_ALLOC=k fails the command's k-th allocation,
# SINTER_FAIL_ALLOC_LIB=k a generated library's: every failure must end in one "out of memory"
# line and exit status 1, with no crash, no leak (under ASan), nothing on stdout and no output or
# temporary file left. A small model is swept over every allocation where that is cheap and
# at evenly spread points where it is not (compiling runs LLVM: ~700 allocations of ours).
. "$(dirname "$0")/common.bash"

cat >"$TMP/tiny.json" <<'EOF'
{
  "sinter": 1,
  "name": "tiny",
  "seed": 3,
  "inputs": [{"name": "x", "dtype": "float32", "shape": ["N", 4]}],
  "outputs": ["y"],
  "params": [
    {"name": "w", "dtype": "float32", "shape": [4, 4], "init": {"kind": "kaiming_uniform", "a": 2.2360679}},
    {"name": "b", "dtype": "float32", "shape": [4], "init": {"kind": "zeros"}}
  ],
  "nodes": [
    {"name": "fc", "op": "Gemm", "inputs": ["x", "w", "b"], "outputs": ["h"], "attrs": {"transB": 1}},
    {"name": "act", "op": "Relu", "inputs": ["h"], "outputs": ["y"]}
  ],
  "training": {
    "inputs": [{"name": "t", "dtype": "int64", "shape": ["N"]}],
    "loss": {"op": "SoftmaxCrossEntropyLoss", "inputs": ["y", "t"]},
    "optimizer": {"kind": "adam", "lr": 0.05}
  }
}
EOF
TINY=$TMP/tiny.json

SINTER_FAIL_ALLOC=1 "$SINTER" check "$TINY" >/dev/null 2>&1
if [ $? != 1 ]; then
    echo "sinter is built without SINTER_FAULT_INJECTION: skipped"
    exit 77
fi

# allocations WHO CMD...: how many allocations CMD makes (WHO: command or library)
allocations() {
    local who=$1
    shift
    rm -f "$TMP/count"
    SINTER_ALLOC_REPORT=$TMP/count "$@" >/dev/null 2>&1
    awk -v who="$who" '$1 == who { n = $2 } END { print n + 0 }' "$TMP/count"
}

# points N MAX: 1..N when N <= MAX, else MAX points spread over 1..N, the last 5 included
points() {
    local n=$1 max=$2
    if [ "$n" -le "$max" ]; then
        seq 1 "$n"
    else
        { seq 1 $((n / (max - 5))) "$n"; seq $((n - 4)) "$n"; } | sort -n | uniq
    fi
}

# sweep WHAT MAX OUTPUT CMD...: CMD with each chosen allocation failing; OUTPUT is the file CMD
# writes ("" for none), which must not exist afterwards, nor anything else in its folder.
sweep() {
    local what=$1 max=$2 output=$3
    shift 3
    local n k bad=0
    n=$(allocations command "$@")
    [ -z "$output" ] || rm -f "$(dirname "$output")"/*   # what the counting run wrote
    CHECKS=$((CHECKS + 1))
    [ "$n" -gt 0 ] || { fail "$what: no allocations counted"; return; }
    for k in $(points "$n" "$max"); do
        SINTER_FAIL_ALLOC=$k run "$@"
        local err=$ERR out=$OUT
        if [ "${PROGRESS:-0}" = 1 ]; then   # a verb that reports progress: the message comes last
            err=$(printf '%s\n' "$ERR" | tail -1)
            out=""
        fi
        if [ "$RC" != 1 ] || [ -n "$out" ] || ! [[ $err =~ ^sinter\ [a-z]+:\ out\ of\ memory\ \(allocating\ [0-9]+\ bytes\)$ ]]; then
            fail "$what: allocation $k of $n failing: exit status $RC, stdout \"${OUT:0:200}\", stderr \"${ERR:0:300}\""
            bad=$((bad + 1))
        elif [ -n "$output" ] && [ -n "$(ls -A "$(dirname "$output")")" ]; then
            fail "$what: allocation $k of $n failing left files: $(ls -A "$(dirname "$output")" | tr '\n' ' ')"
            bad=$((bad + 1))
        elif [ -n "$(ls -A "$TMPDIR")" ]; then
            fail "$what: allocation $k of $n failing left temporary files: $(ls -A "$TMPDIR" | tr '\n' ' ')"
            bad=$((bad + 1))
        fi
        CHECKS=$((CHECKS + 1))
        [ "$bad" -lt 5 ] || { fail "$what: stopped after 5 failures"; return; }
    done
    echo "$what: $n allocations, $(points "$n" "$max" | wc -l) of them failed in turn"
}

mkdir -p "$TMP/outdir" "$TMP/tmpdir"
export TMPDIR=$TMP/tmpdir
sweep "check" 1000 "" "$SINTER" check "$TINY"
sweep "dump --after autodiff -o" 100 "$TMP/outdir/t.sir" "$SINTER" dump "$TINY" --after autodiff -o "$TMP/outdir/t.sir"
sweep "dump --after plan --format dot" 40 "" "$SINTER" dump "$TINY" --after plan --format dot
sweep "compile -o .so" 40 "$TMP/outdir/libtiny.so" "$SINTER" compile "$TINY" -o "$TMP/outdir/libtiny.so"
sweep "run (JIT)" 25 "" "$SINTER" run "$TINY" --random --n 3
sweep "check lenet5" 40 "" "$SINTER" check "$EX/lenet5.json"
sweep "compile fmnist_mlp" 8 "$TMP/outdir/libm.so" "$SINTER" compile "$EX/fmnist_mlp.json" -o "$TMP/outdir/libm.so"
# training: the compiled step on three examples (one-hot rows, their labels), the checkpoint
# saved; progress lines may come before the message
F0=00000000 F1=0000803f
mknpy "$TMP/x.npy" '<f4' '(3, 4)' "$F1$F0$F0$F0$F0$F1$F0$F0$F0$F0$F1$F0"
mknpy "$TMP/t.npy" '<i8' '(3,)' "000000000000000001000000000000000200000000000000"
PROGRESS=1 sweep "train --save" 25 "$TMP/outdir/w.safetensors" "$SINTER" train "$TINY" --data "$TMP/x.npy,$TMP/t.npy" \
    --epochs 1 --batch 3 --no-eval --save "$TMP/outdir/w.safetensors"

# a generated library: every allocation of its runtime (context, scratch) failing in turn
"$SINTER" compile "$TINY" -o "$TMP/libtiny.so"
n=$(allocations library "$SINTER" run "$TMP/libtiny.so" --random --n 3)
CHECKS=$((CHECKS + 1))
[ "$n" -gt 0 ] || fail "the library made no allocations"
for k in $(seq 1 "$n"); do
    SINTER_FAIL_ALLOC_LIB=$k run "$SINTER" run "$TMP/libtiny.so" --random --n 3
    expect_rc "library allocation $k of $n failing" 1
    expect_contains "library allocation $k of $n failing: says so" "$ERR" "out of memory"
    expect_eq "library allocation $k of $n failing: one line" "$(printf '%s\n' "$ERR" | wc -l)" "1"
done
echo "library: $n allocations, each failed in turn"

finish
