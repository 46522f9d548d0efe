# CLI test: `sinter bench`: what it prints and its errors (timings themselves are never checked).
. "$(dirname "$0")/common.bash"

cat >"$TMP/scale.json" <<'EOF'
{
  "sinter": 1,
  "name": "scale",
  "inputs": [{"name": "x", "dtype": "float32", "shape": ["N", 3]}],
  "outputs": ["y"],
  "params": [{"name": "w", "dtype": "float32", "shape": [3], "init": {"kind": "constant", "value": 2}}],
  "nodes": [{"name": "mul", "op": "Mul", "inputs": ["x", "w"], "outputs": ["y"]}]
}
EOF

# the text report
run "$SINTER" bench "$TMP/scale.json" --batch 4 --threads 1 --warmup 2 --iters 5
expect_rc "bench scale.json" 0
expect_eq "bench scale.json: stderr" "$ERR" ""
expect_contains "bench scale.json: header" "$OUT" "scale: compiled in memory (-O2, "
expect_contains "bench scale.json: batch and threads" "$OUT" " s), batch 4, 1 thread
  calls:      5 measured in "
expect_contains "bench scale.json: warm-up" "$OUT" ", after 2 warm-up"
expect_contains "bench scale.json: latency" "$OUT" "  latency:    median "
expect_contains "bench scale.json: p90" "$OUT" "  p90 "
expect_contains "bench scale.json: throughput" "$OUT" "samples/s (batch / median latency)"
expect_contains "bench scale.json: FLOP/s from the cost model" "$OUT" "FLOP/s at the median (12 FLOP per call)"
expect_eq "bench scale.json: 5 lines" "$(printf '%s\n' "$OUT" | wc -l)" "5"

# --json: one object with the same facts
run "$SINTER" bench "$TMP/scale.json" --iters 3 --warmup 0 --threads 2 --json -O1
expect_rc "bench --json" 0
expect_contains "bench --json: fields" "$OUT" "{\"model\": \"scale\", \"source\": \"$TMP/scale.json\", \"batch\": 1, \"threads\": 2, \"warmup\": 0, \"calls\": 3, \"median_ms\": "
expect_contains "bench --json: throughput" "$OUT" ", \"samples_per_s\": "
expect_eq "bench --json: one line" "$(printf '%s\n' "$OUT" | wc -l)" "1"
if [ -x /usr/bin/python3 ]; then
    CHECKS=$((CHECKS + 1))
    printf '%s' "$OUT" | /usr/bin/python3 -c 'import json, sys; r = json.load(sys.stdin); assert r["calls"] == 3 and r["min_ms"] <= r["median_ms"] <= r["p90_ms"], r' ||
        fail "bench --json: not valid JSON, or min <= median <= p90 does not hold"
fi

# --seconds: at least one call
run "$SINTER" bench "$TMP/scale.json" --seconds 0.05 --warmup 0 --json
expect_rc "bench --seconds" 0
expect_contains "bench --seconds: calls" "$OUT" "\"calls\": "

# a library: no FLOP count (no graph), the library's name in the header
mkdir -p "$TMP/lib"
run "$SINTER" compile "$TMP/scale.json" -o "$TMP/lib/libscale.so" -O1
expect_rc "compile scale" 0
run "$SINTER" bench "$TMP/lib/libscale.so" --batch 64 --iters 3 --threads 1
expect_rc "bench libscale.so" 0
expect_contains "bench libscale.so: header" "$OUT" "scale: $TMP/lib/libscale.so, batch 64, 1 thread
  calls:      3 measured in "
expect_eq "bench libscale.so: 4 lines" "$(printf '%s\n' "$OUT" | wc -l)" "4"

# external weights: needs --weights
mkdir -p "$TMP/ext"
run "$SINTER" compile "$TMP/scale.json" -o "$TMP/ext/libscale.so" --external-weights
run "$SINTER" bench "$TMP/ext/libscale.so" --iters 1
expect_rc "bench an external-weights library without --weights" 1
expect_eq "bench an external-weights library: message" "$ERR" "$TMP/ext/libscale.so: the library was built with --external-weights: give its params with --weights FILE.safetensors"

