# CLI test: `sinter run` on compiled code (LIB.so, MODEL.json compiled in memory, --compare) and the C example.
. "$(dirname "$0")/common.bash"

# float32 data bytes of an .npy file written by sinter (header of 128 bytes) as hex
npy_data() {
    tail -c +129 "$1" | od -An -v -tx1 | tr -d ' \n'
}

cat >"$TMP/ident.json" <<'EOF'
{
  "sinter": 1,
  "name": "ident",
  "inputs": [{"name": "x", "dtype": "float32", "shape": ["N", 3]}],
  "outputs": ["y"],
  "nodes": [{"name": "copy", "op": "Identity", "inputs": ["x"], "outputs": ["y"]}]
}
EOF
# y = x * w (w = 2 from its init), z = relu(y); the training section makes y a training input.
cat >"$TMP/scale.json" <<'EOF'
{
  "sinter": 1,
  "name": "scale",
  "inputs": [{"name": "x", "dtype": "float32", "shape": ["N", 3]}],
  "outputs": ["y", "z"],
  "params": [{"name": "w", "dtype": "float32", "shape": [3], "init": {"kind": "constant", "value": 2}}],
  "nodes": [
    {"name": "mul", "op": "Mul", "inputs": ["x", "w"], "outputs": ["y"]},
    {"name": "relu", "op": "Relu", "inputs": ["y"], "outputs": ["z"]}
  ],
  "training": {
    "inputs": [{"name": "t", "dtype": "float32", "shape": ["N", 3]}],
    "loss": {"op": "MSELoss", "inputs": ["z", "t"]},
    "optimizer": {"kind": "sgd", "lr": 0.1}
  }
}
EOF
mknpy "$TMP/x23.npy" '<f4' '(2, 3)' "$F1$F2$F3$FHALF$FM1$F4"

# ---- a model compiled in memory ------------------------------------------------------------
run "$SINTER" run "$TMP/ident.json" --input x="$TMP/x23.npy" --output y="$TMP/y.npy" --threads 1
expect_rc "run ident.json (compiled in memory)" 0
expect_contains "run ident.json: header" "$OUT" "ident: ran native code compiled in memory (-O2, "
expect_contains "run ident.json: N and threads" "$OUT" " s) with N=2 (from $TMP/x23.npy) on 1 thread
y: f32[2,3]  min -1  max 4  mean 1.58333
  values: 1 2 3 0.5 -1 4
  argmax of rows 0..1: 2 2
wrote y to $TMP/y.npy"
expect_eq "run ident.json: stderr" "$ERR" ""
expect_eq "run ident.json: output bytes" "$(npy_data "$TMP/y.npy")" "$F1$F2$F3$FHALF$FM1$F4"
# no file is left behind: neither beside the model nor in TMPDIR
mkdir -p "$TMP/m" "$TMP/tmpdir"
cp "$TMP/ident.json" "$TMP/m/"
run env TMPDIR="$TMP/tmpdir" "$SINTER" run "$TMP/m/ident.json" --random --n 1
expect_rc "run ident.json with its own TMPDIR" 0
expect_eq "run ident.json leaves nothing in TMPDIR" "$(ls -A "$TMP/tmpdir")" ""
expect_eq "run ident.json leaves nothing beside the model" "$(ls -A "$TMP/m")" "ident.json"

run "$SINTER" run "$TMP/scale.json" --input x="$TMP/x23.npy" -O0 --show 3
expect_rc "run scale.json -O0" 0
expect_contains "run scale.json -O0: header" "$OUT" "scale: ran native code compiled in memory (-O0, "
expect_contains "run scale.json: y" "$OUT" "y: f32[2,3]  min -2  max 8  mean 3.16667
  values: 2 4 6 ... (first 3 of 6)"
expect_contains "run scale.json: z" "$OUT" "z: f32[2,3]  min 0  max 8  mean 3.5"

# --compare: both, with differences
run "$SINTER" run "$TMP/scale.json" --input x="$TMP/x23.npy" --compare --show 0
expect_rc "run --compare" 0
expect_eq "run --compare: output" "$(printf '%s\n' "$OUT" | tail -n +2)" "y: f32[2,3]  min -2  max 8  mean 3.16667
  vs interpreter: max abs diff 0, max rel diff 0
z: f32[2,3]  min 0  max 8  mean 3.5
  vs interpreter: max abs diff 0, max rel diff 0"

