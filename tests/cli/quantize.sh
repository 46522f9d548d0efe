# CLI test: --quantize int8-weights|int4-weights [--quantize-group G] on compile, run, bench, eval, check and opt: usage errors, smaller libraries, compiled code equal to the interpreter's DequantGemm, -o OUT.json keeping the records.
. "$(dirname "$0")/common.bash"

MLP=$EX/fmnist_mlp.json

# ---- usage errors --------------------------------------------------------------------------------
usage_error "unknown kind" "sinter compile: --quantize expects int8-weights or int4-weights, got \"int3\"" compile -- \
    "$SINTER" compile "$MLP" -o "$TMP/x.so" --quantize int3
usage_error "static int8 not there yet" "sinter compile: --quantize int8 (static, with --calibrate) is not implemented yet; int8-weights and int4-weights are" \
    compile -- "$SINTER" compile "$MLP" -o "$TMP/x.so" --quantize int8
usage_error "bad group" "sinter eval: --quantize expects a --quantize-group of 32, 64 or 128, got \"48\"" eval -- \
    "$SINTER" eval "$MLP" --data fmnist --quantize int4-weights --quantize-group 48
usage_error "group alone" "sinter run: --quantize-group needs --quantize int4-weights or int8-weights" run -- \
    "$SINTER" run "$MLP" --random --quantize-group 32
usage_error "bench --train" "sinter bench: --quantize applies to the inference of a MODEL.json compiled here (a quantized model has no training step)" \
    bench -- "$SINTER" bench "$MLP" --train --quantize int8-weights
usage_error "a library" "sinter eval: --quantize applies when a MODEL.json is compiled; lib.so is compiled already" eval -- \
    "$SINTER" eval lib.so --data fmnist --quantize int8-weights

# ---- libraries shrink ---------------------------------------------------------------------------
run "$SINTER" compile "$MLP" -o "$TMP/libf.so"
expect_rc "compile float" 0
for q in int8-weights int4-weights; do
    run "$SINTER" compile "$MLP" -o "$TMP/lib$q.so" --quantize "$q"
    expect_rc "compile --quantize $q" 0
done
F=$(stat -c %s "$TMP/libf.so") Q8=$(stat -c %s "$TMP/libint8-weights.so") Q4=$(stat -c %s "$TMP/libint4-weights.so")
CHECKS=$((CHECKS + 1))
# float params 814 KB; int8 weights 201 KB + scales, int4 100 KB + scales
[ $((F - Q8)) -gt 580000 ] && [ $((Q8 - Q4)) -gt 60000 ] || fail "library sizes: float $F, int8 $Q8, int4 $Q4"
run "$SINTER" run "$TMP/libint4-weights.so" --random --n 2
expect_rc "the int4 library runs" 0
# the header lists only the params left (biases)
CHECKS=$((CHECKS + 1))
grep -q 'fc1.bias' "$TMP/fmnist_mlp.h" && ! grep -q 'fc1.weight' "$TMP/fmnist_mlp.h" || fail "the header still names fc1.weight"

# ---- compiled DequantGemm equals the interpreter's ---------------------------------------------
for q in int8-weights int4-weights; do
    run "$SINTER" run "$MLP" --random --n 3 --compare --quantize "$q" --quantize-group 64
    expect_rc "run --compare --quantize $q" 0
    CHECKS=$((CHECKS + 1))
    diff=$(printf '%s\n' "$OUT" | sed -n 's/.*max abs diff \([^,]*\),.*/\1/p')
    awk -v d="$diff" 'BEGIN { exit !(d != "" && d + 0 < 1e-4) }' || fail "run --compare --quantize $q: max abs diff '$diff'"
done
run "$SINTER" bench "$MLP" --quantize int4-weights --batch 2 --threads 1 --warmup 0 --iters 2
expect_rc "bench --quantize" 0

# ---- -o OUT.json: float values on the grid with their records -------------------------------------
run "$SINTER" compile "$MLP" --quantize int4-weights -o "$TMP/q.json"
expect_rc "compile --quantize -o json" 0
run grep -c '"quant": {"bits": 4, "axis": 0, "group_axis": 1, "group": 32' "$TMP/q.json"
expect_eq "both weights keep their int4 records" "$OUT" "2"
run "$SINTER" check "$TMP/q.json"
expect_rc "the emitted model checks (its values are on the grid)" 0
# compiling it with --quantize packs the recorded weights as they are
run "$SINTER" compile "$TMP/q.json" -o "$TMP/libq.so" --quantize int4-weights
expect_rc "compile the emitted model --quantize" 0
finish
