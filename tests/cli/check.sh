# CLI test: `sinter check` on every example (exact summary lines) and on broken models.
. "$(dirname "$0")/common.bash"

# The expected numbers are counted by hand (see ir/cost.c for the FLOP conventions):
#  fmnist_mlp: params 784*256+256 + 256*10+10; FLOPs 2*784*256+256 (fc1) + 256 (relu) + 2*256*10+10 (fc2)
#  lenet5: convs 2*out*Cin*25 + out (bias), pools 4 per output, Gemms 2*M*K + M
#  resnet_small: 6 convs, 6 BNs (2 per element; running mean/var frozen: 2*(16+16+16+32+32+32)),
#                relus, adds, GAP, Gemm
check_line() {
    run "$SINTER" check "$EX/$1.json"
    expect_rc "check $1" 0
    expect_eq "check $1: summary" "$OUT" "$2"
    expect_eq "check $1: no diagnostics" "$ERR" ""
}
check_line fmnist_mlp "fmnist_mlp: ok: 1 input, 1 output, 5 nodes, 203,530 params (795.0 KiB), 408.6 KFLOPs per sample, 4160N bytes of scratch, trains with adam on SoftmaxCrossEntropyLoss"
check_line lenet5 "lenet5: ok: 1 input, 1 output, 14 nodes, 61,706 params (241.0 KiB), 853.9 KFLOPs per sample, 26688N bytes of scratch, trains with adam on SoftmaxCrossEntropyLoss"
check_line resnet_small "resnet_small: ok: 1 input, 1 output, 70 nodes, 19,994 params (78.1 KiB, 288 frozen), 13.3 MFLOPs per sample + 720 FLOPs fixed, 150528N+128 bytes of scratch, trains with sgd on SoftmaxCrossEntropyLoss"

# the transformer: params and FLOPs are exact; the node count depends on how much of the
# PyTorch-style shape arithmetic the passes fold, so only its presence is checked
run "$SINTER" check "$EX/transformer_encoder.json"
expect_rc "check transformer_encoder" 0
expect_contains "check transformer_encoder" "$OUT" "transformer_encoder: ok: 1 input, 1 output, "
expect_contains "check transformer_encoder" "$OUT" " nodes, 34,122 params (133.3 KiB), 1.2 MFLOPs per sample, 16384N bytes of scratch, trains with adamw on SoftmaxCrossEntropyLoss"

# several models at once: one line each
run "$SINTER" check "$EX/fmnist_mlp.json" "$EX/lenet5.json"
expect_rc "check two models" 0
expect_eq "check two models: two lines" "$(printf '%s\n' "$OUT" | wc -l)" "2"

# --verbose: a table of nodes with their FLOPs
run "$SINTER" check -v "$EX/fmnist_mlp.json"
expect_rc "check -v" 0
expect_contains "check -v: fc1 row" "$OUT" "fc1"
expect_contains "check -v: fc1 FLOPs" "$OUT" "401,664"
expect_contains "check -v: fc2 FLOPs" "$OUT" "5,130"

# a model that does not exist
run "$SINTER" check "$TMP/missing.json"
expect_rc "check a missing file" 1
expect_contains "check a missing file names it" "$ERR" "$TMP/missing.json: "
expect_eq "check a missing file: nothing on stdout" "$OUT" ""

# a model with an unknown tensor: the frontend's diagnostic, one line, status 1
cat >"$TMP/bad.json" <<'EOF'
{
  "sinter": 1,
  "name": "bad",
  "inputs": [{"name": "x", "dtype": "float32", "shape": ["N", 4]}],
  "outputs": ["y"],
  "nodes": [
    {"op": "Relu", "inputs": ["x"], "outputs": ["h"]},
    {"op": "Relu", "inputs": ["h2"], "outputs": ["y"]}
  ]
}
EOF
run "$SINTER" check "$TMP/bad.json"
expect_rc "check a model with an unknown tensor" 1
expect_contains "check names the file and the place" "$ERR" "$TMP/bad.json: nodes[1].inputs[0]: "
expect_contains "check says what is wrong" "$ERR" '"h2"'
expect_eq "check: nothing on stdout for a bad model" "$OUT" ""

# a bad model among good ones: status 1, the good one still reported
run "$SINTER" check "$EX/fmnist_mlp.json" "$TMP/bad.json"
expect_rc "check good and bad" 1
expect_contains "check good and bad: the good line" "$OUT" "fmnist_mlp: ok: "

# invalid JSON
printf '{"sinter": 1,\n  "name": }\n' >"$TMP/syntax.json"
run "$SINTER" check "$TMP/syntax.json"
expect_rc "check invalid JSON" 1
expect_contains "check invalid JSON names the file" "$ERR" "$TMP/syntax.json: "
expect_eq "check invalid JSON: one line" "$(printf '%s\n' "$ERR" | wc -l)" "1"

# a shape error found by shape inference
cat >"$TMP/shape.json" <<'EOF'
{
  "sinter": 1,
  "name": "shape",
  "inputs": [{"name": "x", "dtype": "float32", "shape": ["N", 4]}],
  "outputs": ["y"],
  "params": [{"name": "w", "dtype": "float32", "shape": [3, 5], "init": {"kind": "zeros"}}],
  "nodes": [{"name": "fc", "op": "Gemm", "inputs": ["x", "w"], "outputs": ["y"], "attrs": {"transB": 1}}]
}
EOF
run "$SINTER" check "$TMP/shape.json"
expect_rc "check a shape error" 1
expect_contains "check a shape error names the node" "$ERR" "$TMP/shape.json: nodes[0]"

# --stats: what each pass changed, fusion included
run "$SINTER" check --stats "$EX/lenet5.json"
expect_rc "check --stats" 0
expect_contains "check --stats: groups" "$OUT" "fuse: "
expect_contains "check --stats: nodes fused" "$OUT" " nodes fused"
expect_contains "check --stats: bytes saved" "$OUT" " bytes of intermediates saved at N=1"

finish