# every example compiled vs the interpreter on random inputs: close (float sums in another order)
for m in fmnist_mlp lenet5 resnet_small transformer_encoder; do
    run "$SINTER" run "$EX/$m.json" --random --n 3 --compare --show 0 -O1 --threads 2
    expect_rc "run $m --compare" 0
    expect_contains "run $m --compare: header" "$OUT" "$m: ran native code compiled in memory (-O1, "
    diff=$(printf '%s\n' "$OUT" | sed -n 's/^  vs interpreter: max abs diff \([^,]*\),.*/\1/p')
    CHECKS=$((CHECKS + 1))
    awk -v d="$diff" 'BEGIN { exit !(d != "" && d + 0 < 1e-4) }' || fail "$m compiled vs interpreter: max abs diff \"$diff\" (want < 1e-4)"
done

# usage errors of compiled runs
usage_error "run: --output of an activation" "sinter run: --output a1: compiled code returns only the graph outputs (logits); add --interp to write other tensors" run -- \
    "$SINTER" run "$EX/fmnist_mlp.json" --random --output a1="$TMP/a1.npy"
usage_error "run: labels to compiled code" "sinter run: --input t: a training input, which compiled inference does not take; add --interp to compute the loss" run -- \
    "$SINTER" run "$TMP/scale.json" --input x="$TMP/x23.npy" --input t="$TMP/x23.npy"
usage_error "run: --interp --compare" "sinter run: --interp and --compare exclude each other (--compare runs both)" run -- \
    "$SINTER" run "$TMP/scale.json" --interp --compare --random
usage_error "run: --threads with --interp" "sinter run: --threads applies to compiled code; the reference interpreter (--interp) runs the model as written on one thread" run -- \
    "$SINTER" run "$TMP/scale.json" --interp --threads 2 --random
usage_error "run: -O junk" "sinter run: -O expects an optimization level 0..3, got \"4\"" run -- \
    "$SINTER" run "$TMP/scale.json" -O4 --random
usage_error "run: --threads 0" "sinter run: --threads expects a thread count (1 to 4096), got \"0\"" run -- \
    "$SINTER" run "$TMP/scale.json" --threads 0 --random

# a model codegen refuses: the compiler's diagnostic, status 1
cat >"$TMP/bad.json" <<'EOF'
{"sinter": 1, "name": "9lives", "inputs": [{"name": "x", "dtype": "float32", "shape": [2]}],
 "outputs": ["y"], "nodes": [{"op": "Relu", "inputs": ["x"], "outputs": ["y"]}]}
EOF
run "$SINTER" run "$TMP/bad.json" --random
expect_rc "run a model whose name is not a C identifier" 1
expect_contains "run a model whose name is not a C identifier: message" "$ERR" "$TMP/bad.json: "
expect_contains "run a model whose name is not a C identifier: what" "$ERR" "is not a C identifier"

# ---- libraries -------------------------------------------------------------------------------
mkdir -p "$TMP/lib"
run "$SINTER" compile "$TMP/scale.json" -o "$TMP/lib/libscale.so"
expect_rc "compile scale" 0
run "$SINTER" run "$TMP/lib/libscale.so" --input x="$TMP/x23.npy" --output z="$TMP/z.npy" --threads 2 --show 6
expect_rc "run libscale.so" 0
expect_eq "run libscale.so: output" "$OUT" "scale: ran $TMP/lib/libscale.so with N=2 (from $TMP/x23.npy) on 2 threads
y: f32[2,3]  min -2  max 8  mean 3.16667
  values: 2 4 6 1 -2 8
  argmax of rows 0..1: 2 2
z: f32[2,3]  min 0  max 8  mean 3.5
  values: 2 4 6 1 0 8
  argmax of rows 0..1: 2 2
wrote z to $TMP/z.npy"
expect_eq "run libscale.so: z.npy" "$(npy_data "$TMP/z.npy")" "${F2}${F4}0000c040${F1}${F0}00000041"
# a library path without a slash is in the current folder, not on the library path
SINTER_ABS=$(cd "$(dirname "$SINTER")" && pwd)/$(basename "$SINTER")
run bash -c "cd '$TMP/lib' && '$SINTER_ABS' run libscale.so --random --n 1 --show 0"
expect_rc "run libscale.so from its folder" 0
expect_contains "run libscale.so from its folder: header" "$OUT" "scale: ran libscale.so with N=1 (from --n) on "

# the same checks of inputs as the interpreter, against the library's descriptor
mknpy "$TMP/x32.npy" '<f4' '(3, 2)' "$F1$F2$F3$FHALF$FM1$F4"
run "$SINTER" run "$TMP/lib/libscale.so" --input x="$TMP/x32.npy"
expect_rc "run libscale.so with a wrong shape" 1
expect_eq "run libscale.so with a wrong shape: message" "$ERR" "$TMP/x32.npy: input \"x\" is declared f32[N,3] but the file has shape [3,2] (dim 1 is 2, not 3)"
usage_error "run libscale.so with an unknown input" "sinter run: --input q: scale has no input \"q\" (inputs: x; training inputs: (none))" run -- \
    "$SINTER" run "$TMP/lib/libscale.so" --input q="$TMP/x23.npy"
