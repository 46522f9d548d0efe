# CLI test: libraries cross-compiled for aarch64 (and riscv64) run under qemu through examples/run_model.c and match the host's outputs.
. "$(dirname "$0")/common.bash"

BUILD=$(cd "$(dirname "$SINTER")" && pwd)
N=3
TOL=1e-5   # |cross - host| <= TOL * max(1, |host|)

# the host's driver and reference outputs
run cc -std=c11 -O2 -I "$SRC" "$EX/run_model.c" "$BUILD/libsinter_rt.a" -fopenmp -lm -ldl -o "$TMP/run_model"
expect_rc "build examples/run_model.c for the host" 0
hex=""
for ((i = 0; i < N; i++)); do hex+=$(printf '%02x00000000000000' $((i * 3 % 10))); done
mknpy "$TMP/y.npy" '<i8' "($N,)" "$hex"
# GEMM, convolution + pooling, attention + LayerNorm + Gelu; resnet_small adds nothing the
# kernels of these lack and doubles the time
MODELS="fmnist_mlp lenet5 transformer_encoder"
GRAD_MODELS="fmnist_mlp lenet5"
mkdir -p "$TMP/host"
for m in $MODELS; do
    run "$SINTER" run "$EX/$m.json" --interp --random --n $N --output x="$TMP/$m.x.npy"
    expect_rc "$m: random input" 0
    run "$SINTER" compile "$EX/$m.json" -o "$TMP/host/lib$m.so"
    expect_rc "$m: compile for the host" 0
    run "$TMP/run_model" "$TMP/host/lib$m.so" "$TMP/$m.x.npy" "$TMP/host/$m.out.npy"
    expect_rc "$m: run on the host" 0
done
for m in $GRAD_MODELS; do
    run "$TMP/run_model" "$TMP/host/lib$m.so" --grad "$TMP/$m.x.npy" "$TMP/y.npy" "$TMP/host/$m.loss.npy" \
        "$TMP/host/$m.grads.npy"
    expect_rc "$m: gradients on the host" 0
done

# cross_check TRIPLE QEMU "MODELS" "GRAD_MODELS": compile, link, run under qemu, compare with the host.
ran=""
cross_check() {
    local tool=$1 qemu=$2 models=$3 grad_models=$4 dir=$TMP/$1 m f
    if ! command -v "$tool-gcc" >/dev/null || ! command -v "$qemu" >/dev/null; then
        echo "cross.sh: $tool-gcc or $qemu missing (Debian: gcc-$tool, qemu-user): $tool not tried" >&2
        return
    fi
    if [ ! -f "$BUILD/sinter-rt/$tool/libsinter_rt.a" ]; then
        fail "$tool: $tool-gcc is installed but this build has no runtime for it ($BUILD/sinter-rt/$tool)"
        return
    fi
    ran+=" $tool"
    mkdir -p "$dir/obj"
    run "$tool-gcc" -std=c11 -O2 -I "$SRC" "$EX/run_model.c" "$BUILD/sinter-rt/$tool/libsinter_rt.a" -fopenmp -lm -ldl \
        -o "$dir/run_model"
    expect_rc "$tool: build examples/run_model.c with the cross runtime" 0
    for m in $models; do
        run "$SINTER" compile "$EX/$m.json" --target "$tool" -o "$dir/lib$m.so" --strip
        expect_rc "$tool: $m: compile a shared library" 0
        run env QEMU_LD_PREFIX="/usr/$tool" "$qemu" "$dir/run_model" "$dir/lib$m.so" "$TMP/$m.x.npy" "$dir/$m.out.npy"
        expect_rc "$tool: $m: run under $qemu" 0
        expect_contains "$tool: $m: the target" "$OUT" "on ${tool%%-*}-unknown-linux-gnu"
        run "$TMP/run_model" --compare "$dir/$m.out.npy" "$TMP/host/$m.out.npy" $TOL
        expect_rc "$tool: $m: outputs equal the host's to $TOL" 0
        echo "cross.sh: $tool: $m: $OUT" >&2
    done
    for m in $grad_models; do
        run env QEMU_LD_PREFIX="/usr/$tool" "$qemu" "$dir/run_model" "$dir/lib$m.so" --grad "$TMP/$m.x.npy" \
            "$TMP/y.npy" "$dir/$m.loss.npy" "$dir/$m.grads.npy"
        expect_rc "$tool: $m: gradients under $qemu" 0
        for f in loss grads; do
            run "$TMP/run_model" --compare "$dir/$m.$f.npy" "$TMP/host/$m.$f.npy" $TOL
            expect_rc "$tool: $m: $f equal the host's to $TOL" 0
            echo "cross.sh: $tool: $m: $f: $OUT" >&2
        done
    done
    expect_contains "$tool: SONAME" "$(readelf -d "$dir/liblenet5.so")" "Library soname: [liblenet5.so]"
    expect_eq "$tool: --strip" "$(readelf -S "$dir/liblenet5.so" | grep -c '\.symtab')" "0"
    # an object: its header, and the cross runtime resolves every srt_* symbol it needs
    run "$SINTER" compile "$EX/fmnist_mlp.json" --target "$tool" -o "$dir/obj/fmnist_mlp.o"
    CHECKS=$((CHECKS + 1))
    [ -f "$dir/obj/fmnist_mlp.h" ] || fail "$tool: a cross-compiled object comes without its header"
    run "$tool-gcc" -shared -fopenmp -o "$dir/obj/libfmnist_mlp.so" "$dir/obj/fmnist_mlp.o" \
        "$BUILD/sinter-rt/$tool/libsinter_rt.a" -lm -Wl,-z,defs
    expect_rc "$tool: link the object with the cross runtime by hand" 0
    run env QEMU_LD_PREFIX="/usr/$tool" "$qemu" "$dir/run_model" "$dir/obj/libfmnist_mlp.so" \
        "$TMP/fmnist_mlp.x.npy" "$dir/obj/out.npy"
    expect_rc "$tool: the hand-linked object runs" 0
    run "$TMP/run_model" --compare "$dir/obj/out.npy" "$TMP/host/fmnist_mlp.out.npy" $TOL
    expect_rc "$tool: the hand-linked object matches the host" 0
}

cross_check aarch64-linux-gnu qemu-aarch64 "$MODELS" "$GRAD_MODELS"
if [ -n "$ran" ]; then
    # NEON: the kernels use vector FMAs on 128-bit registers
    run "$SINTER" compile "$EX/fmnist_mlp.json" --target aarch64-linux-gnu -o "$TMP/mlp-a64.s"
    CHECKS=$((CHECKS + 1))
    [ "$(grep -c 'fmla	v[0-9]*\.4s' "$TMP/mlp-a64.s")" -gt 10 ] || fail "aarch64: no NEON fmla in the MLP's assembly"
fi
# riscv64 (RV64GC, scalar code): one model, the suite's time goes to aarch64. (RVV code,
# --features +v, is not tried: qemu 7.2 of Debian 12 fails an assertion on it.)
cross_check riscv64-linux-gnu qemu-riscv64 "lenet5" "lenet5"

if [ -z "$ran" ]; then
    skip "no cross toolchain with qemu (Debian: gcc-aarch64-linux-gnu qemu-user)"
fi
echo "cross.sh: ran for$ran" >&2
finish
