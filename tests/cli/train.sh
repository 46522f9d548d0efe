# CLI test: `sinter train`: usage errors, data errors, and short training runs on synthetic IDX and .npy data.
. "$(dirname "$0")/common.bash"

# be32 N: the 4 big-endian bytes of N as printf escapes.
be32() {
    printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((($1 >> 24) & 255)) $((($1 >> 16) & 255)) $((($1 >> 8) & 255)) $(($1 & 255))
}

# mkidx DIR PREFIX K [IMAGES_ANNOUNCED] [LABELS_ANNOUNCED] [LABEL_OFFSET]: writes DIR/PREFIX-images-idx3-ubyte
# (K "images" of 2x2 pixels from a fixed pseudo-random sequence) and DIR/PREFIX-labels-idx1-ubyte (the
# label of an image is the index of its brightest pixel, plus LABEL_OFFSET), with headers announcing
# IMAGES_ANNOUNCED and LABELS_ANNOUNCED items (default K).
mkidx() {
    local dir=$1 prefix=$2 k=$3 ni=${4:-$3} nl=${5:-$3} off=${6:-0}
    local s=12345 i j px best bv images="" labels=""
    for ((i = 0; i < k; i++)); do
        best=0 bv=-1
        for ((j = 0; j < 4; j++)); do
            s=$(((s * 1103515245 + 12345) % 2147483648))
            px=$(((s >> 16) & 255))
            images+=$(printf '\\x%02x' $px)
            if ((px > bv)); then best=$j bv=$px; fi
        done
        labels+=$(printf '\\x%02x' $((best + off)))
    done
    mkdir -p "$dir"
    printf "\\x00\\x00\\x08\\x03$(be32 "$ni")$(be32 2)$(be32 2)$images" >"$dir/$prefix-images-idx3-ubyte"
    printf "\\x00\\x00\\x08\\x01$(be32 "$nl")$labels" >"$dir/$prefix-labels-idx1-ubyte"
}

# A linear classifier of 2x2 images into 4 classes (which pixel is brightest).
cat >"$TMP/tiny.json" <<'EOF'
{
  "sinter": 1,
  "name": "tiny",
  "seed": 3,
  "inputs": [{"name": "x", "dtype": "float32", "shape": ["N", 4]}],
  "outputs": ["logits"],
  "params": [
    {"name": "w", "dtype": "float32", "shape": [4, 4], "init": {"kind": "kaiming_uniform", "a": 2.2360679}},
    {"name": "b", "dtype": "float32", "shape": [4], "init": {"kind": "zeros"}}
  ],
  "nodes": [{"name": "fc", "op": "Gemm", "inputs": ["x", "w", "b"], "outputs": ["logits"], "attrs": {"transB": 1}}],
  "training": {
    "inputs": [{"name": "y", "dtype": "int64", "shape": ["N"]}],
    "loss": {"op": "SoftmaxCrossEntropyLoss", "inputs": ["logits", "y"]},
    "optimizer": {"kind": "adam", "lr": 0.05}
  }
}
EOF
cat >"$TMP/notrain.json" <<'EOF'
{
  "sinter": 1,
  "name": "notrain",
  "inputs": [{"name": "x", "dtype": "float32", "shape": ["N", 4]}],
  "outputs": ["y"],
  "nodes": [{"name": "relu", "op": "Relu", "inputs": ["x"], "outputs": ["y"]}]
}
EOF
TINY=$TMP/tiny.json
D=$TMP/d
mkidx "$D" train 256
mkidx "$D" t10k 64

# ---- usage errors: exit 2, the exact message and the hint --------------------------------------
usage_error "no model" "sinter train: expects a MODEL.json or LIB.so" train -- "$SINTER" train
usage_error "no --data" "sinter train: expects --data (fmnist, an IDX directory or FILE,FILE)" train -- \
    "$SINTER" train "$TINY" --epochs 1 --batch 8