usage_error "run libscale.so with an unknown output" "sinter run: --output q: scale has no tensor \"q\" (outputs: y, z)" run -- \
    "$SINTER" run "$TMP/lib/libscale.so" --random --output q="$TMP/q.npy"
usage_error "run libscale.so --interp" "sinter run: --interp runs a MODEL.json on the reference interpreter; $TMP/lib/libscale.so is compiled code" run -- \
    "$SINTER" run "$TMP/lib/libscale.so" --interp --random
usage_error "run libscale.so --compare" "sinter run: --compare needs the MODEL.json (the interpreter runs the model, not $TMP/lib/libscale.so)" run -- \
    "$SINTER" run "$TMP/lib/libscale.so" --compare --random
usage_error "run libscale.so -O2" "sinter run: -O applies when a MODEL.json is compiled; $TMP/lib/libscale.so is compiled already" run -- \
    "$SINTER" run "$TMP/lib/libscale.so" -O2 --random

# a library is told from a model by its contents (ELF), not its name
cp "$TMP/lib/libscale.so" "$TMP/scale-lib.bin"
run "$SINTER" run "$TMP/scale-lib.bin" --input x="$TMP/x23.npy"
expect_rc "run a library without the .so suffix" 0
expect_contains "run a library without the .so suffix: ran" "$OUT" "scale: ran $TMP/scale-lib.bin with N="
cp "$TMP/scale.json" "$TMP/model.so"
run "$SINTER" run "$TMP/model.so" --interp --input x="$TMP/x23.npy"
expect_rc "run a model named .so" 0

# external weights: --weights loads them, without it a clear error
mkdir -p "$TMP/ext"
run "$SINTER" compile "$TMP/scale.json" -o "$TMP/ext/libscale.so" --external-weights
expect_rc "compile scale --external-weights" 0
run "$SINTER" run "$TMP/ext/libscale.so" --input x="$TMP/x23.npy"
expect_rc "run an external-weights library without --weights" 1
expect_eq "run an external-weights library without --weights: message" "$ERR" "$TMP/ext/libscale.so: the library was built with --external-weights: give its params with --weights FILE.safetensors"
mksafetensors "$TMP/w.safetensors" w F32 '[3]' "$F1$FM1$F3"
run "$SINTER" run "$TMP/ext/libscale.so" --input x="$TMP/x23.npy" --weights "$TMP/w.safetensors" --show 6
expect_rc "run an external-weights library with --weights" 0
expect_contains "run with --weights: y = x * w" "$OUT" "  values: 1 -2 9 0.5 1 12"
mksafetensors "$TMP/w4.safetensors" w F32 '[4]' "$F1$FM1$F3$F4"
run "$SINTER" run "$TMP/ext/libscale.so" --input x="$TMP/x23.npy" --weights "$TMP/w4.safetensors"
expect_rc "run with weights of the wrong shape" 1
expect_eq "run with weights of the wrong shape: message" "$ERR" "$TMP/ext/libscale.so: loading weights: SINTER_EFORMAT: scale_load: $TMP/w4.safetensors: tensor \"w\" has shape [4], the model needs [3]"

# files that are not sinter libraries
printf 'not a library' >"$TMP/junk.so"
run "$SINTER" run "$TMP/junk.so" --random
expect_rc "run a junk .so" 1
expect_contains "run a junk .so: message" "$ERR" "$TMP/junk.so: cannot load the library: "
expect_eq "run a junk .so: one line" "$(printf '%s\n' "$ERR" | wc -l)" "1"
CC=${CC:-cc}
if command -v "$CC" >/dev/null; then
    printf 'int not_sinter(void);\nint not_sinter(void) { return 1; }\n' >"$TMP/other.c"
    "$CC" -shared -fPIC -o "$TMP/libother.so" "$TMP/other.c"
    run "$SINTER" run "$TMP/libother.so" --random
    expect_rc "run a foreign library" 1
    expect_eq "run a foreign library: message" "$ERR" "$TMP/libother.so: not a library made by sinter compile (it has no sinter_model_info)"
    # a descriptor of another version, and a malformed one
    printf '#include <stdint.h>\nconst int64_t sinter_model_info[2] = {99, 16};\n' >"$TMP/v99.c"
    "$CC" -shared -fPIC -o "$TMP/libv99.so" "$TMP/v99.c"
    run "$SINTER" run "$TMP/libv99.so" --random
    expect_rc "run a library of another descriptor version" 1
    expect_eq "run a library of another descriptor version: message" "$ERR" "$TMP/libv99.so: the library's descriptor has version 99, this sinter reads version 2; recompile the model with this sinter"
    printf '#include <stdint.h>\nconst int64_t sinter_model_info[64] = {2, 16};\n' >"$TMP/bad1.c"
    "$CC" -shared -fPIC -o "$TMP/libbad1.so" "$TMP/bad1.c"
    run "$SINTER" run "$TMP/libbad1.so" --random
    expect_rc "run a library with a malformed descriptor" 1
    expect_eq "run a library with a malformed descriptor: message" "$ERR" "$TMP/libbad1.so: the library's sinter_model_info is malformed (a damaged or foreign library); recompile the model with sinter compile"
