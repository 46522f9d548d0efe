# CLI test: --prune on compile/check/train, compile -o OUT.json (the model after the pipeline + OUT.safetensors), check --stats per layer.
. "$(dirname "$0")/common.bash"

MLP=$EX/fmnist_mlp.json

# ---- usage errors --------------------------------------------------------------------------------
usage_error "bad spec" "sinter compile: --prune expects magnitude:S, global-magnitude:S, channels:S (S in [0, 1)) or N:M such as 2:4, got \"half\"" \
    compile -- "$SINTER" compile "$MLP" -o "$TMP/x.so" --prune half
usage_error "sparsity 1" "sinter check: --prune expects a sparsity S in [0, 1) after \"channels:\", got \"1\"" check -- \
    "$SINTER" check "$MLP" --prune channels:1
usage_error "--emit json to .so" "sinter compile: --emit json writes OUT.json and OUT.safetensors: -o must end in .json, got \"$TMP/x.so\"" \
    compile -- "$SINTER" compile "$MLP" -o "$TMP/x.so" --emit json
usage_error "train --prune of a library" "sinter train: --prune applies when a MODEL.json is compiled; lib.so is compiled already" \
    train -- "$SINTER" train lib.so --data fmnist --epochs 1 --batch 8 --prune 2:4

# ---- channels: the emitted model is smaller and loads ------------------------------------------
run "$SINTER" compile "$MLP" --prune channels:0.5 -o "$TMP/half.json"
expect_rc "compile -o json" 0
CHECKS=$((CHECKS + 1))
[ -s "$TMP/half.safetensors" ] || fail "no $TMP/half.safetensors beside the JSON"
run "$SINTER" check "$TMP/half.json"
expect_rc "check the emitted model" 0
expect_contains "the emitted model is half of fc1" "$OUT" "101,770 params"
run grep -c '"init"' "$TMP/half.json"
expect_eq "params come from the weights file" "$OUT" "0"
run "$SINTER" check --stats --prune channels:0.5 "$MLP"
expect_rc "check --stats --prune" 0
expect_contains "the prune statistic" "$OUT" "prune: 128 channels removed"
expect_contains "fc1 before and after" "$OUT" "fc1                    200,960 -> 100,480"
expect_contains "fc2 shrinks its inputs" "$OUT" "fc2                      2,570 -> 1,290"
# the emitted model compiles to a library whose params are the emitted ones
run "$SINTER" compile "$TMP/half.json" -o "$TMP/libhalf.so"
expect_rc "compile the emitted model" 0

# ---- unstructured: zeros recorded in the emitted model ------------------------------------------
run "$SINTER" compile "$MLP" --prune 2:4 -o "$TMP/nm.json"
expect_rc "compile --prune 2:4 -o json" 0
run grep -o '"sparse": {[^}]*}' "$TMP/nm.json"
expect_eq "records" "$OUT" '"sparse": {"format": "n:m", "block": [2, 4], "nnz": 100352}
"sparse": {"format": "n:m", "block": [2, 4], "nnz": 1280}'
run "$SINTER" check --stats --prune global-magnitude:0.9 "$MLP"
expect_contains "global magnitude zeroes 90% of the weights" "$OUT" "prune: 182938 weights zeroed"
finish
