# CLI test: `sinter dump` in every format on every example, after passes, JSON round trip, -o.
. "$(dirname "$0")/common.bash"

for m in fmnist_mlp lenet5 resnet_small transformer_encoder; do
    model=$EX/$m.json

    # text: the graph as parsed
    run "$SINTER" dump "$model"
    expect_rc "dump $m" 0
    expect_contains "dump $m: header" "$OUT" "$m"
    expect_contains "dump $m: an input" "$OUT" "%x"
    expect_eq "dump $m: stderr" "$ERR" ""
    parsed=$OUT

    # json: re-parses, and the re-parsed model prints exactly like the original
    run "$SINTER" dump "$model" --format json -o "$TMP/$m.json"
    expect_rc "dump $m --format json -o" 0
    expect_eq "dump $m -o: nothing on stdout" "$OUT" ""
    run "$SINTER" dump "$TMP/$m.json"
    expect_rc "dump of $m's JSON dump" 0
    expect_eq "dump $m: JSON round trip prints the same text" "$OUT" "$parsed"

    # -o writes the same as stdout
    run "$SINTER" dump "$model" -o "$TMP/$m.txt"
    expect_rc "dump $m -o" 0
    expect_eq "dump $m -o FILE equals stdout" "$(cat "$TMP/$m.txt")" "$parsed"

    # after the whole default pipeline (the last pass is dce), and after every pass
    run "$SINTER" dump "$model" --after dce
    expect_rc "dump $m --after dce" 0
    run "$SINTER" dump "$model" --after all
    expect_rc "dump $m --after all" 0
    expect_contains "dump $m --after all: shape_infer header" "$OUT" "; after shape_infer"
    expect_contains "dump $m --after all: const_fold header" "$OUT" "; after const_fold"
    expect_contains "dump $m --after all: cse header" "$OUT" "; after cse"

    # the optimized graph also round-trips through JSON
    run "$SINTER" dump "$model" --after cse
    optimized=$OUT
    run "$SINTER" dump "$model" --after cse --format json -o "$TMP/$m.opt.json"
    expect_rc "dump $m --after cse --format json" 0
    run "$SINTER" dump "$TMP/$m.opt.json"
    expect_rc "dump of $m's optimized JSON" 0
    expect_eq "dump $m: optimized JSON round trip" "$OUT" "$optimized"

    # dot: a digraph that Graphviz renders (when Graphviz is installed)
    run "$SINTER" dump "$model" --format dot
    expect_rc "dump $m --format dot" 0
    expect_contains "dump $m --format dot" "$OUT" "digraph"
    if command -v dot >/dev/null 2>&1; then
        printf '%s\n' "$OUT" >"$TMP/$m.dot"
        run dot -Tsvg "$TMP/$m.dot" -o "$TMP/$m.svg"
        expect_rc "dot -Tsvg renders $m" 0
        expect_contains "dot -Tsvg: $m has an svg" "$(head -c 2000 "$TMP/$m.svg")" "<svg"
    fi
done

# -oFILE and --output=FILE are -o FILE
run "$SINTER" dump "$EX/fmnist_mlp.json" -o"$TMP/short.txt"
expect_rc "dump -oFILE" 0
run "$SINTER" dump "$EX/fmnist_mlp.json" --output="$TMP/long.txt"
expect_rc "dump --output=FILE" 0
expect_eq "dump -oFILE and --output=FILE write the same" "$(cat "$TMP/short.txt")" "$(cat "$TMP/long.txt")"
expect_eq "dump -oFILE writes the dump" "$(cat "$TMP/short.txt")" "$(cat "$TMP/fmnist_mlp.txt")"

# --passes runs a custom pipeline; --stats reports on stderr
run "$SINTER" dump "$EX/transformer_encoder.json" --passes shape_infer,const_fold,dce --stats
expect_rc "dump --passes --stats" 0
expect_contains "dump --stats names a pass" "$ERR" "const_fold: "

# --show-data prints constants in full
run "$SINTER" dump "$EX/transformer_encoder.json" --show-data
expect_rc "dump --show-data" 0
expect_contains "dump --show-data: the heads shape" "$OUT" "[16, 4, 16]"

