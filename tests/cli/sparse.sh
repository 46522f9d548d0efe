# CLI test: --sparse on compile, run and bench: usage errors, a pruned model's weights stored as CSR (smaller library, gathers in the assembly), compiled code equal to the interpreter's SparseGemm, dense weights left dense.
. "$(dirname "$0")/common.bash"

MLP=$EX/fmnist_mlp.json

usage_error "a library" "sinter run: --sparse applies when a MODEL.json is compiled; lib.so is compiled already" run -- \
    "$SINTER" run lib.so --random --sparse
usage_error "bench --train" "sinter bench: --sparse applies to the inference of a MODEL.json compiled here (a quantized model has no training step)" \
    bench -- "$SINTER" bench "$MLP" --train --sparse

# the example's weights are dense: nothing changes
run "$SINTER" compile "$MLP" -o "$TMP/libd.so" --sparse --dump-after fuse
expect_rc "compile --sparse of a dense model" 0
CHECKS=$((CHECKS + 1))
! grep -q 'SparseGemm' "$TMP/out" || fail "a dense weight became SparseGemm"

# 90% of each weight pruned: both layers become SparseGemm
run "$SINTER" compile "$MLP" --prune magnitude:0.9 -o "$TMP/p.json"
expect_rc "prune" 0
run "$SINTER" compile "$TMP/p.json" -o "$TMP/libs.so" --sparse
expect_rc "compile --sparse" 0
run "$SINTER" compile "$TMP/p.json" -o "$TMP/libp.so"
expect_rc "compile dense" 0
S=$(stat -c %s "$TMP/libs.so") P=$(stat -c %s "$TMP/libp.so")
CHECKS=$((CHECKS + 1))
# dense float weights 814 KB; CSR: 20,400 values and columns (plus padding) and row starts
[ $((P - S)) -gt 550000 ] || fail "library sizes: dense $P, sparse $S"
run "$SINTER" run "$TMP/p.json" --random --n 3 --compare --sparse
expect_rc "run --compare --sparse" 0
CHECKS=$((CHECKS + 1))
diff=$(printf '%s\n' "$OUT" | sed -n 's/.*max abs diff \([^,]*\),.*/\1/p')
awk -v d="$diff" 'BEGIN { exit !(d != "" && d + 0 < 1e-4) }' || fail "run --compare --sparse: max abs diff '$diff'"
# (LLVM scalarizes gathers where they are slow: Haswell, Zen 1-3)
for t in "--cpu icelake-server:vgatherdps.*zmm" "--cpu skylake:vgatherdps.*ymm"; do
    opt=${t%%:*} pat=${t#*:}
    run "$SINTER" compile "$TMP/p.json" -o "$TMP/s.s" --sparse $opt
    expect_rc "compile --sparse --emit s $opt" 0
    run grep -c "$pat" "$TMP/s.s"
    CHECKS=$((CHECKS + 1))
    [ "${OUT:-0}" -gt 0 ] || fail "$opt: no $pat in the assembly"
done
run "$SINTER" bench "$TMP/p.json" --sparse --batch 1 --threads 1 --warmup 0 --iters 2
expect_rc "bench --sparse" 0
finish