usage_error "no --epochs" "sinter train: expects --epochs E (passes over the training data)" train -- \
    "$SINTER" train "$TINY" --data "$D" --batch 8
usage_error "no --batch" "sinter train: expects --batch B (examples per training step)" train -- \
    "$SINTER" train "$TINY" --data "$D" --epochs 1
usage_error "negative --epochs" "sinter train: --epochs expects a number of epochs (0 or more), got \"-1\"" train -- \
    "$SINTER" train "$TINY" --data "$D" --epochs -1 --batch 8
usage_error "--batch 0" "sinter train: --batch expects a batch size (1 or more), got \"0\"" train -- \
    "$SINTER" train "$TINY" --data "$D" --epochs 1 --batch 0
usage_error "--lr not a number" "sinter train: --lr expects a learning rate (a number, 0 or more), got \"fast\"" train -- \
    "$SINTER" train "$TINY" --data "$D" --epochs 1 --batch 8 --lr fast
usage_error "--limit 0" "sinter train: --limit expects a number of examples (1 or more), got \"0\"" train -- \
    "$SINTER" train "$TINY" --data "$D" --epochs 1 --batch 8 --limit 0
usage_error "--data without a value" "sinter train: --data expects fmnist, an IDX directory or FILE,FILE (or NAME=FILE,...)" \
    train -- "$SINTER" train "$TINY" --epochs 1 --batch 8 --data
usage_error "misspelt option" "sinter train: unknown option --epoch (did you mean --epochs?)" train -- \
    "$SINTER" train "$TINY" --data "$D" --epoch 1 --batch 8
usage_error "two models" "sinter train: expects one model, got \"$TINY\" and \"other.json\"" train -- \
    "$SINTER" train "$TINY" other.json --data "$D" --epochs 1 --batch 8
usage_error "--data with an empty name" "sinter train: --data expects FILE,FILE or NAME=FILE,NAME=FILE with nothing empty, got \"=a.npy,y=b.npy\"" \
    train -- "$SINTER" train "$TINY" --data =a.npy,y=b.npy --epochs 1 --batch 8
usage_error "--data with an empty part" "sinter train: --data expects FILE,FILE or NAME=FILE,NAME=FILE with nothing empty, got \"a.npy,\"" \
    train -- "$SINTER" train "$TINY" --data a.npy, --epochs 1 --batch 8
usage_error "--data half named" "sinter train: --data name every file (NAME=FILE,...) or none (FILE,... in the model's order), got \"x=a.npy,b.npy\"" \
    train -- "$SINTER" train "$TINY" --data x=a.npy,b.npy --epochs 1 --batch 8
usage_error "--no-eval with --eval-data" "sinter train: --no-eval and --eval-data exclude each other" train -- \
    "$SINTER" train "$TINY" --data "$D" --epochs 1 --batch 8 --no-eval --eval-data "$D"
usage_error "--epochs 0 with --no-eval" "sinter train: --epochs 0 only evaluates (and saves with --save), and --no-eval leaves nothing to do" \
    train -- "$SINTER" train "$TINY" --data "$D" --epochs 0 --no-eval
usage_error "--save not .safetensors" "sinter train: --save expects a .safetensors file, got \"$TMP/ck.bin\"" train -- \
    "$SINTER" train "$TINY" --data "$D" --epochs 1 --batch 8 --save "$TMP/ck.bin"
usage_error "-O for a library" "sinter train: -O applies when a MODEL.json is compiled; libtiny.so is compiled already" \
    train -- "$SINTER" train libtiny.so --data "$D" --epochs 1 --batch 8 -O1

# ---- data errors: exit 1, one line naming the file -----------------------------------------------
# input_error WHAT EXPECTED-STDERR -- CMD...
input_error() {
    local what=$1 msg=$2
    shift 3
    run "$@"
    expect_rc "$what" 1
    expect_eq "$what: message" "$ERR" "$msg"
    expect_eq "$what: nothing on stdout" "$OUT" ""
}
mkdir -p "$TMP/empty"
input_error "IDX directory without the files" "$TMP/empty/train-images-idx3-ubyte.gz: cannot open: No such file or directory (an IDX directory holds train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz)" \
    -- "$SINTER" train "$TINY" --data "$TMP/empty" --epochs 1 --batch 8
