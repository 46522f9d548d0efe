# sinter compile refuses graphs whose inference code would not mean what the model says.
. "$(dirname "$0")/common.bash"

# Dropout whose training_mode is a graph input: inference code is the identity, so refuse
cat >"$TMP/drop.json" <<'JSON'
{"sinter": 1, "name": "drop",
 "inputs": [{"name": "x", "dtype": "float32", "shape": ["N", 4]}, {"name": "t", "dtype": "bool", "shape": []}],
 "outputs": ["y"],
 "nodes": [{"op": "Dropout", "inputs": ["x", "", "t"], "outputs": ["y"]}]}
JSON
run "$SINTER" compile "$TMP/drop.json" -o "$TMP/libdrop.so"
expect_rc "compile Dropout with a run-time training_mode" 1
expect_eq "compile Dropout with a run-time training_mode: message" "$ERR" "$TMP/drop.json: nodes[0] (Dropout): inputs[2] (training_mode) \"t\" must be a constant false for inference code; remove it (training uses the model's training section)"
expect_eq "compile Dropout with a run-time training_mode: nothing written" "$(ls "$TMP" | grep -c libdrop)" "0"

# the same with a constant false compiles
sed 's/{"name": "t", "dtype": "bool", "shape": \[\]}/{"name": "x2", "dtype": "float32", "shape": [1]}/; s/"outputs": \["y"\],/"outputs": ["y"], "constants": [{"name": "t", "dtype": "bool", "shape": [], "data": [false]}],/' \
    "$TMP/drop.json" >"$TMP/drop0.json"
run "$SINTER" compile "$TMP/drop0.json" -o "$TMP/libdrop0.so"
expect_rc "compile Dropout with training_mode false" 0

finish
