# CLI test: data-parallel training on MPI (`sinter train --mpi`, examples/mpi_train.c) equals single-process training of the same global batch.
. "$(dirname "$0")/common.bash"

BUILD=$(cd "$(dirname "$SINTER")" && pwd)
FMNIST=/usr/share/datasets/fashion-mnist
TOL=1e-4
if ! command -v mpirun >/dev/null || ! command -v mpicc >/dev/null; then
    skip "OpenMPI is not installed (Debian: openmpi-bin libopenmpi-dev)"
fi
if [ ! -f "$FMNIST/train-images-idx3-ubyte.gz" ]; then
    skip "$FMNIST missing (Debian: dataset-fashion-mnist)"
fi
CHECKS=$((CHECKS + 1))
if ! "$SINTER" train --help | grep -q -- '--mpi'; then
    fail "OpenMPI is installed but this sinter was built without it (configure the build again)"
    finish
fi
# mpirun refuses root unless told; several ranks share this machine's cores
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
MPIRUN=(mpirun --oversubscribe)

# The MLP with SGD + momentum: its update is linear in the gradient, so rounding differences of
# the two summation orders stay at rounding level. (Adam divides by the gradient's own scale:
# parameters whose gradients are ~0 amplify them, and after 100 steps single and data-parallel
# runs differ by ~1e-3 in a few such weights, in any framework.)
sed 's/"optimizer": {[^}]*}/"optimizer": {"kind": "sgd", "lr": 0.05, "momentum": 0.9}/' "$EX/fmnist_mlp.json" \
    >"$TMP/fmnist_mlp.json"
mkdir -p "$TMP/lib"
run "$SINTER" compile "$TMP/fmnist_mlp.json" -o "$TMP/lib/libfmnist_mlp.so"
expect_rc "compile the MLP (SGD)" 0
run cc -std=c11 -O2 -I "$SRC" "$EX/run_model.c" "$BUILD/libsinter_rt.a" -fopenmp -lm -ldl -o "$TMP/run_model"
expect_rc "build the comparing tool (examples/run_model.c)" 0
LIB=$TMP/lib/libfmnist_mlp.so

# ---- sinter train --mpi: 100 steps of a global batch of 63 (shares of 32 and 31) ---------------------
TRAIN=(train "$LIB" --data fmnist --limit 6300 --batch 63 --epochs 1 --no-eval --threads 1)
run "$SINTER" "${TRAIN[@]}" --save "$TMP/single.safetensors"
expect_rc "train: one process" 0
run "${MPIRUN[@]}" -np 2 "$SINTER" "${TRAIN[@]}" --mpi --save "$TMP/mpi2.safetensors"
expect_rc "train --mpi: 2 ranks" 0
expect_contains "train --mpi: the plan" "$OUT" "data-parallel on 2 MPI ranks: each takes its contiguous share"
expect_eq "train --mpi: rank 0 alone reports" "$(grep -c '^epoch 1/1: train loss' <<<"$OUT")" "1"
expect_contains "train --mpi: 100 steps" "$OUT" "(step 100); saved params"
run "$TMP/run_model" --compare "$TMP/mpi2.safetensors" "$TMP/single.safetensors" $TOL
expect_rc "train --mpi: 2 ranks give the params of one process (to $TOL)" 0
echo "mpi.sh: sinter train, 2 ranks vs 1 process: $OUT" >&2

# a global batch smaller than the ranks: the third rank has nothing to add in some steps
TRAIN=(train "$LIB" --data fmnist --limit 40 --batch 2 --epochs 1 --no-eval --threads 1)
run "$SINTER" "${TRAIN[@]}" --save "$TMP/single-b2.safetensors"
expect_rc "train: batch 2, one process" 0
run "${MPIRUN[@]}" -np 3 "$SINTER" "${TRAIN[@]}" --mpi --save "$TMP/mpi3-b2.safetensors"
expect_rc "train --mpi: batch 2 on 3 ranks" 0
run "$TMP/run_model" --compare "$TMP/mpi3-b2.safetensors" "$TMP/single-b2.safetensors" $TOL
expect_rc "train --mpi: batch 2 on 3 ranks gives the params of one process" 0

# ---- examples/mpi_train.c: the same through fmnist_mlp_grad / _grads / _apply --------------------------
run "$BUILD/idx2npy" --count 6300 "$FMNIST/train-images-idx3-ubyte.gz" "$TMP/x.npy"
expect_rc "idx2npy images" 0
run "$BUILD/idx2npy" --count 6300 "$FMNIST/train-labels-idx1-ubyte.gz" "$TMP/y.npy"
expect_rc "idx2npy labels" 0
run mpicc -std=c11 -O2 -I "$TMP/lib" -I "$SRC" "$EX/mpi_train.c" -L "$TMP/lib" -lfmnist_mlp "$BUILD/libsinter_rt.a" \
    -fopenmp -lm -Wl,-rpath,"$TMP/lib" -o "$TMP/mpi_train"
expect_rc "build examples/mpi_train.c with mpicc" 0
STEPS=(--batch 63 --steps 100 --threads 1)
run "${MPIRUN[@]}" -np 1 "$TMP/mpi_train" "$TMP/x.npy" "$TMP/y.npy" "${STEPS[@]}" --save "$TMP/ex1.safetensors"
expect_rc "mpi_train: 1 rank" 0
run "${MPIRUN[@]}" -np 2 "$TMP/mpi_train" "$TMP/x.npy" "$TMP/y.npy" "${STEPS[@]}" --save "$TMP/ex2.safetensors"
expect_rc "mpi_train: 2 ranks" 0
expect_contains "mpi_train: the shares" "$OUT" "2 ranks, global batch 63 (this rank: 32 from offset 0)"
expect_contains "mpi_train: saved" "$OUT" "saved $TMP/ex2.safetensors (step 100)"
run "$TMP/run_model" --compare "$TMP/ex2.safetensors" "$TMP/ex1.safetensors" $TOL
expect_rc "mpi_train: 2 ranks give the params of 1 (to $TOL)" 0
echo "mpi.sh: mpi_train, 2 ranks vs 1: $OUT" >&2
finish
