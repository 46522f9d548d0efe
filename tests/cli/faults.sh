# CLI test: run-time faults of compiled code (an index out of range, integer division by zero)
# and --check-finite, through sinter run (JIT and a compiled library) and the interpreter.
. "$(dirname "$0")/common.bash"

cat >"$TMP/gat.json" <<'EOF'
{"sinter": 1, "name": "gat",
 "inputs": [{"name": "idx", "dtype": "int64", "shape": ["N", 2]}],
 "outputs": ["y"],
 "params": [{"name": "emb", "dtype": "float32", "shape": [5, 2], "init": {"kind": "uniform", "low": -1, "high": 1}}],
 "nodes": [{"name": "lookup", "op": "Gather", "inputs": ["emb", "idx"], "outputs": ["y"]}]}
EOF
I0=0000000000000000 I4=0400000000000000 I5=0500000000000000 IM1=ffffffffffffffff IM5=fbffffffffffffff
mknpy "$TMP/ok.npy" '<i8' '(2, 2)' "$I0$IM5$I4$IM1"
mknpy "$TMP/oob.npy" '<i8' '(2, 2)' "$I0$I5$I4$IM1"

MSG='gat_infer: node "lookup" (Gather): an index is out of range for axis 0 of inputs[0] (size 5)'
run "$SINTER" run "$TMP/gat.json" --input idx="$TMP/ok.npy"
expect_rc "in-range indices (negative ones too)" 0
run "$SINTER" run "$TMP/gat.json" --input idx="$TMP/oob.npy"
expect_rc "out-of-range index, JIT" 1
expect_eq "out-of-range index, JIT: message" "$ERR" "$TMP/gat.json: inference failed: SINTER_EDATA: $MSG"
expect_eq "out-of-range index, JIT: no summary" "$OUT" ""
run "$SINTER" run "$TMP/gat.json" --interp --input idx="$TMP/oob.npy"
expect_rc "out-of-range index, interpreter" 1
expect_eq "out-of-range index, interpreter: message" "$ERR" \
    "$TMP/gat.json: nodes[0] \"lookup\" (Gather): indices[1] is 5, out of range for axis 0 of size 5"

run "$SINTER" compile "$TMP/gat.json" -o "$TMP/libgat.so"
expect_rc "compile" 0
run "$SINTER" run "$TMP/libgat.so" --input idx="$TMP/ok.npy"
expect_rc "library, in-range indices" 0
run "$SINTER" run "$TMP/libgat.so" --input idx="$TMP/oob.npy"
expect_rc "library, out-of-range index" 1
expect_eq "library, out-of-range index: message" "$ERR" "$TMP/libgat.so: inference failed: SINTER_EDATA: $MSG"

# integer division by zero
cat >"$TMP/div.json" <<'EOF'
{"sinter": 1, "name": "idiv",
 "inputs": [{"name": "a", "dtype": "int64", "shape": ["N", 2]}, {"name": "b", "dtype": "int64", "shape": ["N", 2]}],
 "outputs": ["q"],
 "nodes": [{"name": "quotient", "op": "Div", "inputs": ["a", "b"], "outputs": ["q"]}]}
EOF
mknpy "$TMP/b0.npy" '<i8' '(2, 2)' "$I4$I5$I0$IM1"
run "$SINTER" run "$TMP/div.json" --input a="$TMP/ok.npy" --input b="$TMP/ok.npy"
expect_rc "division by zero, JIT" 1
expect_eq "division by zero, JIT: message" "$ERR" \
    "$TMP/div.json: inference failed: SINTER_EDATA: idiv_infer: node \"quotient\" (Div): integer division by zero"
run "$SINTER" run "$TMP/div.json" --input a="$TMP/ok.npy" --input b="$TMP/b0.npy" --interp
expect_rc "division by zero, interpreter" 1
expect_contains "division by zero, interpreter: message" "$ERR" "\"quotient\" (Div): integer division by zero"

# --check-finite: log(0) = -inf
cat >"$TMP/log.json" <<'EOF'
{"sinter": 1, "name": "logm",
 "inputs": [{"name": "x", "dtype": "float32", "shape": ["N", 3]}],
 "outputs": ["y"],
 "nodes": [{"name": "ln", "op": "Log", "inputs": ["x"], "outputs": ["y"]}]}
EOF
mknpy "$TMP/x.npy" '<f4' '(2, 3)' "$F1$F2$F0$F3$F4$FHALF"
run "$SINTER" run "$TMP/log.json" --input x="$TMP/x.npy"
expect_rc "non-finite output without --check-finite" 0
FIN='output "y" (node "ln", Log) holds -inf at element 2 (--check-finite)'
run "$SINTER" run "$TMP/log.json" --input x="$TMP/x.npy" --check-finite
expect_rc "--check-finite, JIT" 1
expect_eq "--check-finite, JIT: message" "$ERR" "$TMP/log.json: inference failed: SINTER_EDATA: logm_infer: $FIN"
run "$SINTER" run "$TMP/log.json" --input x="$TMP/x.npy" --check-finite --interp
expect_rc "--check-finite, interpreter" 1
expect_eq "--check-finite, interpreter: message" "$ERR" "$TMP/log.json: $FIN"
run "$SINTER" compile "$TMP/log.json" -o "$TMP/liblogm.so" --check-finite
expect_rc "compile --check-finite" 0
run "$SINTER" run "$TMP/liblogm.so" --input x="$TMP/x.npy"
expect_rc "--check-finite, library" 1
expect_eq "--check-finite, library: message" "$ERR" "$TMP/liblogm.so: inference failed: SINTER_EDATA: logm_infer: $FIN"
usage_error "--check-finite on a library" \
    "sinter run: --check-finite applies when a MODEL.json is compiled; $TMP/liblogm.so is compiled already (compile it with --check-finite)" \
    run -- "$SINTER" run "$TMP/liblogm.so" --input x="$TMP/x.npy" --check-finite

# Reshape and Expand targets never come from data at run time: a target that is not known at
# compile time is refused (and one whose -1 would not divide for some N too), so the compiled
# code needs no check
cat >"$TMP/rs.json" <<'EOF'
{"sinter": 1, "name": "rs",
 "inputs": [{"name": "x", "dtype": "float32", "shape": ["N", 6]}, {"name": "s", "dtype": "int64", "shape": [2]}],
 "outputs": ["y"],
 "nodes": [{"name": "r", "op": "Reshape", "inputs": ["x", "s"], "outputs": ["y"]}]}
EOF
run "$SINTER" compile "$TMP/rs.json" -o "$TMP/librs.so"
expect_rc "Reshape target from an input" 1
expect_contains "Reshape target from an input: message" "$ERR" "inputs[1] (shape) \"s\" is not known at compile time"
sed -e 's/"Reshape"/"Expand"/' "$TMP/rs.json" >"$TMP/ex.json"
run "$SINTER" compile "$TMP/ex.json" -o "$TMP/libex.so"
expect_rc "Expand target from an input" 1
expect_contains "Expand target from an input: message" "$ERR" "Expand needs a constant there"

finish