input_error "missing .npy file" "$TMP/nope.npy: cannot open: No such file or directory" \
    -- "$SINTER" train "$TINY" --data "x=$TMP/nope.npy,y=$TMP/nope2.npy" --epochs 1 --batch 8
mkidx "$TMP/trunc" train 100 256
input_error "truncated IDX images" "$TMP/trunc/train-images-idx3-ubyte: truncated IDX file: the header announces 256 items of 4 bytes, the data ends after 100 of them" \
    -- "$SINTER" train "$TINY" --data "$TMP/trunc" --epochs 1 --batch 8
mkidx "$TMP/mismatch" train 256 256 255
head -c $((8 + 255)) "$TMP/mismatch/train-labels-idx1-ubyte" >"$TMP/l" && mv "$TMP/l" "$TMP/mismatch/train-labels-idx1-ubyte"
input_error "label count mismatch" "$TMP/mismatch/train-labels-idx1-ubyte: holds 255 examples, but $TMP/mismatch/train-images-idx3-ubyte holds 256 (the files must hold the same examples in the same order)" \
    -- "$SINTER" train "$TINY" --data "$TMP/mismatch" --epochs 1 --batch 8
# the counts of the headers are compared even when --limit reads fewer items
input_error "label count mismatch with --limit" "$TMP/mismatch/train-labels-idx1-ubyte: holds 255 examples, but $TMP/mismatch/train-images-idx3-ubyte holds 256 (the files must hold the same examples in the same order)" \
    -- "$SINTER" train "$TINY" --data "$TMP/mismatch" --epochs 1 --batch 8 --limit 16
echo "not data" >"$TMP/text.npy"
input_error "not a data file" "$TMP/text.npy: not an IDX or .npy file (it starts with bytes 6e 6f 74 20)" \
    -- "$SINTER" train "$TINY" --data "$TMP/text.npy,$D/train-labels-idx1-ubyte" --epochs 1 --batch 8
gzip -c "$D/train-images-idx3-ubyte" | head -c 300 >"$TMP/cut.gz"
input_error "truncated gzip file" "$TMP/cut.gz: truncated gzip data (the file ends inside the compressed stream)" \
    -- "$SINTER" train "$TINY" --data "$TMP/cut.gz,$D/train-labels-idx1-ubyte" --epochs 1 --batch 8
printf '\x00\x00\x0d\x01\x00\x00\x00\x01\x00\x00\x00\x00' >"$TMP/floats.idx"
input_error "IDX of floats" "$TMP/floats.idx: IDX element type 0x0d is not supported (only 0x08, unsigned bytes, as Fashion-MNIST uses)" \
    -- "$SINTER" train "$TINY" --data "$TMP/floats.idx,$D/train-labels-idx1-ubyte" --epochs 1 --batch 8
input_error "model without a training section" "$TMP/notrain.json: the model has no \"training\" section (training inputs, loss and optimizer); sinter train needs one" \
    -- "$SINTER" train "$TMP/notrain.json" --data "$D" --epochs 1 --batch 8
usage_error "--epochs 0 without test data" "sinter train: --epochs 0 only evaluates (and saves with --save), but there is no test data (give --eval-data)" \
    train -- "$SINTER" train "$TINY" --data "$D/train-images-idx3-ubyte,$D/train-labels-idx1-ubyte" --epochs 0

# ---- training -------------------------------------------------------------------------------------
# Does this build generate training steps? (Without them every run below reports it; see the end.)
run "$SINTER" train "$TINY" --data "$D" --epochs 1 --batch 64 --threads 1 --limit 64 --no-eval
if [ "$RC" = 1 ] && [ "$ERR" = "$TINY: this build of sinter compiled the model without training entry points (it cannot generate the training step yet)" ]; then
    echo "train.sh: this build does not generate training steps; the training checks are skipped" >&2
    finish
