# CLI test: --quantize int8-weights|int4-weights [--quantize-group G] and --quantize int8 --calibrate DATA on compile, run, bench, eval, check and opt: usage errors, smaller libraries, compiled code equal to the interpreter's DequantGemm and IntGemm, the dot-product instructions of each target in the assembly, -o OUT.json keeping the records.
. "$(dirname "$0")/common.bash"

MLP=$EX/fmnist_mlp.json

# ---- usage errors --------------------------------------------------------------------------------
usage_error "unknown kind" "sinter compile: --quantize expects int8, int8-weights or int4-weights, got \"int3\"" compile -- \
    "$SINTER" compile "$MLP" -o "$TMP/x.so" --quantize int3
usage_error "static int8 without ranges" "sinter compile: --quantize int8 needs the ranges of the activations: give --calibrate DATA (e.g. fmnist: a few hundred training examples)" \
    compile -- "$SINTER" compile "$MLP" -o "$TMP/x.so" --quantize int8
usage_error "calibrate without int8" "sinter eval: --calibrate applies to --quantize int8 (int4-weights quantizes weights only)" eval -- \
    "$SINTER" eval "$MLP" --data fmnist --quantize int4-weights --calibrate fmnist
usage_error "calibrate alone" "sinter run: --calibrate needs --quantize int8" run -- \
    "$SINTER" run "$MLP" --random --calibrate fmnist
usage_error "bad sample count" "sinter compile: --calibrate-samples expects a count from 1 to 1000000, got \"0\"" compile -- \
    "$SINTER" compile "$MLP" -o "$TMP/x.so" --quantize int8 --calibrate fmnist --calibrate-samples 0
usage_error "int8 groups" "sinter bench: --quantize int8 takes no --quantize-group (its weights have a scale per output channel)" bench -- \
    "$SINTER" bench "$MLP" --quantize int8 --quantize-group 32 --calibrate fmnist
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

# ---- static int8 ---------------------------------------------------------------------------------
# calibration data: 8 examples of 784 pixels (0, 0.25, 0.5, 1 repeating), float32 .npy
hex=""
for ((i = 0; i < 8 * 784 / 4; i++)); do hex+="000000000000803e0000003f0000803f"; done
mknpy "$TMP/cal.npy" '<f4' '(8, 784)' "$hex"
run "$SINTER" compile "$MLP" -o "$TMP/lib8.so" --quantize int8 --calibrate "$TMP/cal.npy"
expect_rc "compile --quantize int8" 0
Q=$(stat -c %s "$TMP/lib8.so")
CHECKS=$((CHECKS + 1))
# float params 814 KB; int8 weights 205 KB, int32 biases and float multipliers
[ $((F - Q)) -gt 580000 ] || fail "library sizes: float $F, int8 $Q"
run "$SINTER" run "$MLP" --random --n 3 --compare --quantize int8 --calibrate "$TMP/cal.npy"
expect_rc "run --compare --quantize int8" 0
run printf '%s\n' "$OUT"
CHECKS=$((CHECKS + 1))
grep -q 'vs interpreter: max abs diff 0, max rel diff 0' "$TMP/out" || fail "run --compare --quantize int8: $OUT"
run "$SINTER" bench "$MLP" --quantize int8 --calibrate "$TMP/cal.npy" --calibrate-samples 4 --batch 2 --threads 1 \
    --warmup 0 --iters 2
expect_rc "bench --quantize int8" 0
run "$SINTER" eval "$MLP" --data "$TMP/cal.npy" --quantize int8 --calibrate "$TMP/cal.npy"
expect_rc "eval of a model whose labels are not in the data" 1
# the dot products in the hot loop: vpdpbusd with VNNI, vpmaddubsw + vpmaddwd on AVX2
for t in "--cpu icelake-server:vpdpbusd.*zmm" "--cpu alderlake:vpdpbusd.*ymm" "--cpu znver3:vpmaddubsw" \
    "--features -avx512vnni,-avxvnni:vpmaddubsw"; do
    opt=${t%%:*} pat=${t#*:}
    run "$SINTER" compile "$MLP" -o "$TMP/q8.s" --quantize int8 --calibrate "$TMP/cal.npy" $opt
    expect_rc "compile --emit s $opt" 0
    run grep -c "$pat" "$TMP/q8.s"
    CHECKS=$((CHECKS + 1))
    [ "${OUT:-0}" -gt 0 ] || fail "$opt: no $pat in the assembly"
done
run grep -c vpmaddwd "$TMP/q8.s"
CHECKS=$((CHECKS + 1))
[ "${OUT:-0}" -gt 0 ] || fail "AVX2: no vpmaddwd after vpmaddubsw"
# --quantize-report: each layer's error on the calibration examples; --quantize-tolerance
run "$SINTER" compile "$MLP" -o "$TMP/x.so" --quantize int8 --calibrate "$TMP/cal.npy" --quantize-report
expect_rc "--quantize-report" 0
CHECKS=$((CHECKS + 1))
grep -q '^quantize report: relative RMS error .* on 8 calibration examples$' "$TMP/err" &&
    grep -q '^  fc1  *uint8 out  [0-9.e-]*$' "$TMP/err" && grep -q '^  fc2  *float out  [0-9.e-]*$' "$TMP/err" ||
    fail "--quantize-report: $(cat "$TMP/err")"
run "$SINTER" compile "$MLP" -o "$TMP/x.so" --quantize int8 --calibrate "$TMP/cal.npy" --quantize-tolerance 1e-9 \
    --quantize-report
expect_rc "--quantize-tolerance 1e-9" 0
CHECKS=$((CHECKS + 1))
grep -q '^quantize: layer fc1: output error .* above --quantize-tolerance 1e-09: kept in float$' "$TMP/err" &&
    grep -q '^quantize: layer fc2: .*kept in float$' "$TMP/err" && grep -q '^  (no layer is integer)$' "$TMP/err" ||
    fail "--quantize-tolerance: $(cat "$TMP/err")"
usage_error "report without int8" "sinter compile: --quantize-report applies to --quantize int8 (its errors are measured on the calibration examples)" \
    compile -- "$SINTER" compile "$MLP" -o "$TMP/x.so" --quantize int8-weights --quantize-report
usage_error "bad tolerance" "sinter compile: --quantize-tolerance expects a relative error > 0 such as 0.05, got \"-1\"" \
    compile -- "$SINTER" compile "$MLP" -o "$TMP/x.so" --quantize int8 --calibrate fmnist --quantize-tolerance -1
# the calibration data must fit the model
mknpy "$TMP/bad.npy" '<f4' '(2, 3)' "000000000000000000000000000000000000000000000000"
run "$SINTER" compile "$MLP" -o "$TMP/x.so" --quantize int8 --calibrate "$TMP/bad.npy"
expect_rc "calibration data of the wrong shape" 1
expect_eq "its message" "$(cat "$TMP/err")" "$TMP/bad.npy: cannot feed input \"x\" for calibration: it takes float32 [N, ...] with 784 values per example, the file holds float32 with 3"

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
