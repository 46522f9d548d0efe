# CLI test: the .sir text IR end to end. Every example and ONNX test model, dumped as loaded and
# after every pass of both named pipelines, prints the same text when dumped again from the
# file; a .sir dumps to the same model JSON as the model it came from; the other verbs take one.
. "$(dirname "$0")/common.bash"

# roundtrip WHAT MODEL ARGS...: `sinter dump MODEL ARGS -o X.sir`, then `sinter dump X.sir`
# prints X.sir again (not run again when the text is the one checked just before: a pass that
# changed nothing).
LAST=""
roundtrip() {
    local what=$1 model=$2
    shift 2
    run "$SINTER" dump "$model" "$@" -o "$TMP/s.sir"
    expect_rc "$what: dump -o X.sir" 0
    local text
    text=$(cat "$TMP/s.sir")
    [ "$text" = "$LAST" ] && return
    LAST=$text
    run "$SINTER" dump "$TMP/s.sir"
    expect_rc "$what: dump X.sir" 0
    expect_eq "$what: dump X.sir prints X.sir" "$OUT" "$(cat "$TMP/s.sir")"
}

stages=0
for model in "$EX"/*.json "$SRC"/tests/onnx/exports/*.onnx; do
    m=${model#"$SRC"/}
    roundtrip "$m as loaded" "$model"
    run "$SINTER" dump "$model" --format json
    want=$OUT
    run "$SINTER" dump "$TMP/s.sir" --format json
    expect_eq "$m: dump X.sir --format json is the model's JSON" "$OUT" "$want"
    for pipeline in inference training; do
        # the pipeline's passes, from the headers of --after all
        run "$SINTER" dump "$model" --pipeline "$pipeline" --after all
        expect_rc "$m: --pipeline $pipeline --after all" 0
        passes=$(printf '%s\n' "$OUT" | sed -n 's/^; after //p')
        prefix=""
        k=0
        for p in $passes; do
            prefix+=${prefix:+,}$p
            k=$((k + 1))
            roundtrip "$m: $pipeline pipeline after pass $k ($p)" "$model" --passes "$prefix"
            stages=$((stages + 1))
        done
    done
done
# 4 examples and 5 ONNX models through 8 + 13 passes
CHECKS=$((CHECKS + 1))
[ "$stages" -ge 150 ] || fail "only $stages stages checked"

# the verbs take a .sir: the same results as the model it came from
MLP=$EX/fmnist_mlp.json
"$SINTER" dump "$MLP" -o "$TMP/mlp.sir"
run "$SINTER" check "$TMP/mlp.sir"
expect_rc "check X.sir" 0
expect_contains "check X.sir: the model" "$OUT" "fmnist_mlp: ok: 1 input, 1 output"
run "$SINTER" run "$MLP" --random --n 2 --interp
want=$OUT
run "$SINTER" run "$TMP/mlp.sir" --random --n 2 --interp
expect_eq "run X.sir --interp: the model's outputs" "$OUT" "$want"
run "$SINTER" compile "$TMP/mlp.sir" -o "$TMP/libfmnist_mlp.so"
expect_rc "compile X.sir" 0
run "$SINTER" run "$TMP/libfmnist_mlp.so" --random --n 2
expect_contains "the library of X.sir runs like the model" "$OUT" "$(printf '%s\n' "$want" | sed -n 2p)"
if [ -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
    run "$SINTER" train "$MLP" --data fmnist --epochs 1 --batch 32 --limit 256
    want=$(printf '%s\n' "$OUT" | grep -o 'train loss [0-9.]*\|test accuracy [0-9.]*%')
    run "$SINTER" train "$TMP/mlp.sir" --data fmnist --epochs 1 --batch 32 --limit 256
    expect_rc "train X.sir" 0
    expect_eq "train X.sir: the model's losses" "$(printf '%s\n' "$OUT" | grep -o 'train loss [0-9.]*\|test accuracy [0-9.]*%')" "$want"
    run "$SINTER" eval "$TMP/mlp.sir" --data fmnist --limit 256 --json
    expect_rc "eval X.sir" 0
    expect_contains "eval X.sir: an accuracy" "$OUT" '"accuracy"'
fi
run "$SINTER" bench "$TMP/mlp.sir" --iters 3 --warmup 1 --json
expect_rc "bench X.sir" 0
# a training graph is a model for dump, check and run, not for train (which builds its own)
"$SINTER" dump "$MLP" --after autodiff -o "$TMP/mlp_train.sir"
run "$SINTER" train "$TMP/mlp_train.sir" --data fmnist --epochs 1 --batch 32 --limit 64
expect_rc "train a training graph" 1
expect_contains "train a training graph: says why" "$ERR" "the graph is a training graph already (autodiff ran)"
run "$SINTER" check "$TMP/mlp_train.sir"
expect_rc "check a training graph" 0

finish