fi

# one epoch on 256 examples (8 steps of 32) lowers the test loss, and the checkpoint loads
run "$SINTER" train "$TINY" --data "$D" --epochs 1 --batch 32 --threads 1 --save "$TMP/ck.safetensors"
expect_rc "train tiny 1 epoch" 0
expect_contains "train: header" "$OUT" "tiny: compiled in memory (-O2, "
expect_contains "train: data" "$OUT" "training data: 256 examples (train-images-idx3-ubyte, train-labels-idx1-ubyte)
test data: 64 examples (t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte)
1 epoch of 8 steps, batch 32, shuffle seed 0
before training: test accuracy "
expect_contains "train: epoch line" "$OUT" "epoch 1/1: train loss "
expect_contains "train: saved" "$OUT" "trained 1 epoch in "
expect_contains "train: saved" "$OUT" " s (step 8); saved params, optimizer state and step counter to $TMP/ck.safetensors"
# progress without a terminal: one line per tenth of the epoch (8 steps: every step)
expect_contains "train: progress" "$ERR" "epoch 1/1  step 1/8  "
expect_contains "train: progress ends with the last step" "$ERR" "epoch 1/1  step 8/8  "
expect_eq "train: progress lines: steps/s, samples/s, ETA, loss" \
    "$(grep -cE '^epoch 1/1  step [1-8]/8  [0-9.]+ steps/s  [0-9]+ samples/s  ETA [0-9]+:[0-5][0-9]  loss [0-9.]+$' <<<"$ERR")" 8
expect_contains "train: nothing left at the last step" "$ERR" "ETA 0:00  loss"
# samples/s is 32 (the batch) times steps/s
ratio=$(awk '/step 4\/8/ { printf "%.0f", $7 / $5 }' <<<"$ERR")
expect_eq "train: samples/s = batch x steps/s" "$ratio" "32"
expect_contains "train: the epoch line has samples/s" "$OUT" " samples/s, median step "
before=$(sed -n 's/^before training: .*test loss \([0-9.]*\)$/\1/p' <<<"$OUT")
after=$(sed -n 's/^epoch 1\/1: .*test loss \([0-9.]*\)$/\1/p' <<<"$OUT")
CHECKS=$((CHECKS + 1))
if [ -z "$before" ] || [ -z "$after" ] || ! awk -v a="$after" -v b="$before" 'BEGIN { exit !(a < b) }'; then
    fail "one epoch lowers the test loss: before \"$before\", after \"$after\""
fi
CHECKS=$((CHECKS + 1))
[ -s "$TMP/ck.safetensors" ] || fail "the checkpoint was written"

# --epochs 0 --load evaluates the checkpoint: the same numbers as after training
run "$SINTER" train "$TINY" --data "$D" --epochs 0 --load "$TMP/ck.safetensors" --threads 1
expect_rc "evaluate the checkpoint" 0
expect_contains "evaluate the checkpoint: loaded" "$OUT" "loaded $TMP/ck.safetensors (step 8)"
expect_contains "evaluate the checkpoint: same loss" "$OUT" "loaded: test accuracy"
loaded=$(sed -n 's/^loaded: .*test loss \([0-9.]*\)$/\1/p' <<<"$OUT")
expect_eq "the checkpoint evaluates as after training" "$loaded" "$after"

# the checkpoint loads into a compiled library as well (params only are read by inference)
run "$SINTER" run "$TINY" --weights "$TMP/ck.safetensors" --random --n 2 --threads 1
expect_rc "sinter run --weights checkpoint" 0

