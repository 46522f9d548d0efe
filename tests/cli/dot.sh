# CLI test: the DOT pictures of `sinter dump` (graphs, training graphs, plans) and --format svg|png.
. "$(dirname "$0")/common.bash"

# dot_check WHAT DOT: every node has a different label and at least one edge (nothing floats).
dot_check() {
    local what=$1 problems
    problems=$(printf '%s\n' "$2" | awk '
        /^  [a-z][a-z0-9_]* \[/ && $1 != "graph" && $1 != "node" && $1 != "edge" {
            id = $1
            label = $0; sub(/.*label=</, "", label)
            if (label in seen) printf "same label: %s and %s\n", seen[label], id
            seen[label] = id; decl[id] = 1
        }
        /^  [a-z][a-z0-9_]* -> [a-z][a-z0-9_]*/ { dst = $3; sub(/;$/, "", dst); linked[$1] = 1; linked[dst] = 1 }
        END { for (id in decl) if (!(id in linked)) printf "no edge: %s\n", id }')
    expect_eq "$what: unique labels, no floating node" "$problems" ""
}

# node_id DOT LABEL-TEXT: the id of the node whose label contains the text
node_id() {
    printf '%s\n' "$1" | grep -F -- "$2" | head -1 | awk '{print $1}'
}

# float scalar constants show their value, as integer ones did
run "$SINTER" dump "$EX/transformer_encoder.json" --format dot
expect_rc "dump transformer --format dot" 0
TR=$OUT
expect_contains "dot: the attention scale" "$TR" 'scale = 4<'
expect_contains "dot: an int scalar" "$TR" 'zero = 0<'
expect_contains "dot: an int list" "$TR" 'heads_shape = [16, 4, 16]'
expect_contains "dot: consumers keep the model's order" "$TR" 'ordering=out'
dot_check "transformer" "$TR"
run "$SINTER" dump "$EX/fmnist_mlp.json" --format dot
expect_contains "dot: the pixel mean" "$OUT" 'pixel_mean = 0.286041<'

# the training graph: optimizer state and its updates are drawn (resnet_small: SGD with momentum)
for m in fmnist_mlp lenet5 resnet_small transformer_encoder; do
    run "$SINTER" dump "$EX/$m.json" --after autodiff --format dot
    expect_rc "dump $m --after autodiff --format dot" 0
    dot_check "$m training graph" "$OUT"
    # every optimizer node ends in what it writes back
    for id in $(printf '%s\n' "$OUT" | grep -E '<b>(AdamUpdate|SgdUpdate)</b>' | awk '{print $1}'); do
        expect_contains "$m: $id writes back" "$(printf '%s\n' "$OUT" | grep -E "^  $id -> u[0-9]+ ")" "$id -> u"
    done
done
run "$SINTER" dump "$EX/fmnist_mlp.json" --after autodiff --format dot
TG=$OUT
step=$(node_id "$TG" '<b>optim.step</b><br/>optimizer state i64[]')
add=$(node_id "$TG" '<b>Add</b><br/>optim/step')
expect_contains "training dot: the step counter is a state node" "$TG" "[shape=cylinder"
expect_contains "training dot: the counter feeds its increment" "$TG" "  $step -> $add "
expect_contains "training dot: the increment is written back" "$TG" "<b>written back</b><br/>optim.step>"
expect_contains "training dot: an Adam write-back" "$TG" \
    '<b>written back</b><br/>fc1.weight<br/>adam.m/fc1.weight<br/>adam.v/fc1.weight>'
expect_contains "training dot: moments are optimizer state, not frozen" "$TG" \
    'adam.m/fc1.weight f32[256,784] (optimizer state)'
expect_contains "training dot: backward nodes of one layer differ" "$TG" 'bwd/fc2<br/>&#8594; grad/fc2.weight'
# the plan: kernels, groups as clusters, buffers with storage and size
run "$SINTER" dump "$EX/fmnist_mlp.json" --after plan --format dot
expect_rc "dump --after plan --format dot" 0
PLAN=$OUT
expect_contains "plan dot: a title with the totals" "$PLAN" '</b>: inference program, 3 kernels, params 814144 B, scratch 4160N B>'
expect_contains "plan dot: a group is a cluster" "$PLAN" 'subgraph cluster_s1 {'
expect_contains "plan dot: the cluster's title" "$PLAN" '<b>s1: kernel group 1</b> (2 ops)'
expect_contains "plan dot: a lone kernel" "$PLAN" '<b>s2: Gemm</b><br/>fc2'
expect_contains "plan dot: a param with offset and size" "$PLAN" 'fc1.weight f32[256,784] param @0, 802816 B'
expect_contains "plan dot: a scratch buffer" "$PLAN" '<b>a1</b> f32[N,256]<br/><font point-size="8">scratch @3136N, 1024N B, live s1..s2'
expect_contains "plan dot: the input" "$PLAN" 'input 0, 3136N B'
expect_contains "plan dot: a value kept in registers" "$PLAN" 'f32[N,256], not stored'
dot_check "mlp plan" "$PLAN"
run "$SINTER" dump "$EX/lenet5.json" --after plan --format dot
expect_contains "plan dot: a view" "$OUT" 'view of p2'
dot_check "lenet plan" "$OUT"

# --format svg|png: a clear error without Graphviz, exit 1, no file
mkdir -p "$TMP/nodot"
run env PATH="$TMP/nodot" "$SINTER" dump "$EX/fmnist_mlp.json" --format png -o "$TMP/nodot.png"
expect_rc "png without graphviz" 1
expect_eq "png without graphviz: one line" "$ERR" \
    "sinter dump: --format png needs Graphviz's dot on PATH (Debian: apt-get install graphviz); --format dot prints the DOT text"
expect_eq "png without graphviz: no file" "$(ls "$TMP" | grep -c nodot.png)" "0"
# a dot that fails: its complaint, exit 1, no file
printf '#!/bin/sh\necho "Error: out of cheese" >&2\nexit 3\n' >"$TMP/nodot/dot"
chmod +x "$TMP/nodot/dot"
run env PATH="$TMP/nodot:/usr/bin:/bin" "$SINTER" dump "$EX/fmnist_mlp.json" --format svg -o "$TMP/bad.svg"
expect_rc "a failing dot" 1
expect_eq "a failing dot: its complaint" "$ERR" "sinter dump: $TMP/nodot/dot -Tsvg failed: Error: out of cheese"
expect_eq "a failing dot: no file" "$(ls "$TMP" | grep -c bad.svg)" "0"

if command -v dot >/dev/null 2>&1; then
    run "$SINTER" dump "$EX/fmnist_mlp.json" --after autodiff --format svg -o "$TMP/train.svg"
    expect_rc "svg of the training graph" 0
    expect_contains "svg: an svg" "$(head -c 3000 "$TMP/train.svg")" "<svg"
    run "$SINTER" dump "$EX/lenet5.json" --after plan --format png -o "$TMP/plan.png"
    expect_rc "png of a plan" 0
    expect_eq "png: the PNG magic" "$(head -c 4 "$TMP/plan.png" | od -An -c | tr -d ' ')" '211PNG'
    # the drawn order of the attention branches is the model's: q left of k left of v
    printf '%s\n' "$TR" | dot -Tplain >"$TMP/tr.plain"
    xs=$(for b in q k v; do
        id=$(node_id "$TR" "attn.$b.matmul<")
        awk -v id="$id" '$1 == "node" && $2 == id {print $3}' "$TMP/tr.plain"
    done | tr '\n' ' ')
    expect_eq "q, k, v drawn left to right" "$(printf '%s\n' $xs | sort -g | tr '\n' ' ')" "$xs"
else
    echo "graphviz not installed: rendering checks skipped"
fi

finish