# --train: NAME_train_step on random data shaped by the training section (labels within the classes)
cat >"$TMP/cls.json" <<'EOF'
{
  "sinter": 1,
  "name": "cls",
  "inputs": [{"name": "x", "dtype": "float32", "shape": ["N", 4]}],
  "outputs": ["logits"],
  "params": [
    {"name": "w", "dtype": "float32", "shape": [3, 4], "init": {"kind": "kaiming_uniform", "a": 2.2360679}},
    {"name": "b", "dtype": "float32", "shape": [3], "init": {"kind": "zeros"}}
  ],
  "nodes": [{"name": "fc", "op": "Gemm", "inputs": ["x", "w", "b"], "outputs": ["logits"], "attrs": {"transB": 1}}],
  "training": {
    "inputs": [{"name": "y", "dtype": "int64", "shape": ["N"]}],
    "loss": {"op": "SoftmaxCrossEntropyLoss", "inputs": ["logits", "y"]},
    "optimizer": {"kind": "adam", "lr": 0.01}
  }
}
EOF
run "$SINTER" bench "$TMP/cls.json" --train --batch 64 --threads 1 --warmup 1 --iters 4
expect_rc "bench --train cls.json" 0
expect_eq "bench --train cls.json: stderr" "$ERR" ""
expect_contains "bench --train cls.json: header" "$OUT" "cls train_step: compiled in memory (-O2, "
expect_contains "bench --train cls.json: batch, calls" "$OUT" " s), batch 64, 1 thread
  calls:      4 measured in "
expect_contains "bench --train cls.json: latency" "$OUT" "  latency:    median "
# the cost table counts inference only: no FLOP/s line for a training step
expect_eq "bench --train cls.json: 4 lines" "$(printf '%s\n' "$OUT" | wc -l)" "4"
run "$SINTER" bench "$TMP/cls.json" --train --batch 16 --threads 2 --warmup 0 --iters 3 --json
expect_rc "bench --train --json" 0
expect_contains "bench --train --json: fields" "$OUT" "{\"model\": \"cls\", \"source\": \"$TMP/cls.json\", \"batch\": 16, \"threads\": 2, \"warmup\": 0, \"calls\": 3, \"median_ms\": "
expect_contains "bench --train --json: entry" "$OUT" ", \"entry\": \"train_step\"}"
if [ -x /usr/bin/python3 ]; then
    CHECKS=$((CHECKS + 1))
    printf '%s' "$OUT" | /usr/bin/python3 -c 'import json, sys; r = json.load(sys.stdin); assert set(r) == {"model", "source", "batch", "threads", "warmup", "calls", "median_ms", "p90_ms", "min_ms", "mean_ms", "samples_per_s", "entry"} and r["min_ms"] <= r["median_ms"] <= r["p90_ms"], r' ||
        fail "bench --train --json: not valid JSON, other keys than inference, or min <= median <= p90 does not hold"
fi
run "$SINTER" bench "$TMP/scale.json" --iters 1 --json
expect_contains "bench --json: entry infer" "$OUT" ", \"entry\": \"infer\", \"gflops\": "
# a library with training entry points: labels for its [N, 3] output from the descriptor
run "$SINTER" compile "$TMP/cls.json" -o "$TMP/lib/libcls.so" -O1
expect_rc "compile cls" 0
run "$SINTER" bench "$TMP/lib/libcls.so" --train --batch 64 --iters 3 --threads 1
expect_rc "bench --train libcls.so" 0
expect_contains "bench --train libcls.so: header" "$OUT" "cls train_step: $TMP/lib/libcls.so, batch 64, 1 thread
  calls:      3 measured in "
