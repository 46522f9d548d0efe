# CLI test: sinter compile --weights, --soname, --strip, objects with headers, two models' objects in one program.
. "$(dirname "$0")/common.bash"

# y = x * w (w = 2 by its init)
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
sed 's/"scale"/"twice"/; s/"value": 2/"value": 3/' "$TMP/scale.json" >"$TMP/twice.json"
mknpy "$TMP/x.npy" '<f4' '(1, 3)' "$F1$F2$F4"

# ---- --weights ------------------------------------------------------------------------------
mksafetensors "$TMP/w.safetensors" w F32 '[3]' "$F1$FM1$F3"
run "$SINTER" compile "$TMP/scale.json" --weights "$TMP/w.safetensors" -o "$TMP/libscale.so"
expect_rc "compile --weights" 0
run "$SINTER" run "$TMP/libscale.so" --input x="$TMP/x.npy"
expect_contains "the params of --weights are compiled in" "$OUT" "values: 1 -2 12"
mksafetensors "$TMP/w4.safetensors" w F32 '[4]' "$F1$FM1$F3$F4"
run "$SINTER" compile "$TMP/scale.json" --weights "$TMP/w4.safetensors" -o "$TMP/libbad.so"
expect_rc "compile --weights: wrong shape" 1
expect_eq "compile --weights: wrong shape: message" "$ERR" \
    "$TMP/w4.safetensors: tensor \"w\" has shape [4] but params[0] \"w\" has shape [3]"
mksafetensors "$TMP/v.safetensors" v F32 '[3]' "$F1$FM1$F3"
run "$SINTER" compile "$TMP/scale.json" --weights "$TMP/v.safetensors" -o "$TMP/libbad.so"
expect_rc "compile --weights: no tensor for a param" 1
expect_eq "compile --weights: no tensor for a param: message" "$ERR" \
    "$TMP/v.safetensors: has no tensor \"w\" for params[0] of the model"
run "$SINTER" compile "$TMP/scale.json" --weights "$TMP/none.safetensors" -o "$TMP/libbad.so"
expect_rc "compile --weights: missing file" 1
expect_contains "compile --weights: missing file: message" "$ERR" "$TMP/none.safetensors: "
expect_eq "compile --weights: nothing written on errors" "$(ls "$TMP" | grep -c libbad)" "0"

# ---- SONAME and --strip ------------------------------------------------------------------------
run "$SINTER" compile "$TMP/scale.json" -o "$TMP/libscale.so"
expect_rc "compile" 0
expect_contains "default SONAME: the file name" "$(readelf -d "$TMP/libscale.so")" "Library soname: [libscale.so]"
run "$SINTER" compile "$TMP/scale.json" -o "$TMP/libscale.so" --soname libscale.so.2 --strip
expect_rc "compile --soname --strip" 0
expect_contains "--soname" "$(readelf -d "$TMP/libscale.so")" "Library soname: [libscale.so.2]"
expect_eq "--strip: no symbol table" "$(readelf -S "$TMP/libscale.so" | grep -c '\.symtab')" "0"
expect_contains "--strip: the ABI is still exported" "$(nm -D --defined-only "$TMP/libscale.so")" " scale_infer"
run "$SINTER" run "$TMP/libscale.so" --input x="$TMP/x.npy"
expect_contains "a stripped library runs" "$OUT" "values: 2 4 8"
usage_error "--strip with an object" "sinter compile: --strip: applies to shared libraries only, not to .o output" \
    compile -- "$SINTER" compile "$TMP/scale.json" -o "$TMP/scale.o" --strip

# ---- --cpu and --features are checked against the target before code is generated -----------------
usage_error "--cpu unknown" "sinter compile: --cpu: \"potato\" is not a CPU of target x86_64-unknown-linux-gnu (e.g. x86-64-v3, skylake, znver3)" \
    compile -- "$SINTER" compile "$TMP/scale.json" -o "$TMP/potato.o" --target x86_64-linux-gnu --cpu potato
usage_error "--cpu of another target" "sinter compile: --cpu: \"skylake\" is not a CPU of target aarch64-unknown-linux-gnu (e.g. generic, neoverse-n1, cortex-a72)" \
    compile -- "$SINTER" compile "$TMP/scale.json" -o "$TMP/potato.o" --target aarch64-linux-gnu --cpu skylake
usage_error "--cpu help" "sinter compile: --cpu: expects a CPU name such as x86-64-v3" \
    compile -- "$SINTER" compile "$TMP/scale.json" -o "$TMP/potato.o" --target x86_64-linux-gnu --cpu help
usage_error "--features unknown" "sinter compile: --features: \"+avx9\" is not a feature of target x86_64-unknown-linux-gnu (e.g. +avx2,+fma,-avx512f)" \
    compile -- "$SINTER" compile "$TMP/scale.json" -o "$TMP/potato.o" --target x86_64-linux-gnu --features +avx2,+avx9
usage_error "--features without a sign" "sinter compile: --features: \"avx2\" is not a feature item: expected +NAME or -NAME, comma-separated (e.g. +avx2,-avx512f)" \
    compile -- "$SINTER" compile "$TMP/scale.json" -o "$TMP/potato.o" --features avx2
usage_error "--features +help" "sinter compile: --features: \"+help\" is not a feature item: expected +NAME or -NAME, comma-separated (e.g. +avx2,-avx512f)" \
    compile -- "$SINTER" compile "$TMP/scale.json" -o "$TMP/potato.o" --features +help
CHECKS=$((CHECKS + 1))
[ -e "$TMP/potato.o" ] && fail "a refused --cpu/--features wrote an output"
run "$SINTER" compile "$TMP/scale.json" -o "$TMP/v3.o" --target x86_64-linux-gnu --cpu x86-64-v3 --features +avx2,-avx512f
expect_rc "a known --cpu and --features" 0
expect_eq "a known --cpu and --features: no LLVM warnings" "$ERR" ""

# ---- objects get headers; two models link into one program ----------------------------------------
mkdir -p "$TMP/obj"
run "$SINTER" compile "$TMP/scale.json" -o "$TMP/obj/scale.o"
expect_rc "compile scale.o" 0
run "$SINTER" compile "$TMP/twice.json" -o "$TMP/obj/twice.o"
expect_rc "compile twice.o" 0
CHECKS=$((CHECKS + 1))
[ -f "$TMP/obj/scale.h" ] && [ -f "$TMP/obj/twice.h" ] || fail "objects come without their headers"
cat >"$TMP/obj/main.c" <<'EOF'
#include <stdio.h>
#include "scale.h"
#include "twice.h"
int main(void)
{
    float x[3] = {1, 2, 4}, y[3], z[3];
    scale *a = scale_create();
    twice *b = twice_create();
    if (!a || !b || scale_infer(a, 1, x, y) || twice_infer(b, 1, x, z))
        return 1;
    printf("%g %g %g / %g %g %g\n", y[0], y[1], y[2], z[0], z[1], z[2]);
    scale_destroy(a);
    twice_destroy(b);
    return 0;
}
EOF
run cc -I "$TMP/obj" "$TMP/obj/main.c" "$TMP/obj/scale.o" "$TMP/obj/twice.o" "$(dirname "$SINTER")/libsinter_rt.a" \
    -fopenmp -lm ${SINTER_TEST_LINK_FLAGS:-} -o "$TMP/obj/main"
expect_rc "link two models' objects and the runtime into one program" 0
run "$TMP/obj/main"
expect_eq "both models run in one program" "$OUT" "2 4 8 / 3 6 12"
finish
