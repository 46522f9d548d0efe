# CLI test: `sinter eval`: usage errors, and accuracy/loss of a known classifier on .npy data, compiled in memory and as a library, with --weights, --limit and --json.
. "$(dirname "$0")/common.bash"

# The logits are the input itself (w is the identity): example i (one-hot at i % 4) scores class i % 4.
cat >"$TMP/ident.json" <<'EOF2'
{
  "sinter": 1,
  "name": "ident",
  "inputs": [{"name": "x", "dtype": "float32", "shape": ["N", 4]}],
  "outputs": ["logits"],
  "params": [{"name": "w", "dtype": "float32", "shape": [4, 4], "data": [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]}],
  "nodes": [{"name": "fc", "op": "Gemm", "inputs": ["x", "w"], "outputs": ["logits"], "attrs": {"transB": 1}}],
  "training": {
    "inputs": [{"name": "y", "dtype": "int64", "shape": ["N"]}],
    "loss": {"op": "SoftmaxCrossEntropyLoss", "inputs": ["logits", "y"]},
    "optimizer": {"kind": "sgd", "lr": 0.1}
  }
}
EOF2
cat >"$TMP/notrain.json" <<'EOF2'
{
  "sinter": 1,
  "name": "notrain",
  "inputs": [{"name": "x", "dtype": "float32", "shape": ["N", 4]}],
  "outputs": ["y"],
  "nodes": [{"name": "relu", "op": "Relu", "inputs": ["x"], "outputs": ["y"]}]
}
EOF2
M=$TMP/ident.json
mknpy "$TMP/x.npy" '<f4' '(4, 4)' "$F1$F0$F0$F0$F0$F1$F0$F0$F0$F0$F1$F0$F0$F0$F0$F1"
L0=0000000000000000 L1=0100000000000000 L2=0200000000000000 L3=0300000000000000
mknpy "$TMP/y.npy" '<i8' '(4,)' "$L0$L1$L2$L0"   # the last example is labelled wrong
DATA=$TMP/x.npy,$TMP/y.npy

# ---- usage errors --------------------------------------------------------------------------------
usage_error "no model" "sinter eval: expects a MODEL.json or LIB.so" eval -- "$SINTER" eval --data "$DATA"
usage_error "no --data" "sinter eval: expects --data (fmnist, an IDX directory or FILE,FILE)" eval -- "$SINTER" eval "$M"
usage_error "--limit 0" "sinter eval: --limit expects a number of examples (1 or more), got \"0\"" eval -- \
    "$SINTER" eval "$M" --data "$DATA" --limit 0
usage_error "--weights not .safetensors" "sinter eval: --weights expects a .safetensors file, got \"w.bin\"" eval -- \
    "$SINTER" eval "$M" --data "$DATA" --weights w.bin
usage_error "-O for a library" "sinter eval: -O applies when a MODEL.json is compiled; lib.so is compiled already" eval -- \
    "$SINTER" eval lib.so --data "$DATA" -O1
usage_error "misspelt option" "sinter eval: unknown option --jsn (did you mean --json?)" eval -- \
    "$SINTER" eval "$M" --data "$DATA" --jsn

# ---- bad input -----------------------------------------------------------------------------------
run "$SINTER" eval "$TMP/notrain.json" --data "$DATA"
expect_rc "model without training" 1
expect_eq "model without training: message" "$ERR" "$TMP/notrain.json: the model has no \"training\" section: sinter eval takes the labels from its training inputs and the scored output from its loss"
run "$SINTER" eval "$M" --data "$TMP/x.npy"
expect_rc "labels missing" 1

# ---- results -------------------------------------------------------------------------------------
# 3 of 4 right; cross-entropy log(e + 3) - 1 for a right example, log(e + 3) for the wrong one
run "$SINTER" eval "$M" --data "$DATA" --json
expect_rc "json" 0
expect_eq "json: the object" "$OUT" "{\"model\": \"$M\", \"examples\": 4, \"accuracy\": 0.750000, \"correct\": 3, \"loss\": 0.993668}"
run "$SINTER" eval "$M" --data "$DATA"
expect_rc "text" 0
expect_eq "text: the lines" "$OUT" "ident: 4 examples (x.npy, y.npy)
test accuracy 75.00% (3/4), test loss 0.9937"
run "$SINTER" eval "$M" --data "$DATA" --json --limit 3 --batch 2
expect_eq "--limit 3 --batch 2" "$OUT" "{\"model\": \"$M\", \"examples\": 3, \"accuracy\": 1.000000, \"correct\": 3, \"loss\": 0.743668}"
# zero weights: every logit 0, class 0 predicted, loss log 4
mksafetensors "$TMP/zero.safetensors" w F32 '[4,4]' "$(printf "$F0%.0s" $(seq 16))"
run "$SINTER" eval "$M" --data "$DATA" --json --weights "$TMP/zero.safetensors"
expect_eq "--weights" "$OUT" "{\"model\": \"$M\", \"examples\": 4, \"accuracy\": 0.500000, \"correct\": 2, \"loss\": 1.386294}"
# the same from a library
run "$SINTER" compile "$M" -o "$TMP/libident.so"
expect_rc "compile" 0
run "$SINTER" eval "$TMP/libident.so" --data "$DATA" --json
expect_eq "library" "$OUT" "{\"model\": \"$TMP/libident.so\", \"examples\": 4, \"accuracy\": 0.750000, \"correct\": 3, \"loss\": 0.993668}"
run "$SINTER" eval "$TMP/libident.so" --data "$DATA" --json --weights "$TMP/zero.safetensors"
expect_eq "library --weights" "$OUT" "{\"model\": \"$TMP/libident.so\", \"examples\": 4, \"accuracy\": 0.500000, \"correct\": 2, \"loss\": 1.386294}"
# an inference-only library (weight-only int8: the identity is exact on its grid) is scored as a classifier
run "$SINTER" compile "$M" --quantize int8-weights -o "$TMP/libq.so"
expect_rc "compile --quantize" 0
run "$SINTER" eval "$TMP/libq.so" --data "$DATA" --json
expect_eq "inference-only library" "$OUT" "{\"model\": \"$TMP/libq.so\", \"examples\": 4, \"accuracy\": 0.750000, \"correct\": 3, \"loss\": 0.993668}"
run "$SINTER" eval "$TMP/libq.so" --data "x=$TMP/x.npy,labels=$TMP/y.npy" --json
expect_rc "inference-only library, labels by name" 0
finish
