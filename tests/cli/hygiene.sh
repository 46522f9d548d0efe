# CLI test: model-file hygiene: exact int64 values, declared params kept through the passes (the
# JSON dump reads back), internal ops refused, the weights file named in its diagnostics.
. "$(dirname "$0")/common.bash"

cat >"$TMP/m.json" <<'EOF'
{"sinter": 1, "name": "m",
 "inputs": [{"name": "x", "dtype": "float32", "shape": ["N", 2]}],
 "outputs": ["y", "big"],
 "params": [{"name": "w", "dtype": "float32", "shape": [2], "init": {"kind": "ones"}},
            {"name": "unused", "dtype": "float32", "shape": [3], "init": {"kind": "zeros"}}],
 "constants": [{"name": "big", "dtype": "int64", "shape": [3], "data": [9007199254740993, -9223372036854775807, 9223372036854775806]}],
 "nodes": [{"op": "Mul", "inputs": ["x", "w"], "outputs": ["y"]}]}
EOF
run "$SINTER" dump "$TMP/m.json" --after fuse --format json
expect_rc "dump after the pipeline" 0
printf '%s\n' "$OUT" >"$TMP/d1.json"
expect_contains "dump: int64 exact" "$OUT" '"data": [9007199254740993, -9223372036854775807, 9223372036854775806]'
expect_contains "dump: the unread param stays" "$OUT" '{"name": "unused", "dtype": "float32", "shape": [3], "init": {"kind": "zeros"}}'
run "$SINTER" dump "$TMP/d1.json" --after fuse --format json
expect_rc "the dump reads back" 0
expect_eq "the dump reads back unchanged" "$OUT" "$(cat "$TMP/d1.json")"

# a checkpoint of every declared param loads into the dumped model
mksafetensors "$TMP/u.safetensors" unused F32 '[3]' "$F1$F2$F3"
run "$SINTER" check "$TMP/d1.json" --weights "$TMP/u.safetensors"
expect_rc "check the dump with a weights file" 1
expect_contains "a missing param names the weights file" "$ERR" "$TMP/u.safetensors: has no tensor \"w\""

run "$SINTER" check "$TMP/m.json"
expect_rc "check" 0

# internal ops are the passes', not the model file's
sed -e 's/"op": "Mul", "inputs": \["x", "w"\]/"op": "ReluGrad", "inputs": ["x", "x"]/' "$TMP/m.json" >"$TMP/internal.json"
run "$SINTER" check "$TMP/internal.json"
expect_rc "an internal op" 1
expect_contains "an internal op: message" "$ERR" "$TMP/internal.json: nodes[0].op: \"ReluGrad\" is an internal op of sinter's passes"

finish
