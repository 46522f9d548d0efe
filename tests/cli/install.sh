# CLI test: `cmake --install` to a prefix, examples/cmake built against it (find_package + sinter_add_model), pkg-config, libsinter.
. "$(dirname "$0")/common.bash"

BUILD=$(cd "$(dirname "$SINTER")" && pwd)
PREFIX=$TMP/prefix
DATA=/usr/share/datasets/fashion-mnist

run cmake --install "$BUILD" --prefix "$PREFIX"
expect_rc "cmake --install" 0
for f in bin/sinter lib/libsinter.so.0 lib/libsinter_rt.a include/sinter/sinter.h include/sinter/runtime/sinter_model.h \
    lib/cmake/sinter/sinterConfig.cmake lib/cmake/sinter/SinterAddModel.cmake lib/pkgconfig/sinter.pc; do
    CHECKS=$((CHECKS + 1))
    [ -e "$PREFIX/$f" ] || fail "installed: $f missing"
done
# the installed command links against the installed runtime (the build tree's is hidden here)
run env SINTER_RT_ARCHIVE= "$PREFIX/bin/sinter" compile "$EX/fmnist_mlp.json" -o "$TMP/libfmnist_mlp.so"
expect_rc "installed sinter compiles a library" 0
CHECKS=$((CHECKS + 1))
[ -f "$TMP/fmnist_mlp.h" ] || fail "installed sinter: no header beside the library"
# ... and a cross runtime, when the build made one
if [ -f "$BUILD/sinter-rt/aarch64-linux-gnu/libsinter_rt.a" ]; then
    CHECKS=$((CHECKS + 1))
    [ -f "$PREFIX/lib/sinter-rt/aarch64-linux-gnu/libsinter_rt.a" ] || fail "installed: the aarch64 runtime missing"
    run env SINTER_RT_ARCHIVE= "$PREFIX/bin/sinter" compile "$EX/fmnist_mlp.json" --target aarch64-linux-gnu \
        -o "$TMP/libfmnist_mlp-a64.so"
    expect_rc "installed sinter links an aarch64 library with lib/sinter-rt/aarch64-linux-gnu" 0
fi

# ---- pkg-config and libsinter ---------------------------------------------------------------
export PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig
run pkg-config --cflags --libs sinter
expect_rc "pkg-config sinter" 0
expect_contains "pkg-config --libs" "$OUT" "-lsinter"
# shellcheck disable=SC2046
run cc -O1 -o "$TMP/compile_model" "$EX/cmake/compile_model.c" $(pkg-config --cflags --libs sinter) \
    -Wl,-rpath,"$PREFIX/lib"
expect_rc "cc compile_model.c with pkg-config's flags" 0
run "$TMP/compile_model" "$EX/lenet5.json" "$TMP/liblenet5.so" opt_level=1 strip=1 soname=liblenet5.so.1
expect_rc "compile_model lenet5 (libsinter)" 0
expect_contains "compile_model: soname" "$(readelf -d "$TMP/liblenet5.so")" "Library soname: [liblenet5.so.1]"
run "$SINTER" run "$TMP/liblenet5.so" --random --n 2
expect_rc "the library libsinter wrote runs" 0
printf '{"sinter": 1, "name": "bad", "inputs": [{"name": "x", "dtype": "float32", "shape": ["N", 3]}],\n "outputs": ["y"],\n "nodes": [{"op": "Relu", "inputs": ["h"], "outputs": ["y"]}]}\n' >"$TMP/bad.json"
run "$TMP/compile_model" "$TMP/bad.json" "$TMP/libbad.so"
expect_rc "compile_model: a bad model" 1
expect_eq "compile_model: diagnostics returned by libsinter" "$ERR" \
    "$TMP/bad.json: nodes[0].inputs[0]: unknown tensor \"h\""
run "$TMP/compile_model" "$EX/lenet5.json" "$TMP/liblenet5.so" opt_level=9
expect_rc "compile_model: a bad option" 1
expect_eq "compile_model: option diagnostic" "$ERR" "sinter_options_set: opt_level expects 0, 1, 2 or 3, got \"9\""

# ---- examples/cmake: find_package(sinter) + sinter_add_model -----------------------------------
if [ ! -f "$DATA/t10k-images-idx3-ubyte.gz" ]; then
    echo "install.sh: $DATA missing (Debian package dataset-fashion-mnist): examples/cmake not run" >&2
    finish
fi
# trained params to compile into the example (a short run: about 80% right)
run "$SINTER" train "$EX/fmnist_mlp.json" --data fmnist --epochs 1 --batch 64 --limit 6400 --no-eval \
    --save "$TMP/mlp.safetensors" --threads 2
expect_rc "train the MLP for the example" 0
run cmake -S "$EX/cmake" -B "$TMP/example" -DCMAKE_PREFIX_PATH="$PREFIX" -DFMNIST_WEIGHTS="$TMP/mlp.safetensors" \
    -DCMAKE_BUILD_TYPE=Release
expect_rc "configure examples/cmake against the installed package" 0
run cmake --build "$TMP/example"
expect_rc "build examples/cmake" 0
expect_contains "build: the model is compiled" "$OUT" "sinter: compiling model fmnist_mlp"
run "$TMP/example/classify_fmnist" --count 1000 --threads 2
expect_rc "run the example" 0
acc=$(printf '%s\n' "$OUT" | sed -n 's/^accuracy: \([0-9]*\) of 1000.*/\1/p')
CHECKS=$((CHECKS + 1))
[ -n "$acc" ] && [ "$acc" -ge 700 ] || fail "examples/cmake classifies: $acc of 1000 right, expected 700 or more"
# the same predictions as the shared library with the same params
mkdir -p "$TMP/so"
run "$SINTER" compile "$EX/fmnist_mlp.json" -o "$TMP/so/libfmnist_mlp.so"
expect_rc "compile the library" 0
run cc -O1 -I "$TMP/so" "$EX/classify_fmnist.c" -L "$TMP/so" -lfmnist_mlp -lz -Wl,-rpath,"$TMP/so" -o "$TMP/so/classify"
expect_rc "build classify_fmnist against the library" 0
example_out=$("$TMP/example/classify_fmnist" --count 200 | grep -E '^ *[0-9]+  predicted|^accuracy')
run "$TMP/so/classify" --count 200 --weights "$TMP/mlp.safetensors"
expect_eq "examples/cmake (params compiled in) and the .so (params loaded) predict the same" \
    "$(printf '%s\n' "$OUT" | grep -E '^ *[0-9]+  predicted|^accuracy')" "$example_out"
# nothing changed: no recompilation; new weights: the model is compiled again
run cmake --build "$TMP/example"
CHECKS=$((CHECKS + 1))
case "$OUT" in *"sinter: compiling model"*) fail "rebuild without changes compiled the model again" ;; esac
touch "$TMP/mlp.safetensors"
run cmake --build "$TMP/example"
expect_contains "rebuild after the weights changed" "$OUT" "sinter: compiling model fmnist_mlp"
finish