# 1 epoch, then --load and 1 more, gives exactly the checkpoint of 2 epochs (same thread count)
run "$SINTER" train "$TINY" --data "$D" --epochs 2 --batch 32 --threads 1 --no-eval --save "$TMP/two.safetensors"
expect_rc "train 2 epochs" 0
run "$SINTER" train "$TINY" --data "$D" --epochs 1 --batch 32 --threads 1 --no-eval --load "$TMP/ck.safetensors" \
    --save "$TMP/resumed.safetensors"
expect_rc "train 1 + 1 epochs" 0
CHECKS=$((CHECKS + 1))
cmp -s "$TMP/two.safetensors" "$TMP/resumed.safetensors" || fail "save, load and continue gives the same bytes as 2 epochs"

# .npy data bound by name; --lr, --seed, --drop-last; labels out of range; dtype and size mismatches
mknpy "$TMP/x3.npy" '<f4' '(3, 4)' "$F1$F0$F0$F0$F0$F1$F0$F0$F0$F0$F1$F0"
mknpy "$TMP/y3.npy" '<i8' '(3,)' "000000000000000001000000000000000200000000000000"
mknpy "$TMP/y3bad.npy" '<i8' '(3,)' "000000000000000007000000000000000200000000000000"
mknpy "$TMP/x3d.npy" '<f8' '(3, 1)' "000000000000f03f000000000000f03f000000000000f03f"
mknpy "$TMP/x35.npy" '<f4' '(3, 5)' "$F1$F0$F0$F0$F0$F0$F1$F0$F0$F0$F0$F0$F1$F0$F0"
gzip -c "$TMP/x3.npy" >"$TMP/x3.npy.gz"
run "$SINTER" train "$TINY" --data "y=$TMP/y3.npy,x=$TMP/x3.npy.gz" --epochs 3 --batch 2 --lr 0.01 --seed 7 --drop-last \
    --threads 1
expect_rc "train on .npy by name (one of them gzip-compressed)" 0
expect_contains "train on .npy: plan" "$OUT" "3 epochs of 1 steps, batch 2 (--drop-last: 1 examples left out of each epoch), lr 0.01, shuffle seed 7"
expect_contains "train on .npy: step counter" "$OUT" " s (step 3)"
input_error "label out of range" "$TMP/y3bad.npy: label 7 (example 1) is not a class: tiny's output \"logits\" scores 4 classes, 0 to 3" \
    -- "$SINTER" train "$TINY" --data "x=$TMP/x3.npy,y=$TMP/y3bad.npy" --epochs 1 --batch 2
input_error "float64 data for a float32 input" "$TMP/x3d.npy: input \"x\" is declared f32[N,4], the file holds float64 examples of [1]; convert the data to float32 (sinter does not convert silently)" \
    -- "$SINTER" train "$TINY" --data "x=$TMP/x3d.npy,y=$TMP/y3.npy" --epochs 1 --batch 2
input_error "examples of the wrong size" "$TMP/x35.npy: an example is [5] (5 values) but input \"x\" (declared f32[N,4]) takes 4 per example" \
    -- "$SINTER" train "$TINY" --data "$TMP/x35.npy,$TMP/y3.npy" --epochs 1 --batch 2
input_error "a name the model does not have" "--data z=$TMP/x3.npy: tiny has no input \"z\" (inputs: x; training inputs: y)" \
    -- "$SINTER" train "$TINY" --data "z=$TMP/x3.npy,y=$TMP/y3.npy" --epochs 1 --batch 2
input_error "a tensor without data" "--data has no data for training input \"y\"; add y=FILE to --data" \
    -- "$SINTER" train "$TINY" --data "x=$TMP/x3.npy" --epochs 1 --batch 2
input_error "too few files" "--data gives 1 file but tiny takes 2 tensors (inputs: x; training inputs: y), in this order" \
    -- "$SINTER" train "$TINY" --data "$TMP/x3.npy" --epochs 1 --batch 2

