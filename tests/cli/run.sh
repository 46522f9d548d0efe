# CLI test: `sinter run --interp`: inputs from .npy, N inference, type checks, outputs to .npy.
. "$(dirname "$0")/common.bash"

# An Identity model: what goes in comes out, so .npy files can be checked without numpy.
cat >"$TMP/ident.json" <<'EOF'
{
  "sinter": 1,
  "name": "ident",
  "inputs": [{"name": "x", "dtype": "float32", "shape": ["N", 3]}],
  "outputs": ["y"],
  "nodes": [{"name": "copy", "op": "Identity", "inputs": ["x"], "outputs": ["y"]}]
}
EOF
mknpy "$TMP/x23.npy" '<f4' '(2, 3)' "$F1$F2$F3$FHALF$FM1$F4"

run "$SINTER" run "$TMP/ident.json" --interp --input x="$TMP/x23.npy" --output y="$TMP/y.npy"
expect_rc "run ident" 0
expect_eq "run ident: summary" "$OUT" "ident: ran on the reference interpreter with N=2 (from $TMP/x23.npy)
y: f32[2,3]  min -1  max 4  mean 1.58333
  values: 1 2 3 0.5 -1 4
  argmax of rows 0..1: 2 2
wrote y to $TMP/y.npy"
expect_eq "run ident: stderr" "$ERR" ""
# the written file has the same data bytes, and reads back through the same model
expect_eq "run ident: output data bytes" "$(tail -c 24 "$TMP/y.npy" | od -An -tx1)" "$(tail -c 24 "$TMP/x23.npy" | od -An -tx1)"
run "$SINTER" run "$TMP/ident.json" --interp --input x="$TMP/y.npy" --show 3
expect_rc "run ident on its own output" 0
expect_contains "run ident on its own output: values" "$OUT" "  values: 1 2 3 ... (first 3 of 6)"

# --n must agree with the files
run "$SINTER" run "$TMP/ident.json" --interp --input x="$TMP/x23.npy" --n 5
expect_rc "run with a conflicting --n" 1
expect_eq "run with a conflicting --n: message" "$ERR" "$TMP/x23.npy: input \"x\" has shape [2,3], which means N=2, but --n means N=5"

# dtype differs from the declaration: an error, not a conversion
mknpy "$TMP/i23.npy" '<i8' '(2, 3)' "$(printf '0%.0s' {1..96})"
run "$SINTER" run "$TMP/ident.json" --interp --input x="$TMP/i23.npy"
expect_rc "run with an int64 file for a float32 input" 1
expect_eq "run with an int64 file: message" "$ERR" "$TMP/i23.npy: input \"x\" is declared f32[N,3] but the file holds int64 [2,3]; convert the data to float32 (sinter does not convert silently)"

# shape differs from the declaration
mknpy "$TMP/x32.npy" '<f4' '(3, 2)' "$F1$F2$F3$FHALF$FM1$F4"
run "$SINTER" run "$TMP/ident.json" --interp --input x="$TMP/x32.npy"
expect_rc "run with a wrong shape" 1
expect_eq "run with a wrong shape: message" "$ERR" "$TMP/x32.npy: input \"x\" is declared f32[N,3] but the file has shape [3,2] (dim 1 is 2, not 3)"
mknpy "$TMP/x6.npy" '<f4' '(6,)' "$F1$F2$F3$FHALF$FM1$F4"
run "$SINTER" run "$TMP/ident.json" --interp --input x="$TMP/x6.npy"
expect_rc "run with a wrong rank" 1
expect_eq "run with a wrong rank: message" "$ERR" "$TMP/x6.npy: input \"x\" is declared f32[N,3] (rank 2) but the file has shape [6] (rank 1)"
mknpy "$TMP/x03.npy" '<f4' '(0, 3)' ""
run "$SINTER" run "$TMP/ident.json" --interp --input x="$TMP/x03.npy"
expect_rc "run with N=0" 1
expect_eq "run with N=0: message" "$ERR" "$TMP/x03.npy: input \"x\" is declared f32[N,3] but the file has shape [0,3] (dim 0 is 0, which is not N for any N >= 1)"

# file problems: named, status 1
run "$SINTER" run "$TMP/ident.json" --interp --input x="$TMP/none.npy"
expect_rc "run with a missing file" 1
expect_contains "run with a missing file names it" "$ERR" "$TMP/none.npy: "
printf 'not a numpy file' >"$TMP/junk.npy"
run "$SINTER" run "$TMP/ident.json" --interp --input x="$TMP/junk.npy"
expect_rc "run with a junk file" 1
expect_contains "run with a junk file names it" "$ERR" "$TMP/junk.npy: "
expect_eq "run with a junk file: one line" "$(printf '%s\n' "$ERR" | wc -l)" "1"

# names that are not in the model: usage errors
usage_error "run with an unknown input" "sinter run: --input z: ident has no input \"z\" (inputs: x; training inputs: (none))" run -- \
    "$SINTER" run "$TMP/ident.json" --interp --input z="$TMP/x23.npy"