# -o into a folder that does not exist: status 1, the file named, nothing written
run "$SINTER" dump "$EX/fmnist_mlp.json" -o "$TMP/no/such/dir/out.txt"
expect_rc "dump -o into a missing folder" 1
expect_contains "dump -o into a missing folder names it" "$ERR" "sinter dump: $TMP/no/such/dir/out.txt: "

# a broken model: diagnostics and status 1
printf '{"sinter": 2}' >"$TMP/v2.json"
run "$SINTER" dump "$TMP/v2.json"
expect_rc "dump an unsupported version" 1
expect_contains "dump an unsupported version names the file" "$ERR" "$TMP/v2.json: "
expect_eq "dump an unsupported version: nothing on stdout" "$OUT" ""

# --after autodiff: the training graph after the default pipeline
run "$SINTER" dump "$EX/fmnist_mlp.json" --after autodiff
expect_rc "dump --after autodiff" 0
expect_contains "dump --after autodiff: the weight gradient" "$OUT" '%"grad/fc1.weight" = Gemm(%"grad/h1", '
expect_contains "dump --after autodiff: the Adam update" "$OUT" '= AdamUpdate(%fc2.bias, %"grad/fc2.bias", %optim.lr, %optim.step, '
expect_contains "dump --after autodiff: update pairs" "$OUT" 'training update %fc1.weight <- %"next/fc1.weight"'

# --after fuse: the kernel groups; the training pipeline fuses the backward graph too
run "$SINTER" dump "$EX/lenet5.json" --after fuse
expect_rc "dump --after fuse" 0
expect_contains "dump --after fuse: conv + bias + relu in one group" "$OUT" ': f32[N,6,28,28] group='
run "$SINTER" dump "$EX/fmnist_mlp.json" --pipeline training --after fuse
expect_rc "dump --pipeline training --after fuse" 0
expect_contains "dump --pipeline training: the ReluGrad is grouped" "$OUT" 'ReluGrad('
expect_contains "dump --pipeline training: a group mark" "$OUT" ' group=0'
run "$SINTER" dump "$EX/fmnist_mlp.json" --pipeline nope
expect_rc "dump --pipeline nope" 2
expect_contains "dump --pipeline nope: says what it takes" "$ERR" 'inference or training'
run "$SINTER" dump "$EX/fmnist_mlp.json" --after plan
expect_contains "dump --after plan: the group's kernel" "$OUT" ': group 1: Gemm(%xn, %fc1.weight, %fc1.bias) -> %h1; Relu(%h1) -> %a1'
expect_contains "dump --after plan: an intermediate is not stored" "$OUT" '%h1 : f32[N,256]  inside kernel'

# the text IR parses back: a .sir file is a model for every verb, and dumps as it was written
run "$SINTER" dump "$EX/lenet5.json" --pipeline training --after fuse -o "$TMP/lenet5_train.sir"
expect_rc "dump -o X.sir" 0
run "$SINTER" dump "$TMP/lenet5_train.sir"
expect_rc "dump X.sir" 0
expect_eq "dump X.sir: the same text" "$OUT" "$(cat "$TMP/lenet5_train.sir")"
run "$SINTER" dump "$EX/lenet5.json" -o "$TMP/lenet5.sir"
run "$SINTER" check "$TMP/lenet5.sir"
expect_rc "check X.sir" 0
run "$SINTER" dump "$EX/lenet5.json" --format json
JSON_OUT=$OUT
run "$SINTER" dump "$TMP/lenet5.sir" --format json
expect_eq "dump X.sir --format json: the model it came from" "$OUT" "$JSON_OUT"
printf 'model m (seed 0)\ninput %%x : f32[N]\n%%y = Relu(%%q) : f32[N]\n' > "$TMP/bad.sir"
run "$SINTER" check "$TMP/bad.sir"
expect_rc "check bad.sir" 1
expect_eq "check bad.sir: one line naming the place" "$ERR" "$TMP/bad.sir: 3:11: unknown value \"q\" (values are declared before their uses)"

finish
