# CLI test: `sinter train --save` survives kill -9 at any moment: the checkpoint on disk is always
# a complete one (NAME_save writes a temporary file beside it, fsyncs, renames), so training
# resumes from it. The model carries a 16 MB frozen param so that most of each epoch is saving.
. "$(dirname "$0")/common.bash"

cat >"$TMP/ck.json" <<'EOF'
{"sinter": 1, "name": "ck",
 "inputs": [{"name": "x", "dtype": "float32", "shape": ["N", 2]}],
 "outputs": ["y"],
 "params": [{"name": "w", "dtype": "float32", "shape": [2], "init": {"kind": "ones"}},
            {"name": "ballast", "dtype": "float32", "shape": [4194304], "trainable": false, "init": {"kind": "zeros"}}],
 "nodes": [{"op": "Mul", "inputs": ["x", "w"], "outputs": ["y"]}],
 "training": {"inputs": [{"name": "t", "dtype": "float32", "shape": ["N", 2]}],
   "loss": {"op": "MSELoss", "inputs": ["y", "t"]}, "optimizer": {"kind": "sgd", "lr": 0.01}}}
EOF
mknpy "$TMP/x.npy" '<f4' '(2, 2)' "$F1$F2$F3$F4"
mknpy "$TMP/t.npy" '<f4' '(2, 2)' "$F0$F0$F0$F0"
CK="$TMP/ck.safetensors"
run "$SINTER" train "$TMP/ck.json" --data "$TMP/x.npy,$TMP/t.npy" --epochs 1 --batch 2 --no-eval --save "$CK"
expect_rc "first checkpoint" 0

mid_save=0
for round in $(seq 1 16); do
    "$SINTER" train "$TMP/ck.json" --data "$TMP/x.npy,$TMP/t.npy" --epochs 100000 --batch 2 --no-eval \
        --load "$CK" --save "$CK" >/dev/null 2>&1 &
    pid=$!
    # once a save is under way (its temporary file exists; at most 10 s under load), a random
    # 0..90 ms later: during that save or a following one
    for _ in $(seq 1 200); do
        compgen -G "$CK.tmp.*" >/dev/null && break
        sleep 0.05
    done
    sleep "0.0$((RANDOM % 10))"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    # a kill between mkstemp and rename leaves the temporary file (never the checkpoint's name)
    for tmp in "$CK".tmp.*; do
        [ -e "$tmp" ] && mid_save=$((mid_save + 1)) && rm -f "$tmp"
    done
    run "$SINTER" train "$TMP/ck.json" --data "$TMP/x.npy,$TMP/t.npy" --epochs 0 --batch 2 --load "$CK" \
        --eval-data "$TMP/x.npy,$TMP/t.npy"
    expect_rc "round $round: the checkpoint loads after kill -9" 0
done
CHECKS=$((CHECKS + 1))
[ "$mid_save" -ge 1 ] || fail "no kill landed during a save in 16 rounds (the test did not test)"
echo "save_kill.sh: $mid_save of 16 kills landed during a save"

finish