usage_error "run with a missing input" "sinter run: input \"x\" is not given; add --input x=FILE.npy (or --random)" run -- \
    "$SINTER" run "$TMP/ident.json" --interp
usage_error "run with an input twice" "sinter run: --input x is given twice" run -- \
    "$SINTER" run "$TMP/ident.json" --interp --input x="$TMP/x23.npy" --input x="$TMP/x23.npy"
usage_error "run with an unknown output" "sinter run: --output q: ident has no tensor \"q\" (outputs: y)" run -- \
    "$SINTER" run "$TMP/ident.json" --interp --input x="$TMP/x23.npy" --output q="$TMP/q.npy"

# output into a missing folder: status 1, named
run "$SINTER" run "$TMP/ident.json" --interp --input x="$TMP/x23.npy" --output y="$TMP/no/dir/y.npy"
expect_rc "run --output into a missing folder" 1
expect_contains "run --output into a missing folder names it" "$ERR" "$TMP/no/dir/y.npy: "

# every example runs on random inputs; the MLP's loss needs all training inputs
for m in fmnist_mlp lenet5 resnet_small transformer_encoder; do
    run "$SINTER" run "$EX/$m.json" --interp --random --n 2 --output logits="$TMP/$m.logits.npy"
    expect_rc "run $m --random" 0
    expect_contains "run $m: N" "$OUT" "$m: ran on the reference interpreter with N=2 (from --n)"
    expect_contains "run $m: logits" "$OUT" "logits: f32[2,10]  min "
    expect_contains "run $m: argmax" "$OUT" "  argmax of rows 0..1: "
    expect_contains "run $m: wrote" "$OUT" "wrote logits to $TMP/$m.logits.npy"
    expect_eq "run $m: stderr" "$ERR" ""
done

# labels: loss and accuracy (3 rows, labels 0 0 0)
mknpy "$TMP/y3.npy" '<i8' '(3,)' "$(printf '0%.0s' {1..48})"
run "$SINTER" run "$EX/fmnist_mlp.json" --interp --random --input y="$TMP/y3.npy" --output loss="$TMP/loss.npy"
expect_rc "run fmnist_mlp with labels" 0
expect_contains "run with labels: N from the labels" "$OUT" "with N=3 (from $TMP/y3.npy)"
expect_contains "run with labels: loss" "$OUT" "loss: "
expect_contains "run with labels: accuracy" "$OUT" "accuracy: "
expect_contains "run with labels: accuracy" "$OUT" " of 3 rows ("

# the loss exists only when the labels are given
usage_error "run --output loss without labels" "sinter run: --output loss: the loss is computed only when every training input is given (y); add them with --input NAME=FILE.npy" run -- \
    "$SINTER" run "$EX/fmnist_mlp.json" --interp --random --n 1 --output loss="$TMP/loss.npy"
run "$SINTER" run "$EX/fmnist_mlp.json" --interp --random --input y="$TMP/y3.npy" --output loss="$TMP/loss.npy" --show 0
expect_rc "run --output loss with labels" 0
expect_eq "run --output loss: a float32 scalar file" "$(wc -c <"$TMP/loss.npy")" "$((128 + 4))"

# an intermediate activation can be written too
run "$SINTER" run "$EX/fmnist_mlp.json" --interp --random --n 1 --output a1="$TMP/a1.npy"
expect_rc "run --output of an activation" 0
expect_eq "run --output of an activation: size" "$(wc -c <"$TMP/a1.npy")" "$((128 + 256 * 4))"

# real Fashion-MNIST images when idx2npy and the data set are there
IDX2NPY=$(dirname "$SINTER")/idx2npy
DATA=/usr/share/datasets/fashion-mnist
if [ -x "$IDX2NPY" ] && [ -r "$DATA/t10k-images-idx3-ubyte.gz" ]; then
    "$IDX2NPY" --count 16 "$DATA/t10k-images-idx3-ubyte.gz" "$TMP/img.npy" >/dev/null
    "$IDX2NPY" --count 16 --nchw "$DATA/t10k-images-idx3-ubyte.gz" "$TMP/img4.npy" >/dev/null
    "$IDX2NPY" --count 16 "$DATA/t10k-labels-idx1-ubyte.gz" "$TMP/lab.npy" >/dev/null
    run "$SINTER" run "$EX/fmnist_mlp.json" --interp --input x="$TMP/img.npy" --input y="$TMP/lab.npy"
    expect_rc "run fmnist_mlp on real images" 0
    expect_contains "run fmnist_mlp on real images: N" "$OUT" "with N=16 (from $TMP/img.npy)"
    expect_contains "run fmnist_mlp on real images: accuracy" "$OUT" " of 16 rows ("
    run "$SINTER" run "$EX/lenet5.json" --interp --input x="$TMP/img4.npy"
    expect_rc "run lenet5 on real images" 0
    run "$SINTER" run "$EX/lenet5.json" --interp --input x="$TMP/img.npy"
    expect_rc "run lenet5 on flat images" 1
    expect_eq "run lenet5 on flat images: message" "$ERR" "$TMP/img.npy: input \"x\" is declared f32[N,1,28,28] (rank 4) but the file has shape [16,784] (rank 2)"
fi

finish