# without test data the run says so; --epochs 0 with --eval-data evaluates only
run "$SINTER" train "$TINY" --data "x=$TMP/x3.npy,y=$TMP/y3.npy" --epochs 1 --batch 3 --threads 1
expect_rc "train without test data" 0
expect_contains "train without test data: note" "$OUT" "no test data: the epochs are not evaluated (--eval-data gives test data)"
run "$SINTER" train "$TINY" --data "x=$TMP/x3.npy,y=$TMP/y3.npy" --eval-data "$TMP/x3.npy,$TMP/y3.npy" --epochs 0 --threads 1
expect_rc "evaluate .npy data" 0
expect_contains "evaluate .npy data: accuracy of 3 examples" "$OUT" "before training: test accuracy "
expect_contains "evaluate .npy data: 3 examples" "$OUT" "/3), test loss "

# a model with a float target is scored by its mean squared error
cat >"$TMP/reg.json" <<'EOF'
{
  "sinter": 1,
  "name": "reg",
  "inputs": [{"name": "x", "dtype": "float32", "shape": ["N", 4]}],
  "outputs": ["y"],
  "params": [{"name": "w", "dtype": "float32", "shape": [4], "init": {"kind": "constant", "value": 0.5}}],
  "nodes": [{"name": "mul", "op": "Mul", "inputs": ["x", "w"], "outputs": ["y"]}],
  "training": {
    "inputs": [{"name": "t", "dtype": "float32", "shape": ["N", 4]}],
    "loss": {"op": "MSELoss", "inputs": ["y", "t"]},
    "optimizer": {"kind": "sgd", "lr": 0.5}
  }
}
EOF
run "$SINTER" train "$TMP/reg.json" --data "$TMP/x3.npy,$TMP/x3.npy" --eval-data "$TMP/x3.npy,$TMP/x3.npy" --epochs 2 \
    --batch 3 --threads 1
expect_rc "train a regression" 0
expect_contains "train a regression: MSE before (w = 0.5: 3 of 12 values off by 0.5)" "$OUT" "before training: test MSE 0.0625 (3 examples)"
expect_contains "train a regression: MSE after 2 steps" "$OUT" "epoch 2/2: train loss "

# Fashion-MNIST itself, when installed: gzip IDX files feeding [N,784] and [N,1,28,28]
FMNIST=${SINTER_FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
if [ -r "$FMNIST/train-images-idx3-ubyte.gz" ] && [ -r "$FMNIST/t10k-labels-idx1-ubyte.gz" ]; then
    run "$SINTER" train "$EX/fmnist_mlp.json" --data fmnist --epochs 1 --batch 32 --limit 256 --threads 1
    expect_rc "train the MLP on 256 Fashion-MNIST images" 0
    expect_contains "train the MLP: data" "$OUT" "training data: 256 examples (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz)
test data: 256 examples (t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz)"
    run "$SINTER" train "$EX/lenet5.json" --data "$FMNIST" --epochs 0 --limit 100 --threads 1
    expect_rc "evaluate LeNet-5 on 100 test images" 0
    expect_contains "evaluate LeNet-5: images as [N,1,28,28]" "$OUT" "before training: test accuracy "
else
    echo "train.sh: $FMNIST has no Fashion-MNIST; those checks are skipped" >&2
fi

# a compiled library trains the same way
run "$SINTER" compile "$TINY" -o "$TMP/libtiny.so"
expect_rc "compile tiny" 0
run "$SINTER" train "$TMP/libtiny.so" --data "$D" --epochs 1 --batch 32 --threads 1 --no-eval
expect_rc "train libtiny.so" 0
expect_contains "train libtiny.so: header" "$OUT" "tiny: $TMP/libtiny.so, 1 thread"
run "$SINTER" compile "$TMP/notrain.json" -o "$TMP/libnotrain.so"
input_error "library without training entry points" "$TMP/libnotrain.so: the library has no training entry points: its model has no \"training\" section (training inputs, loss and optimizer); add one and compile it again" \
    -- "$SINTER" train "$TMP/libnotrain.so" --data "$D" --epochs 1 --batch 8

finish