# a float target (MSELoss) gets floats
cat >"$TMP/reg.json" <<'EOF'
{
  "sinter": 1,
  "name": "reg",
  "inputs": [{"name": "x", "dtype": "float32", "shape": ["N", 4]}],
  "outputs": ["y"],
  "params": [{"name": "w", "dtype": "float32", "shape": [4], "init": {"kind": "constant", "value": 0.5}}],
  "nodes": [{"name": "mul", "op": "Mul", "inputs": ["x", "w"], "outputs": ["y"]}],
  "training": {
    "inputs": [{"name": "target", "dtype": "float32", "shape": ["N", 4]}],
    "loss": {"op": "MSELoss", "inputs": ["y", "target"]},
    "optimizer": {"kind": "sgd", "lr": 0.1}
  }
}
EOF
run "$SINTER" bench "$TMP/reg.json" --train --batch 5 --iters 2 --json
expect_rc "bench --train reg.json (MSELoss)" 0
expect_contains "bench --train reg.json: entry" "$OUT" "\"entry\": \"train_step\""
# no training section: a clear error naming the file
run "$SINTER" bench "$TMP/scale.json" --train --iters 1
expect_rc "bench --train without a training section" 1
expect_eq "bench --train without a training section: message" "$ERR" "$TMP/scale.json: the model has no \"training\" section (training inputs, loss and optimizer); bench --train times its training step"
expect_eq "bench --train without a training section: nothing on stdout" "$OUT" ""
run "$SINTER" bench "$TMP/lib/libscale.so" --train --iters 1
expect_rc "bench --train on a library without training entry points" 1
expect_eq "bench --train on a library without training entry points: message" "$ERR" "$TMP/lib/libscale.so: the library has no training entry points: its model has no \"training\" section; bench --train times the training step"

# errors
run "$SINTER" bench "$TMP/none.so"
expect_rc "bench a missing library" 1
expect_eq "bench a missing library: message" "$ERR" "$TMP/none.so: cannot open: No such file or directory"
run "$SINTER" bench "$TMP/none.json"
expect_rc "bench a missing model" 1
expect_contains "bench a missing model: names it" "$ERR" "$TMP/none.json: "
usage_error "bench without a model" "sinter bench: expects a MODEL.json or LIB.so" bench -- "$SINTER" bench --batch 2
usage_error "bench two models" "sinter bench: expects one model, got \"a.json\" and \"b.json\"" bench -- "$SINTER" bench a.json b.json
usage_error "bench --iters and --seconds" "sinter bench: --iters and --seconds exclude each other (give a number of calls or a duration)" bench -- \
    "$SINTER" bench "$TMP/scale.json" --iters 3 --seconds 1
usage_error "bench --batch 0" "sinter bench: --batch expects a positive integer (the batch symbol N), got \"0\"" bench -- "$SINTER" bench "$TMP/scale.json" --batch 0
usage_error "bench --threads x" "sinter bench: --threads expects a thread count (1 to 4096), got \"x\"" bench -- "$SINTER" bench "$TMP/scale.json" --threads x
usage_error "bench --iters 0" "sinter bench: --iters expects a number of calls (1 or more), got \"0\"" bench -- "$SINTER" bench "$TMP/scale.json" --iters 0
usage_error "bench --seconds -1" "sinter bench: --seconds expects a duration in seconds (more than 0), got \"-1\"" bench -- "$SINTER" bench "$TMP/scale.json" --seconds=-1
usage_error "bench --warmup missing" "sinter bench: --warmup expects a number of calls" bench -- "$SINTER" bench "$TMP/scale.json" --warmup
usage_error "bench unknown option" "sinter bench: unknown option --iter (did you mean --iters?)" bench -- "$SINTER" bench "$TMP/scale.json" --iter 3
usage_error "bench -O on a library" "sinter bench: -O applies when a MODEL.json is compiled; $TMP/lib/libscale.so is compiled already" bench -- \
    "$SINTER" bench "$TMP/lib/libscale.so" -O3

# --help
run "$SINTER" bench --help
expect_rc "bench --help" 0
expect_contains "bench --help: usage" "$OUT" "usage: sinter bench MODEL.json|LIB.so [--train] [--batch B] [--threads T] [--warmup W]"
expect_contains "bench --help: --seconds" "$OUT" "  --seconds S "
expect_contains "bench --help: --train" "$OUT" "  --train           time the training step"

finish
