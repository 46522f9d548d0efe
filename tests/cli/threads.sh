# CLI test: the default thread count (SINTER_NUM_THREADS, else OMP_NUM_THREADS, else the CPUs of
# the process's affinity mask) as `sinter bench --json` reports it, for a model compiled in
# memory and for a library (the verbs and a library's new contexts share srt_default_threads,
# tested on its own in tests/test_rt_threads.c). No timings are checked.
. "$(dirname "$0")/common.bash"

cat >"$TMP/scale.json" <<'JSON'
{
  "sinter": 1,
  "name": "scale",
  "inputs": [{"name": "x", "dtype": "float32", "shape": ["N", 3]}],
  "outputs": ["y"],
  "params": [{"name": "w", "dtype": "float32", "shape": [3], "init": {"kind": "constant", "value": 2}}],
  "nodes": [{"name": "mul", "op": "Mul", "inputs": ["x", "w"], "outputs": ["y"]}]
}
JSON
run "$SINTER" compile "$TMP/scale.json" -o "$TMP/libscale.so" -O1
expect_rc "compile scale" 0

# threads_of WHAT ENV... -- ARGS...: the "threads" field of `sinter bench ARGS --json` run with env ENV
threads_of() {
    local what=$1
    shift
    local envs=()
    while [ "$1" != "--" ]; do
        envs+=("$1")
        shift
    done
    shift
    run env -u SINTER_NUM_THREADS -u OMP_NUM_THREADS "${envs[@]}" "$SINTER" bench "$@" --iters 1 --warmup 0 --json
    expect_rc "$what" 0
    THREADS=$(printf '%s' "$OUT" | sed -n 's/.*"threads": \([0-9]*\),.*/\1/p')
}

# CPUs of the affinity mask (GNU nproc would also read the OpenMP variables)
CPUS=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)

for m in "$TMP/scale.json" "$TMP/libscale.so"; do
    threads_of "OMP_NUM_THREADS=1 ($m)" OMP_NUM_THREADS=1 -- "$m"
    expect_eq "OMP_NUM_THREADS=1 gives 1 thread ($m)" "$THREADS" "1"
    threads_of "OMP_NUM_THREADS=3,1 ($m)" OMP_NUM_THREADS=3,1 -- "$m"
    expect_eq "OMP_NUM_THREADS=3,1 gives 3 threads ($m)" "$THREADS" "3"
    threads_of "SINTER_NUM_THREADS over OMP_NUM_THREADS ($m)" SINTER_NUM_THREADS=2 OMP_NUM_THREADS=1 -- "$m"
    expect_eq "SINTER_NUM_THREADS=2 OMP_NUM_THREADS=1 gives 2 threads ($m)" "$THREADS" "2"
    threads_of "OMP_NUM_THREADS not a count ($m)" OMP_NUM_THREADS=many -- "$m"
    expect_eq "OMP_NUM_THREADS=many is ignored ($m)" "$THREADS" "$CPUS"
    threads_of "--threads over the variables ($m)" SINTER_NUM_THREADS=2 OMP_NUM_THREADS=2 -- "$m" --threads 1
    expect_eq "--threads 1 decides ($m)" "$THREADS" "1"
    # no variable: the CPUs this process may run on (nproc reads the affinity mask too)
    threads_of "no variable ($m)" -- "$m"
    expect_eq "no variable: the affinity mask's CPUs ($m)" "$THREADS" "$CPUS"
    if command -v taskset >/dev/null && taskset -c 0 true 2>/dev/null; then
        run env -u SINTER_NUM_THREADS -u OMP_NUM_THREADS taskset -c 0 "$SINTER" bench "$m" --iters 1 --warmup 0 --json
        expect_rc "taskset -c 0 ($m)" 0
        expect_contains "taskset -c 0 gives 1 thread ($m)" "$OUT" "\"threads\": 1,"
    fi
done

finish
