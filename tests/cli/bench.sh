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
expect_contains "bench --help: usage" "$OUT" "usage: sinter bench MODEL.json|LIB.so [--batch B] [--threads T] [--warmup W]"
expect_contains "bench --help: --seconds" "$OUT" "  --seconds S "

finish