fi

# ---- the MLP as a library, and the C example on real images -----------------------------------
mkdir -p "$TMP/mlp"
run "$SINTER" compile "$EX/fmnist_mlp.json" -o "$TMP/mlp/libfmnist_mlp.so" -O1
expect_rc "compile fmnist_mlp" 0
run "$SINTER" run "$TMP/mlp/libfmnist_mlp.so" --random --n 3 --output logits="$TMP/lib_logits.npy" --threads 1
expect_rc "run libfmnist_mlp.so" 0
run "$SINTER" run "$EX/fmnist_mlp.json" --interp --random --n 3 --output logits="$TMP/interp_logits.npy"
expect_rc "run fmnist_mlp --interp" 0
expect_eq "libfmnist_mlp.so and the interpreter: same shape" "$(head -c 128 "$TMP/lib_logits.npy" | od -An -c)" "$(head -c 128 "$TMP/interp_logits.npy" | od -An -c)"

DATA=/usr/share/datasets/fashion-mnist
if command -v "$CC" >/dev/null && [ -r "$DATA/t10k-images-idx3-ubyte.gz" ] && [ -f /usr/include/zlib.h ]; then
    # a library from a sanitizer build of sinter links the sanitizer runtimes: so must the program
    SANFLAGS=""
    if ldd "$TMP/mlp/libfmnist_mlp.so" 2>/dev/null | grep -q libasan; then SANFLAGS="-fsanitize=address,undefined"; fi
    run "$CC" -std=c11 -Wall -Wextra -Werror -O2 $SANFLAGS -I "$TMP/mlp" "$SRC/examples/classify_fmnist.c" -L "$TMP/mlp" \
        -lfmnist_mlp -lz -Wl,-rpath,"$TMP/mlp" -o "$TMP/classify_fmnist"
    expect_rc "build examples/classify_fmnist.c with $CC" 0
    run "$TMP/classify_fmnist" --count 16 --threads 1
    expect_rc "classify 16 images" 0
    expect_contains "classify 16 images: header" "$OUT" "classify_fmnist: 16 test images from $DATA (first: 0)"
    expect_eq "classify 16 images: one line per image" "$(printf '%s\n' "$OUT" | grep -c '  predicted ')" "16"
    expect_contains "classify 16 images: the first label is an ankle boot" "$OUT" "     0  predicted "
    expect_contains "classify 16 images: labels" "$(printf '%s\n' "$OUT" | sed -n 4p)" "label Ankle boot  (9)"
    expect_contains "classify 16 images: accuracy" "$OUT" "accuracy: "
    # the predictions are the argmaxes of the library's logits on the same images
    IDX2NPY=$(dirname "$SINTER")/idx2npy
    if [ -x "$IDX2NPY" ]; then
        "$IDX2NPY" --count 16 "$DATA/t10k-images-idx3-ubyte.gz" "$TMP/img16.npy" >/dev/null
        run "$SINTER" run "$TMP/mlp/libfmnist_mlp.so" --input x="$TMP/img16.npy" --show 16
        want=$(printf '%s\n' "$OUT" | sed -n 's/^  argmax of rows 0..15: //p')
        got=$(printf '%s\n' "$("$TMP/classify_fmnist" --count 16)" | sed -n 's/.*  predicted .*(\([0-9]\))  label.*/\1/p' | tr '\n' ' ' | sed 's/ $//')
        expect_eq "sinter run prints 16 argmaxes" "$(printf '%s\n' $want | wc -l)" "16"
        expect_eq "classify_fmnist predicts the argmax of sinter run's logits" "$got" "$want"
    fi
    run "$TMP/classify_fmnist" --weights "$TMP/w.safetensors"
    expect_rc "classify with weights of another model" 1
    expect_contains "classify with weights of another model: message" "$ERR" "classify_fmnist: fmnist_mlp_load: $TMP/w.safetensors: tensor \""
    run "$TMP/classify_fmnist" --count 0
    expect_rc "classify --count 0" 2
fi

finish
