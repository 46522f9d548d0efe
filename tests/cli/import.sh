# CLI test: `sinter import` (files written, their content, exit codes, nothing left on errors)
# and MODEL.onnx accepted directly by the other verbs.
. "$(dirname "$0")/common.bash"
ONNX=$SRC/tests/onnx

# an export with a dynamic batch: the JSON and the weights beside it, loadable by check
run "$SINTER" import "$ONNX/exports/resnet_bn.onnx" -o "$TMP/imp/resnet_bn.json"
expect_rc "import into a missing folder" 1
mkdir "$TMP/imp"
run "$SINTER" import "$ONNX/exports/resnet_bn.onnx" -o "$TMP/imp/resnet_bn.json"
expect_rc "import resnet_bn" 0
expect_eq "import resnet_bn: summary" "$OUT" "wrote $TMP/imp/resnet_bn.json and $TMP/imp/resnet_bn.safetensors (20 params)"
expect_eq "import resnet_bn: no diagnostics" "$ERR" ""
expect_contains "import resnet_bn: the weights file is named" "$(cat "$TMP/imp/resnet_bn.json")" '"weights": "resnet_bn.safetensors"'
expect_contains "import resnet_bn: the batch is N" "$(cat "$TMP/imp/resnet_bn.json")" '"shape":["N",3,16,16]'
run "$SINTER" check "$TMP/imp/resnet_bn.json"
expect_rc "check the imported JSON" 0
json_line=$OUT
run "$SINTER" check "$ONNX/exports/resnet_bn.onnx"
expect_rc "check MODEL.onnx directly" 0
expect_eq "check MODEL.onnx: the same summary as the imported JSON" "$OUT" "$json_line"

# run and compile take the ONNX file too: the interpreter and compiled code give the
# outputs PyTorch gave (exports/*.y.npy, compared by --compare)
run "$SINTER" run "$ONNX/exports/mlp.onnx" --input x="$ONNX/exports/mlp.x.npy" --compare
expect_rc "run mlp.onnx --compare" 0
run "$SINTER" compile "$ONNX/exports/lenet5.onnx" -o "$TMP/liblenet5.so"
expect_rc "compile lenet5.onnx" 0
expect_eq "compile lenet5.onnx: the library" "$(ls "$TMP" | grep -c '^liblenet5.so$')" "1"

# bad inputs: one line naming the file, exit 1, nothing written
for bad in unsupported loop bad_init opset22 relu_opset5 ext_missing; do
    run "$SINTER" import "$ONNX/bad/$bad.onnx" -o "$TMP/bad_$bad.json"
    expect_rc "import bad/$bad" 1
    expect_contains "import bad/$bad: names the file" "$ERR" "$ONNX/bad/$bad.onnx: "
    expect_eq "import bad/$bad: one line" "$(printf '%s\n' "$ERR" | wc -l)" "1"
    expect_eq "import bad/$bad: nothing written" "$(ls "$TMP" | grep -c "^bad_$bad")" "0"
done
head -c 1000 "$ONNX/exports/mlp.onnx" >"$TMP/trunc.onnx"
run "$SINTER" import "$TMP/trunc.onnx" -o "$TMP/trunc.json"
expect_rc "import a truncated file" 1
expect_eq "import a truncated file: message" "$ERR" "$TMP/trunc.onnx: not an ONNX model (the protobuf ModelProto does not parse: truncated or another format)"
expect_eq "import a truncated file: nothing written" "$(ls "$TMP" | grep -c '^trunc\.\(json\|safetensors\)$')" "0"
run "$SINTER" check "$ONNX/bad/unsupported.onnx"
expect_rc "check an unsupported ONNX model" 1
expect_eq "check an unsupported ONNX model: all ops in one line" "$ERR" "$ONNX/bad/unsupported.onnx: unsupported ops (opset 17): Hardmax (nodes \"hm1\", \"hm2\"), com.example.FusedThing (node \"ft\")"

# --batch-dim picks the symbol; the other one is then an error
run "$SINTER" import "$ONNX/bad/two_syms.onnx" -o "$TMP/ts.json" --batch-dim batch
expect_rc "import two_syms --batch-dim batch" 1
expect_contains "import two_syms --batch-dim batch" "$ERR" 'dim 1 is the symbol "seq"'

# --bind: a graph input sinter needs at compile time (a Reshape's shape) given as a constant
run "$SINTER" import "$ONNX/bad/reshape_input.onnx" -o "$TMP/ri.json"
expect_rc "import a Reshape with a run-time shape" 1
expect_contains "import a Reshape with a run-time shape" "$ERR" '"shape" is not known at compile time'
mknpy "$TMP/shape.npy" '<i8' '(2,)' 03000000000000000400000000000000
run "$SINTER" import "$ONNX/bad/reshape_input.onnx" -o "$TMP/ri.json" --bind shape="$TMP/shape.npy"
expect_rc "import --bind shape=FILE.npy" 0
run "$SINTER" check "$TMP/ri.json"
expect_eq "check the bound model" "$OUT" "ri: ok: 1 input, 1 output, 1 node, 0 params (0 B), 0 FLOPs per run, 0 bytes of scratch"
mknpy "$TMP/shape32.npy" '<i4' '(2,)' 0300000004000000
run "$SINTER" import "$ONNX/bad/reshape_input.onnx" -o "$TMP/ri2.json" --bind shape="$TMP/shape32.npy"
expect_rc "import --bind with the wrong dtype" 1
expect_eq "import --bind with the wrong dtype: message" "$ERR" "$ONNX/bad/reshape_input.onnx: input \"shape\": the value given for it (int32, rank 1) does not match its declared type"
usage_error "import --bind without =" 'sinter import: --bind shape: expected NAME=FILE.npy' import -- "$SINTER" import "$ONNX/bad/reshape_input.onnx" -o "$TMP/x.json" --bind shape

# usage
usage_error "import without -o" 'sinter import: -o DIR/NAME.json is required' import -- "$SINTER" import "$ONNX/exports/mlp.onnx"
usage_error "import without a model" 'sinter import: expects a MODEL.onnx' import -- "$SINTER" import -o "$TMP/x.json"
usage_error "import -o not .json" "sinter import: -o $TMP/x.bin: the output must be a .json path (the weights go beside it as NAME.safetensors)" import -- "$SINTER" import "$ONNX/exports/mlp.onnx" -o "$TMP/x.bin"
usage_error "import --batch-dim and --batch-first" 'sinter import: give either --batch-dim or --batch-first, not both' import -- "$SINTER" import "$ONNX/exports/mlp.onnx" -o "$TMP/x.json" --batch-dim b --batch-first
run "$SINTER" import --help
expect_rc "import --help" 0
expect_contains "import --help" "$OUT" "usage: sinter import MODEL.onnx -o DIR/NAME.json"

finish
