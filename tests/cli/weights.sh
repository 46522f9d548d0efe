# CLI test: --weights FILE.safetensors on compile, run (also --interp), bench, check and eval: a checkpoint of `sinter train --save` (optimizer state and step counter in it) gives the same params to every verb; missing or mismatched tensors are errors naming the file.
. "$(dirname "$0")/common.bash"

cat >"$TMP/m.json" <<'EOF2'
{
  "sinter": 1,
  "name": "m",
  "inputs": [{"name": "x", "dtype": "float32", "shape": ["N", 4]}],
  "outputs": ["logits"],
  "params": [{"name": "w", "dtype": "float32", "shape": [4, 4], "data": [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]}],
  "nodes": [{"name": "fc", "op": "Gemm", "inputs": ["x", "w"], "outputs": ["logits"], "attrs": {"transB": 1}}],
  "training": {
    "inputs": [{"name": "y", "dtype": "int64", "shape": ["N"]}],
    "loss": {"op": "SoftmaxCrossEntropyLoss", "inputs": ["logits", "y"]},
    "optimizer": {"kind": "adam", "lr": 0.5}
  }
}
EOF2
M=$TMP/m.json
mknpy "$TMP/x.npy" '<f4' '(4, 4)' "$F1$F0$F0$F0$F0$F1$F0$F0$F0$F0$F1$F0$F0$F0$F0$F1"
L0=0000000000000000 L1=0100000000000000 L2=0200000000000000
mknpy "$TMP/y.npy" '<i8' '(4,)' "$L0$L1$L2$L0"   # the last example is labelled 0
DATA=$TMP/x.npy,$TMP/y.npy

# ---- a checkpoint: params, Adam's moments and the step counter --------------------------------
run "$SINTER" train "$M" --data "$DATA" --epochs 3 --batch 4 --threads 1 --no-eval --save "$TMP/ck.safetensors"
expect_rc "train --save" 0
CHECKS=$((CHECKS + 1))
grep -q 'adam.m/w' "$TMP/ck.safetensors" || fail "the checkpoint holds no optimizer state"
# the trained weights learn the last example's label: 4 of 4 right (the model's own weights: 3)
run "$SINTER" eval "$M" --data "$DATA" --json --weights "$TMP/ck.safetensors"
expect_rc "eval --weights checkpoint" 0
EVAL_CK=$OUT
expect_contains "eval --weights: the trained params" "$EVAL_CK" '"accuracy": 1.000000'
run "$SINTER" compile "$M" --weights "$TMP/ck.safetensors" -o "$TMP/libck.so"
expect_rc "compile --weights checkpoint" 0
run "$SINTER" eval "$TMP/libck.so" --data "$DATA" --json
expect_eq "a library compiled with --weights scores as eval --weights" "${OUT#*\"examples\"}" "${EVAL_CK#*\"examples\"}"
run "$SINTER" run "$TMP/libck.so" --input x="$TMP/x.npy" --show 16
LIB_OUT=$(printf '%s\n' "$OUT" | tail -n +2)
run "$SINTER" run "$M" --weights "$TMP/ck.safetensors" --input x="$TMP/x.npy" --show 16
expect_rc "run --weights" 0
expect_eq "run MODEL.json --weights equals the library compiled with them" "$(printf '%s\n' "$OUT" | tail -n +2)" "$LIB_OUT"
run "$SINTER" run "$M" --interp --weights "$TMP/ck.safetensors" --input x="$TMP/x.npy" --input y="$TMP/y.npy"
expect_rc "run --interp --weights" 0
expect_contains "the interpreter runs the checkpoint's params" "$OUT" "accuracy: 4 of 4 rows (100.0%)"
run "$SINTER" run "$M" --compare --weights "$TMP/ck.safetensors" --input x="$TMP/x.npy"
expect_rc "run --compare --weights" 0
expect_contains "compare: both sides have the checkpoint's params" "$OUT" "vs interpreter: max abs diff"
run "$SINTER" bench "$M" --weights "$TMP/ck.safetensors" --batch 4 --threads 1 --warmup 0 --iters 2
expect_rc "bench --weights" 0
run "$SINTER" bench "$M" --train --weights "$TMP/ck.safetensors" --batch 4 --threads 1 --warmup 0 --iters 2
expect_rc "bench --train --weights" 0
run "$SINTER" check "$M" --weights "$TMP/ck.safetensors"
expect_rc "check --weights" 0
# zero weights: check --stats counts the file's non-zeros
mksafetensors "$TMP/zero.safetensors" w F32 '[4,4]' "$(printf "$F0%.0s" $(seq 16))"
run "$SINTER" check --stats "$M" --weights "$TMP/zero.safetensors"
expect_rc "check --stats --weights" 0
expect_contains "check --stats: the file's non-zeros" "$OUT" "fc                          16 -> 16                0 -> 0"
run "$SINTER" run "$M" --interp --weights "$TMP/zero.safetensors" --input x="$TMP/x.npy"
expect_contains "run --interp --weights zero" "$OUT" "min 0  max 0  mean 0"

# ---- errors name the file; nothing is written ---------------------------------------------------
mksafetensors "$TMP/other.safetensors" v F32 '[4,4]' "$(printf "$F0%.0s" $(seq 16))"
mksafetensors "$TMP/shape.safetensors" w F32 '[2,2]' "$F1$F0$F0$F1"
NOTENSOR="$TMP/other.safetensors: has no tensor \"w\" for params[0] of the model"
for verb in check eval run bench compile; do
    case $verb in
    check) args=("$M") ;;
    eval) args=("$M" --data "$DATA") ;;
    run) args=("$M" --input x="$TMP/x.npy") ;;
    bench) args=("$M" --iters 1) ;;
    compile) args=("$M" -o "$TMP/libbad.so") ;;
    esac
    run "$SINTER" "$verb" "${args[@]}" --weights "$TMP/other.safetensors"
    expect_rc "$verb --weights: no tensor for a param" 1
    expect_eq "$verb --weights: no tensor for a param: message" "$ERR" "$NOTENSOR"
    run "$SINTER" "$verb" "${args[@]}" --weights "$TMP/shape.safetensors"
    expect_rc "$verb --weights: wrong shape" 1
    expect_contains "$verb --weights: wrong shape: names the file" "$ERR" "$TMP/shape.safetensors: "
    run "$SINTER" "$verb" "${args[@]}" --weights "$TMP/none.safetensors"
    expect_rc "$verb --weights: missing file" 1
    expect_contains "$verb --weights: missing file: names it" "$ERR" "$TMP/none.safetensors: "
done
run "$SINTER" run "$M" --interp --weights "$TMP/other.safetensors" --input x="$TMP/x.npy"
expect_rc "run --interp --weights: no tensor" 1
expect_eq "run --interp --weights: no tensor: message" "$ERR" "$NOTENSOR"
CHECKS=$((CHECKS + 1))
[ ! -e "$TMP/libbad.so" ] || fail "compile wrote a library despite bad --weights"
usage_error "check --weights with two models" "sinter check: --weights gives the params of one model, got 2 models" \
    check -- "$SINTER" check "$M" "$M" --weights "$TMP/ck.safetensors"
finish
